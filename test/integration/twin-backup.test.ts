/**
 * The twin backup end to end through vmrun-sim (real .vmx folders on QEMU TCG, a real Linux
 * guest committing SQLite transactions continuously): the archived twin disk is read back from
 * the repository and checked with debugfs + sqlite3 (independent oracles), side by side with
 * the crash-consistent copy of the same moment (the frozen disk alone). Then the engine is
 * SIGKILLed at every workflow step and restarted: production runs, nothing is left behind,
 * the repository verifies.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import type { BackupReport } from '../../electron/cli/commands/backup.js';
import type { FrozenState, Hypervisor } from '../../electron/engine/hypervisor/hypervisor.js';
import { VmrunHypervisor } from '../../electron/engine/hypervisor/vmware/vmrun-hypervisor.js';
import { openRepository } from '../../electron/engine/repository/repository.js';
import { TEST_PASSWORD, initTestRepository, openTestRepository } from '../helpers/test-repository.js';
import { journalDir, readJournal } from '../../electron/engine/workflow/job-journal.js';
import { run } from '../harness/guest/exec.js';
import { makeTestVm, type TestVm } from '../harness/guest/make-test-vm.js';
import { inspectDataDisk, readAcks, type DataDiskContents } from '../harness/guest/read-back.js';
import { networkCaptures } from '../harness/vmrun-sim/observe.js';
import { expectTwinBetterThanCrash, repositoryAfterKill } from './twin-helpers.js';
import { newBucket, releaseGateway, s3Gateway } from '../helpers/s3-gateway.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VMRUN = join(ROOT, 'test/harness/vmrun-sim/vmrun');
const WORK = join(ROOT, '.cache/scratch/twin-backup');
const SIM_STATE = join(WORK, 'sim-state');
const VM_NAME = 'Prod VM';

let vm: TestVm;
let vmsDir: string;
/** The clean twin backup of the first test (its data folder, restore point and what its disk holds), reused by the offsite disaster recovery. */
let clean: { dataDir: string; snapshotId: string; twin: DataDiskContents } | undefined;

async function vmrun(...args: string[]): Promise<string> {
  const r = await run(VMRUN, ['-T', 'ws', ...args], { timeoutMs: 180_000, allowFailure: true, env: { ...process.env, VMRUN_SIM_STATE: SIM_STATE } });
  return `${r.stdout}${r.stderr}`;
}

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 120_000, pollMs = 200): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

const serialLog = () => join(vm.dir, `${VM_NAME}.serial0.log`);

async function productionRunning(): Promise<boolean> {
  return (await vmrun('list')).includes(vm.vmxPath);
}

async function ackCount(): Promise<number> {
  return (await readAcks(serialLog())).length;
}

/** Things a backup may leave next to the VM: twin folders, staged suspend states, production snapshots. */
async function leftovers(): Promise<string[]> {
  const out = readdirSync(vmsDir).filter((n) => n.startsWith('.twinsnap-') || n.startsWith('twinsnap-twin-'));
  const snaps = (await vmrun('listSnapshots', vm.vmxPath))
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
  return [...out, ...snaps.map((s) => `snapshot ${s}`)];
}

function engineFor(dataDir: string, hv: Hypervisor): Promise<Engine> {
  return createEngine({ dataDir, hypervisors: [hv], logger: nullLogger });
}

function vmware(): VmrunHypervisor {
  return new VmrunHypervisor({ vmrunPath: VMRUN, vmFolders: [vmsDir], logger: nullLogger, clock: systemClock });
}

beforeAll(async () => {
  process.env.VMRUN_SIM_STATE = SIM_STATE;
  rmSync(WORK, { recursive: true, force: true });
  vmsDir = join(WORK, 'vms');
  mkdirSync(SIM_STATE, { recursive: true });
  vm = await makeTestVm(join(vmsDir, VM_NAME), { name: VM_NAME, diskFormat: 'vmdk-flat' });
  await vmrun('start', vm.vmxPath, 'nogui');
  await waitFor('production tools', async () => (await vmrun('checkToolsState', vm.vmxPath)).includes('running'));
  await waitFor('the workload to commit', async () => (await ackCount()) > 5);
}, 240_000);

afterAll(async () => {
  for (const line of (await vmrun('list')).split('\n').slice(1)) if (line.trim()) await vmrun('stop', line.trim(), 'hard');
});

describe('twin backup through vmrun-sim', () => {
  it('`twinsnap backup --verify` archives a clean twin holding every transaction acknowledged before the freeze; the frozen disk alone is worse', async () => {
    const dataDir = join(WORK, 'data-clean');
    const child = spawn(process.execPath, [join(ROOT, 'bin/twinsnap.mjs'), '--data-dir', dataDir, '--vmrun', VMRUN, '--json', 'backup', VM_NAME, '--verify'], {
      env: { ...process.env, VMRUN_SIM_STATE: SIM_STATE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let exited = false;
    void exit.then(() => (exited = true));

    // Watch the journal: once it records the frozen state, production is suspended (its serial
    // log stops) and the frozen disk is read-only until clean-up. Read both then — the acks are
    // exactly those acknowledged before the freeze; the frozen disk alone is the crash-consistent
    // copy of the same moment.
    let acksBeforeFreeze: number[] | undefined;
    let crash: DataDiskContents | undefined;
    while (!exited && !crash) {
      const dir = journalDir(dataDir);
      const recs = existsSync(dir) ? readdirSync(dir).flatMap((f) => readJournal(join(dir, f))) : [];
      const frozen = recs.find((r) => r.kind === 'fact' && r.step === 'freeze');
      if (frozen && frozen.kind === 'fact') {
        acksBeforeFreeze = await readAcks(serialLog());
        crash = await inspectDataDisk((frozen.data!.frozen as FrozenState).frozenDisks[0]!.path);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await exit, stderr).toBe(0);
    const report = JSON.parse(stdout) as BackupReport;
    console.log(
      `[twin] pause ${report.pauseMs} ms (hypervisor freeze ${report.hypervisorFreezeMs} + resume ${report.hypervisorResumeMs}, engine ${report.engineShareMs} ms); twin boot ${report.twinBootMs} ms, shutdown ${report.twinShutdownMs} ms; archive ${report.bytes.MBps} MB/s; verify ${JSON.stringify(report.verify)}`,
    );
    expect(report).toMatchObject({ status: 'succeeded', consistency: 'clean-twin', verify: { ok: true } });
    expect(Object.keys(report.steps)).toEqual(['preflight', 'freeze', 'copy-config', 'resume', 'boot-twin', 'shutdown-twin', 'archive', 'verify', 'cleanup']);
    expect(report.pauseMs).toBeGreaterThan(0);
    expect(report.bytes.logical).toBe(64 * 1024 * 1024);

    // Read the archive back through the repository: export the snapshot disk, then debugfs + sqlite3.
    const repo = await openRepository(join(dataDir, 'repository'));
    let twin: DataDiskContents;
    try {
      const manifest = await repo.readManifest(report.snapshotId!);
      expect(manifest.consistency).toBe('clean-twin');
      expect(manifest.log.find((l) => l.startsWith('metrics {'))).toMatch(/"pauseMs":[\d.]+.*"engineShareMs"/);
      expect(manifest.log.find((l) => l.startsWith('archive {'))).toMatch(/"MBps":/);
      const raw = join(WORK, 'twin-archived.raw');
      rmSync(raw, { force: true });
      await repo.exportDisk(report.snapshotId!, manifest.disks[0]!.name, { format: 'raw', to: raw });
      twin = await inspectDataDisk(raw);
      expect((await repo.verify({ full: true })).ok).toBe(true);
    } finally {
      await repo.close();
    }

    expectTwinBetterThanCrash('twin', 'the freeze', 'frozen disk alone', acksBeforeFreeze, twin, crash);

    expect(await productionRunning()).toBe(true);
    expect(await leftovers()).toEqual([]);
    const before = await ackCount();
    await waitFor('production to keep committing', async () => (await ackCount()) > before + 2, 60_000);

    // The boot verification is part of the snapshot, not only of the job log: in its manifest,
    // in the catalog row the UI lists (bootVerify), and it survives `twinsnap catalog rebuild`.
    const expected = { ok: true, method: 'guest-tools', hypervisor: 'vmware', bootMs: expect.any(Number), at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) };
    const repo2 = await openRepository(join(dataDir, 'repository'));
    try {
      expect((await repo2.readManifest(report.snapshotId!)).bootVerify).toMatchObject(expected);
      expect((await repo2.verify({ full: false })).ok).toBe(true);
    } finally {
      await repo2.close();
    }
    const cli = async (...args: string[]) => {
      const r = await run(process.execPath, [join(ROOT, 'bin/twinsnap.mjs'), '--data-dir', dataDir, '--vmrun', VMRUN, '--json', ...args], {
        env: { ...process.env, VMRUN_SIM_STATE: SIM_STATE },
        timeoutMs: 120_000,
      });
      return JSON.parse(r.stdout) as unknown;
    };
    type Listed = { id: string; bootVerify?: Record<string, unknown> }[];
    const listed = (await cli('snapshots')) as Listed;
    expect(listed.find((x) => x.id === report.snapshotId)?.bootVerify).toMatchObject(expected);
    // the catalog file itself, read with the sqlite3 shell (independent of the engine's queries)
    const row = await run('sqlite3', [join(dataDir, 'catalog.sqlite'), `SELECT boot_verify_ok, json_extract(boot_verify_json, '$.method') FROM snapshots WHERE id = '${report.snapshotId}'`]);
    expect(row.stdout.trim()).toBe('1|guest-tools');
    expect(await cli('catalog', 'rebuild')).toEqual({ snapshots: 1 });
    const rebuilt = (await cli('snapshots')) as Listed;
    expect(rebuilt.find((x) => x.id === report.snapshotId)?.bootVerify).toMatchObject(expected);
    console.log(`[twin] boot verification recorded: ${JSON.stringify(rebuilt[0]?.bootVerify)}`);
    clean = { dataDir, snapshotId: report.snapshotId!, twin };
  }, 300_000);

  it('disaster recovery: copied offsite, the data folder gone, a new install restores the whole VM from the bucket alone (CLI and the app) and it boots with its ledger', async () => {
    expect(clean, 'the clean twin backup above').toBeDefined();
    const { dataDir, snapshotId, twin } = clean!;
    const gw = await s3Gateway();
    try {
      const keys = { AWS_ACCESS_KEY_ID: gw.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: gw.AWS_SECRET_ACCESS_KEY };
      const to = `s3://${await newBucket(gw, 'twin-dr')}/office`;
      const twinsnap = (dir: string, ...args: string[]) =>
        run(process.execPath, [join(ROOT, 'bin/twinsnap.mjs'), '--data-dir', dir, '--s3-endpoint', gw.TWINSNAP_S3_ENDPOINT, ...args], { env: { ...process.env, ...keys }, timeoutMs: 180_000 });
      await twinsnap(dataDir, 'offsite', 'copy', '--to', to);
      rmSync(dataDir, { recursive: true, force: true }); // the office is gone: repository, catalog, settings

      // the command line of a new install: `restore --repo s3://…`
      const cliTo = join(WORK, 'dr-cli');
      rmSync(cliTo, { recursive: true, force: true });
      await twinsnap(join(WORK, 'dr-cli-data'), '--repo', to, 'restore', snapshotId, '--to', cliTo, '--name', 'Prod VM cli');
      const cliDisk = readdirSync(cliTo).find((f) => f.endsWith('.vmdk') && !f.includes('-flat'))!;
      expect(await inspectDataDisk(join(cliTo, cliDisk))).toMatchObject({ dbPresent: true, integrity: 'ok', count: twin.count, maxN: twin.maxN });

      // the app of a new install: the offsite destination entered, restore.start from it, the VM started
      const appData = join(WORK, 'dr-app-data');
      rmSync(appData, { recursive: true, force: true });
      const engine = await engineFor(appData, vmware());
      try {
        await engine.service.call('offsite.configure', {
          destination: { to, endpoint: gw.TWINSNAP_S3_ENDPOINT, region: 'us-east-1', pathStyle: true, accessKeyId: gw.AWS_ACCESS_KEY_ID, secretAccessKey: gw.AWS_SECRET_ACCESS_KEY },
        });
        expect((await engine.service.call('snapshots.list', { source: 'offsite' })).map((x) => x.id)).toEqual([snapshotId]);
        const appTo = join(WORK, 'dr-app-vm');
        // The wizard's network step reads the point's hypervisor from the offsite copy as well.
        expect(await engine.service.call('restore.networks', { snapshotId, source: 'offsite' })).toMatchObject({ hypervisor: 'vmware' });
        const { jobId } = await engine.service.call('restore.start', { snapshotId, mode: 'new-vm', to: appTo, newName: 'Prod VM offsite', source: 'offsite' });
        await waitFor('the restore job', async () => (await engine.service.call('jobs.get', { jobId })).status !== 'running');
        expect(await engine.service.call('jobs.get', { jobId })).toMatchObject({ status: 'succeeded', kind: 'restore' });
        const appDisk = readdirSync(appTo).find((f) => f.endsWith('.vmdk') && !f.includes('-flat'))!;
        // the restore point's rows, intact (debugfs + sqlite3 on the restored disk)
        expect(await inspectDataDisk(join(appTo, appDisk))).toMatchObject({ dbPresent: true, integrity: 'ok', count: twin.count, maxN: twin.maxN });
        const vmx = join(appTo, 'Prod VM offsite.vmx');
        await expect(engine.service.call('restore.startVm', { to: appTo })).resolves.toMatchObject({ vmId: vmx, name: 'Prod VM offsite' });
        // it boots and its workload goes on from the restored database: the first transaction it commits is the one after the restore point's last
        const log = join(appTo, 'Prod VM offsite.serial0.log');
        await waitFor('the restored guest to commit', async () => (await readAcks(log)).length > 0, 120_000);
        expect((await readAcks(log))[0]).toBe(twin.maxN + 1);
        await vmrun('stop', vmx, 'hard');
      } finally {
        await engine.close();
      }
    } finally {
      await releaseGateway();
    }
  }, 300_000);
});

/** The JSON lines vmrun-sim appends to VMRUN_SIM_TIMINGS. */
function simRecords(file: string): { op: string; vmx?: string; sha256?: string; dir?: string; recreated?: boolean }[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { op: string })
    : [];
}

describe("the full backup under vmrun-sim's pessimistic switches", () => {
  it('resumed links restored, production writing its .vmem, tools refusing soft stop (3009), lingering locks: clean twin, never on the office lan, resumed from the memory captured at the freeze, nothing left', async () => {
    const dataDir = join(WORK, 'data-pessimistic');
    const records = join(WORK, 'sim-records.jsonl');
    rmSync(records, { force: true });
    const vmem = join(vm.dir, `${VM_NAME}.vmem`);
    const inode = statSync(vmem).ino;
    // this run archives into an encrypted repository (the other twin runs use plain ones)
    await initTestRepository(join(dataDir, 'repository'), 'encrypted').then((r) => r.close());
    const env = {
      ...process.env,
      TWINSNAP_PASSWORD: TEST_PASSWORD,
      VMRUN_SIM_STATE: SIM_STATE,
      VMRUN_SIM_TIMINGS: records,
      VMRUN_SIM_RESUME_RESTORES_LINKS: '1',
      VMRUN_SIM_VMEM_HASH: '1',
      VMRUN_SIM_TOOLS_WARMUP_MS: '8000',
      VMRUN_SIM_LOCK_LINGER_MS: '3000',
    };
    const r = await run(process.execPath, [join(ROOT, 'bin/twinsnap.mjs'), '--data-dir', dataDir, '--vmrun', VMRUN, '--json', 'backup', VM_NAME], { env, timeoutMs: 240_000, allowFailure: true });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as BackupReport;
    expect(report).toMatchObject({ status: 'succeeded', consistency: 'clean-twin' });

    const isTwin = (p?: string) => !!p && /[\\/]twinsnap-twin-[^\\/]+[\\/]twin\.vmx$/.test(p);
    // the lingering lock of the twin is released by the simulator after the backup returned
    await waitFor("the twin's lock to be released", () => simRecords(records).some((x) => x.op === 'lock-released' && isTwin(x.dir?.replace(/\.lck$/, ''))), 20_000);
    const recs = simRecords(records);
    // memory: the twin resumed from exactly the memory production had at the freeze, while
    // production went on writing guest memory into its own .vmem (same inode)
    const atFreeze = recs.filter((x) => x.op === 'vmem-suspended' && x.vmx === vm.vmxPath).at(-1)?.sha256;
    const twinResumed = recs.filter((x) => x.op === 'vmem-resumed' && isTwin(x.vmx));
    expect(atFreeze).toMatch(/^[0-9a-f]{64}$/);
    expect(twinResumed.map((x) => x.sha256)).toEqual([atFreeze]);
    expect(statSync(vmem).ino).toBe(inode);
    const h = createHash('sha256');
    for await (const c of createReadStream(vmem)) h.update(c as Buffer);
    expect(h.digest('hex')).not.toBe(atFreeze);
    // tools: soft stop was refused (3009) at least once, and retried to a clean shutdown
    expect(recs.some((x) => x.op === 'soft-stop-refused' && isTwin(x.vmx))).toBe(true);
    // locks: the twin folder was deleted only once unlocked (a lock deleted early would be recreated)
    expect(recs.filter((x) => x.op === 'lock-released' && isTwin(x.dir?.replace(/\.lck$/, ''))).map((x) => x.recreated)).toEqual([false]);
    // network: the twin's link came back up on resume and it sent packets — only onto its own segment
    const twinCaps = networkCaptures(SIM_STATE).filter((c) => c.who.startsWith('twinsnap-twin-'));
    expect(twinCaps.length).toBeGreaterThan(0);
    expect(twinCaps.filter((c) => !c.network.startsWith('pvn-'))).toEqual([]);
    expect(twinCaps.reduce((n, c) => n + c.frames, 0)).toBeGreaterThan(0);
    const office = networkCaptures(SIM_STATE).filter((c) => c.network === 'nat');
    expect(office.reduce((n, c) => n + c.frames, 0)).toBeGreaterThan(0); // production is on it, and seen
    console.log(
      `[pessimistic] twin frames on its own segment: ${twinCaps.reduce((n, c) => n + c.frames, 0)}; on the office lan: 0 of ${office.reduce((n, c) => n + c.frames, 0)}; pause ${report.pauseMs} ms`,
    );

    // the encrypted repository: the twin's archive restores whole and its database is healthy,
    // verify --full passes, and the guest's name (in its manifest and .vmx) is in none of its files
    const repo = await openTestRepository(join(dataDir, 'repository'));
    try {
      const m = await repo.readManifest(report.snapshotId!);
      const to = join(WORK, 'restored-encrypted');
      rmSync(to, { recursive: true, force: true });
      await repo.restoreSnapshot(report.snapshotId!, { to, format: 'raw' });
      const restored = await inspectDataDisk(join(to, `${m.disks[0]!.fileName.replace(/\.[^.]*$/, '')}.img`));
      expect(restored).toMatchObject({ dbPresent: true, integrity: 'ok' });
      expect(restored.count).toBeGreaterThan(0);
      expect((await repo.verify({ full: true })).ok).toBe(true);
      const files = readdirSync(join(dataDir, 'repository'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
      expect(files.filter((f) => readFileSync(join(f.parentPath, f.name)).includes(VM_NAME)).map((f) => f.name)).toEqual([]);
    } finally {
      await repo.close();
    }

    expect(await productionRunning()).toBe(true);
    expect(await leftovers()).toEqual([]);
    const before = await ackCount();
    await waitFor('production to keep committing', async () => (await ackCount()) > before + 2, 60_000);
  }, 300_000);

  it('a suspend that suspends and then fails: the job fails with the reason, production runs, nothing left', async () => {
    const dataDir = join(WORK, 'data-suspend-fails');
    const env = { ...process.env, VMRUN_SIM_STATE: SIM_STATE, VMRUN_SIM_SUSPEND_THEN: 'fail' };
    const r = await run(process.execPath, [join(ROOT, 'bin/twinsnap.mjs'), '--data-dir', dataDir, '--vmrun', VMRUN, '--json', 'backup', VM_NAME], { env, timeoutMs: 180_000, allowFailure: true });
    expect(r.code).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toMatch(/unable to suspend vm 'Prod VM'.*cancell?ed/i);
    expect(await productionRunning()).toBe(true);
    expect(await leftovers()).toEqual([]);
    const before = await ackCount();
    await waitFor('production to keep committing', async () => (await ackCount()) > before + 2, 60_000);
  }, 240_000);
});

describe('recovery of a freeze or twin build killed right after making a folder', () => {
  it("removes the empty (or torn-marker) twin folder of this vm's backup snapshot and an abandoned staging folder, and leaves other folders alone", async () => {
    const hv = vmware();
    const frozen = await hv.freeze(await hv.getVm(vm.vmxPath));
    await hv.resume(frozen);
    // as in a backup, production runs for a while before anything is cleaned up
    const acks = await ackCount();
    await waitFor('production to commit again', async () => (await ackCount()) > acks + 2, 60_000);
    const mine = join(vmsDir, `twinsnap-twin-${frozen.handle}`);
    mkdirSync(mine);
    writeFileSync(join(mine, '.twinsnap-twin'), vm.vmxPath.slice(0, 7)); // torn marker
    const other = join(vmsDir, 'twinsnap-twin-twinsnap-someone-else');
    mkdirSync(other);
    // a staging folder whose making was killed (its process is gone), and one still being made
    const deadPid = spawnSync('true').pid!;
    const abandoned = join(vmsDir, `.twinsnap-twinsnap-x1.tmp-${deadPid}`);
    mkdirSync(abandoned);
    writeFileSync(join(abandoned, 'vm-id'), vm.vmxPath.slice(0, 3));
    const inProgress = join(vmsDir, `.twinsnap-twinsnap-x2.tmp-${process.pid}`);
    mkdirSync(inProgress);
    try {
      await hv.recover({ vmId: vm.vmxPath }); // nothing journaled: found by the snapshot's name
      expect(existsSync(mine)).toBe(false);
      expect(existsSync(abandoned)).toBe(false);
      expect(existsSync(other)).toBe(true);
      expect(existsSync(inProgress)).toBe(true);
    } finally {
      rmSync(other, { recursive: true, force: true });
      rmSync(inProgress, { recursive: true, force: true });
    }
    expect(await leftovers()).toEqual([]);
    expect(await productionRunning()).toBe(true);
  }, 120_000);
});

/** Where to SIGKILL the engine: the first journal record that shows the job has reached the step. */
const KILL_POINTS: { step: string; reached: (r: ReturnType<typeof readJournal>[number]) => boolean }[] = [
  { step: 'preflight', reached: (r) => r.kind === 'begin' },
  { step: 'freeze', reached: (r) => r.kind === 'intent' && r.step === 'freeze' },
  { step: 'copy-config', reached: (r) => r.kind === 'fact' && r.step === 'freeze' },
  { step: 'resume', reached: (r) => r.kind === 'fact' && r.step === 'copy-config' },
  { step: 'boot-twin', reached: (r) => r.kind === 'intent' && r.step === 'boot-twin' },
  { step: 'shutdown-twin', reached: (r) => r.kind === 'intent' && r.step === 'shutdown-twin' },
  { step: 'archive', reached: (r) => r.kind === 'intent' && r.step === 'archive' },
  { step: 'cleanup', reached: (r) => r.kind === 'intent' && r.step === 'cleanup' },
];

const seenJournals = new Set<string>();

/** Runs `twinsnap backup` in a child process and SIGKILLs it once the journal shows `reached`. */
async function backupKilledAt(dataDir: string, reached: (typeof KILL_POINTS)[number]['reached']): Promise<{ killed: boolean; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/twinsnap.mjs'), '--data-dir', dataDir, '--vmrun', VMRUN, '--json', 'backup', VM_NAME], {
    env: { ...process.env, VMRUN_SIM_STATE: SIM_STATE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let killed = false;
  let done = false;
  void exited.then(() => (done = true));
  const dir = journalDir(dataDir);
  while (!done) {
    const files = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.journal.jsonl')) : [];
    const fresh = files.filter((f) => !seenJournals.has(f));
    if (fresh.some((f) => readJournal(join(dir, f)).some(reached))) {
      child.kill('SIGKILL');
      killed = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await exited;
  for (const f of existsSync(dir) ? readdirSync(dir) : []) seenJournals.add(f);
  return { killed, stderr };
}

/** Removes whatever a failed case left, so one failure does not cascade into the next cases. */
async function scrub(): Promise<void> {
  for (const line of (await vmrun('list')).split('\n')) if (line.includes('.vmx') && line.trim() !== vm.vmxPath) await vmrun('stop', line.trim(), 'hard');
  for (const l of await leftovers()) {
    if (l.startsWith('snapshot ')) await vmrun('deleteSnapshot', vm.vmxPath, l.slice(9));
    else rmSync(join(vmsDir, l), { recursive: true, force: true });
  }
}

describe('SIGKILL of the engine at every workflow step, then restart', () => {
  const dataDir = join(WORK, 'data-kill');
  afterEach(scrub);

  it.each(KILL_POINTS.map((k) => [k.step, k] as const))(
    'killed during %s: after restart production runs, nothing is left behind, the repository verifies',
    async (_step, point) => {
      const { killed, stderr } = await backupKilledAt(dataDir, point.reached);
      expect(killed, `the backup ended before reaching the step: ${stderr}`).toBe(true);
      // Let vmrun calls the killed engine had started finish, as they would on a real host.
      await new Promise((r) => setTimeout(r, 1500));

      const engine = await engineFor(dataDir, vmware());
      try {
        const { ready } = engine.context.jobs;
        await ready;
        const jobs = await engine.service.call('jobs.list', {});
        const job = jobs[0]!;
        expect(['failed', 'warning']).toContain(job.status);
        expect(job.error?.message).toMatch(/^interrupted/);
        expect(readdirSync(journalDir(dataDir)).every((f) => readJournal(join(journalDir(dataDir), f)).some((r) => r.kind === 'end'))).toBe(true);

        expect(await productionRunning()).toBe(true);
        expect((await vmrun('list')).split('\n').filter((l) => l.includes('.vmx'))).toEqual([vm.vmxPath]);
        expect(await leftovers()).toEqual([]);
        // A snapshot exists only if the job had committed it before the kill.
        const stored = await repositoryAfterKill(engine.context.config().repository, () => engine.context.store.repository(), job.id);
        if (job.status === 'failed' && stored !== undefined) expect(stored).toBe(0);
        const before = await ackCount();
        await waitFor('production to keep committing', async () => (await ackCount()) > before + 1, 60_000);
      } finally {
        await engine.close();
      }
    },
    120_000,
  );
});

/**
 * The VMware adapter against vmrun-sim's pessimistic switches (test/harness/README.md), one
 * switch at a time, each asserting that the switch's behaviour really happened and that the
 * adapter still keeps its promises: production never left suspended, the twin never on a shared
 * network, the twin's memory image the one captured at the freeze, nothing left behind.
 * One production VM (128 MiB, SQLite workload) for the whole file.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { isAppError } from '../../shared/errors/app-error.js';
import { VmrunHypervisor } from '../../electron/engine/hypervisor/vmware/vmrun-hypervisor.js';
import { VmxFile } from '../../electron/engine/hypervisor/vmware/vmx-file.js';
import { makeTestVm } from '../harness/guest/make-test-vm.js';
import { readAcks } from '../harness/guest/read-back.js';
import { captureWho, loggedMemoryHashes, networkCaptures } from '../harness/vmrun-sim/observe.js';
import { waitFor } from './twin-helpers.js';

const VMRUN = resolve(import.meta.dirname, '../harness/vmrun-sim/vmrun');
const exec = promisify(execFile);
const SWITCHES = [
  'VMRUN_SIM_SUSPEND_THEN',
  'VMRUN_SIM_SUSPEND_HANG_MS',
  'VMRUN_SIM_SUSPEND_SLOW_MS',
  'VMRUN_SIM_RESUME_RESTORES_LINKS',
  'VMRUN_SIM_RESUME_KEEPS_BACKING',
  'VMRUN_SIM_TOOLS_WARMUP_MS',
  'VMRUN_SIM_LOCK_LINGER_MS',
  'VMRUN_SIM_VMEM_HASH',
];

let root: string;
let vmsDir: string;
let simState: string;
let vmx: string;

async function vmrun(...args: string[]): Promise<string> {
  const r = await exec(VMRUN, ['-T', 'ws', ...args], { encoding: 'utf8' }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return r.stdout;
}
const listed = async () =>
  (await vmrun('list'))
    .split('\n')
    .map((l) => l.trim())
    .includes(vmx);
const acks = async () => (await readAcks(join(dirname(vmx), 'Prod.serial0.log'))).length;
async function productionCommits(): Promise<void> {
  expect(await listed()).toBe(true);
  const before = await acks();
  await waitFor('production to commit again', async () => (await acks()) > before + 1, 60_000);
}
/** Every vmware*.log of a folder (Workstation rotates them at each power-on). */
function vmLogs(folder: string): string {
  return readdirSync(folder)
    .filter((f) => /^vmware(-\d+)?\.log$/.test(f))
    .map((f) => readFileSync(join(folder, f), 'utf8'))
    .join('\n');
}
function leftovers(): string[] {
  return readdirSync(vmsDir).filter((f) => f.startsWith('.twinsnap-') || f.startsWith('twinsnap-twin-'));
}
async function snapshots(): Promise<string[]> {
  return (await vmrun('listSnapshots', vmx))
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
}
async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}
function hv(timeouts: ConstructorParameters<typeof VmrunHypervisor>[0]['timeouts'] = {}): VmrunHypervisor {
  return new VmrunHypervisor({ vmrunPath: VMRUN, vmFolders: [vmsDir], logger: nullLogger, clock: systemClock, inventory: { inventoryFiles: [], preferencesFiles: [] }, timeouts });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'twinsnap-vmpess-'));
  simState = join(root, 'sim-state');
  process.env.VMRUN_SIM_STATE = simState;
  vmsDir = join(root, 'vms');
  vmx = (await makeTestVm(join(vmsDir, 'Prod'), { name: 'Prod', memMiB: 128, diskMiB: 32 })).vmxPath;
  await vmrun('start', vmx, 'nogui');
  await waitFor('production tools', async () => (await vmrun('checkToolsState', vmx)).includes('running'), 120_000);
  await waitFor('the workload', async () => (await acks()) > 2, 60_000);
}, 240_000);

/** One case's failure must not cascade: production running again, no twin, no leftovers. */
afterEach(async () => {
  for (const k of SWITCHES) delete process.env[k];
  for (const line of (await vmrun('list')).split('\n').slice(1)) if (line.trim() && line.trim() !== vmx) await vmrun('stop', line.trim(), 'hard');
  if (!(await listed())) await vmrun('start', vmx, 'nogui');
  for (const s of await snapshots()) await vmrun('deleteSnapshot', vmx, s);
  for (const l of leftovers()) rmSync(join(vmsDir, l), { recursive: true, force: true });
}, 120_000);

afterAll(async () => {
  for (const line of (await vmrun('list')).split('\n').slice(1)) if (line.trim()) await vmrun('stop', line.trim(), 'hard');
  rmSync(root, { recursive: true, force: true });
});

describe('vmware adapter under vmrun-sim pessimistic switches', () => {
  it('(e) a suspend that suspends and then fails: freeze rejects and production runs again, nothing left', async () => {
    process.env.VMRUN_SIM_SUSPEND_THEN = 'fail';
    const h = hv({ settle: 2000 });
    const err = await h.freeze(await h.getVm(vmx)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAppError(err, 'HV_COMMAND_FAILED'), String(err)).toBe(true);
    expect(vmLogs(dirname(vmx))).toMatch(/suspended, then reporting failure/);
    await productionCommits();
    expect(leftovers()).toEqual([]);
    expect(await snapshots()).toEqual([]);
  }, 120_000);

  it('(e) a suspend that suspends and then hangs: the call times out, production runs again', async () => {
    process.env.VMRUN_SIM_SUSPEND_THEN = 'hang';
    process.env.VMRUN_SIM_SUSPEND_HANG_MS = '15000';
    const h = hv({ suspend: 5000, settle: 2000 });
    const err = await h.freeze(await h.getVm(vmx)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAppError(err, 'HV_COMMAND_TIMEOUT'), String(err)).toBe(true);
    await productionCommits();
    expect(leftovers()).toEqual([]);
  }, 120_000);

  it('recovery starts a production vm whose suspend was still under way when it looked (listed, then suspended)', async () => {
    process.env.VMRUN_SIM_SUSPEND_SLOW_MS = '2500';
    const suspending = vmrun('suspend', vmx, 'hard');
    await new Promise((r) => setTimeout(r, 500));
    expect(await listed()).toBe(true);
    // what a freeze killed before its handle was journaled leaves: a staging folder naming the vm
    mkdirSync(join(vmsDir, '.twinsnap-twinsnap-test-killed'));
    writeFileSync(join(vmsDir, '.twinsnap-twinsnap-test-killed', 'vm-id'), `${vmx}\n`);
    // settle well past the slow suspend: on a loaded machine the simulator's suspend (a process start, then QEMU saving memory) ends seconds late
    await hv({ settle: 10_000 }).recover({ vmId: vmx });
    await suspending;
    expect(VmxFile.parse(readFileSync(vmx)).get('checkpoint.vmState') ?? '').toBe('');
    await productionCommits();
    expect(leftovers()).toEqual([]);
  }, 120_000);

  it('(a)(b)(c)(d) twin: isolated on its own segment although its link came back up, resumed from the memory captured at the freeze while production wrote its own, soft stop retried through 3009, deleted only once unlocked', async () => {
    process.env.VMRUN_SIM_VMEM_HASH = '1';
    process.env.VMRUN_SIM_RESUME_RESTORES_LINKS = '1';
    process.env.VMRUN_SIM_TOOLS_WARMUP_MS = '12000';
    process.env.VMRUN_SIM_LOCK_LINGER_MS = '3000';
    const h = hv();
    const prodVmem = join(dirname(vmx), 'Prod.vmem');
    const inode = statSync(prodVmem).ino;
    const frozen = await h.freeze(await h.getVm(vmx));
    await h.resume(frozen);
    const atFreeze = loggedMemoryHashes(dirname(vmx)).suspended.at(-1);
    expect(atFreeze).toMatch(/^[0-9a-f]{64}$/);
    expect(frozen.memoryFiles?.map((f) => basename(f))).toEqual(['state.vmss', 'state.vmem']);
    expect(frozen.adapterData?.memoryCapture).toMatch(/^(reflink|copy)$/);
    const twin = await h.buildTwin(frozen, 'Prod twin');
    const twinVmem = twin.memoryFiles!.find((f) => f.endsWith('.vmem'))!;
    expect(twin.hostBytesWritten).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    // (b): production resumed on the same .vmem inode and keeps writing guest memory into it
    await productionCommits();
    expect(statSync(prodVmem).ino).toBe(inode);
    expect(await sha256(prodVmem)).not.toBe(atFreeze);
    expect(await sha256(twinVmem)).toBe(atFreeze);

    const started = await h.startTwin(twin);
    expect(started.isolation).toMatchObject({ verified: true });
    expect(loggedMemoryHashes(twin.folder).resumed).toEqual([atFreeze]);
    const twinVmx = VmxFile.parse(readFileSync(twin.id));
    expect(twinVmx.get('ethernet0.connectionType')).toBe('pvn');
    const who = captureWho(basename(twin.folder), 'twin');
    await new Promise((r) => setTimeout(r, 1500));
    const caps = networkCaptures(simState).filter((c) => c.who === who);
    // (a): the resumed twin's link came back up (it sent packets) — but only onto its own segment
    expect(caps.length).toBeGreaterThan(0);
    expect(caps.every((c) => c.network.startsWith('pvn-'))).toBe(true);
    expect(caps.reduce((n, c) => n + c.frames, 0)).toBeGreaterThan(0);
    expect(
      networkCaptures(simState)
        .filter((c) => c.network === caps[0]!.network)
        .every((c) => c.who === who),
    ).toBe(true);
    expect(readFileSync(join(twin.folder, 'vmware.log'), 'utf8')).toMatch(/link disconnected \(disconnectNamedDevice\)/);

    // (c): Tools answer, soft stop refused with 3009 for a while; retried, not final
    expect(await h.twinToolsRunning(twin)).toBe(true);
    const shut = await h.shutdownTwin(twin, { timeoutMs: 90_000 });
    expect(shut.method).toMatch(/^vmrun stop soft \(retried \d+× while tools warmed up\)$/);
    expect(vmLogs(twin.folder)).toMatch(/soft stop refused, tools still warming up \(3009\)/);
    // (d): the lock outlives the stop; deletion waits for it, and nothing comes back afterwards
    expect(readdirSync(twin.folder).some((f) => f.endsWith('.lck'))).toBe(true);
    await h.deleteTwin(twin);
    await h.releaseFrozen(frozen);
    await new Promise((r) => setTimeout(r, 3500));
    expect(leftovers()).toEqual([]);
    expect(await snapshots()).toEqual([]);
    await productionCommits();
  }, 240_000);

  it("a resumed twin that stays on production's network is powered off at once: HV_TWIN_NOT_ISOLATED", async () => {
    process.env.VMRUN_SIM_RESUME_KEEPS_BACKING = '1';
    const h = hv();
    const frozen = await h.freeze(await h.getVm(vmx));
    await h.resume(frozen);
    const twin = await h.buildTwin(frozen, 'Prod twin 2');
    const err = await h.startTwin(twin).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAppError(err, 'HV_TWIN_NOT_ISOLATED')).toBe(true);
    expect((err as Error).message).toMatch(/powered off at once: .*ethernet0 on another network/);
    expect((await vmrun('list')).includes(twin.id)).toBe(false);
    await h.deleteTwin(twin);
    await h.releaseFrozen(frozen);
    expect(leftovers()).toEqual([]);
    await productionCommits();
  }, 180_000);
});

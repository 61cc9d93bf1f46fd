/**
 * The Hyper-V adapter's host checks and watchdog feeds, through the real scripts in real pwsh
 * against the Hyper-V stand-in (state-level guests: no QEMU, so each case takes seconds):
 * pre-flight refuses a backup whose writes do not fit a volume (the export, the twin's memory
 * state and own writes, the repository's new data on the same volume) and a domain controller
 * under require-clean, before any checkpoint; a slow export that keeps writing is not killed by
 * the step's watchdog and one that stops writing is; a twin whose adapter comes back connected
 * after its start is turned off at once (HV_TWIN_NOT_ISOLATED). Production ends Running and
 * nothing is left behind in every case.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobLogLine } from '../../shared/domain/job.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { HyperVHypervisor } from '../../electron/engine/hypervisor/hyperv/hyperv-hypervisor.js';
import { BackupRun, type WorkflowDeps } from '../../electron/engine/workflow/backup-run.js';
import type { BackupStepId } from '../../electron/engine/workflow/backup-steps.js';
import { HostSemaphore } from '../../electron/engine/workflow/host-semaphore.js';
import { MemorySnapshotSink } from '../../electron/engine/workflow/memory-snapshot-sink.js';
import type { HostProbe } from '../../electron/engine/workflow/preflight.js';
import type { RepositoryRoom } from '../../electron/engine/workflow/preflight.js';
import { addSimVm, simState, type SimVm } from '../harness/hyperv-sim/lib/sim-host.mjs';
import { longCallMs, ROOT } from './twin-helpers.js';

const SIM = join(ROOT, 'test/harness/hyperv-module/powershell');
const WORK = join(ROOT, '.cache/scratch/twin-backup-hyperv-host');
const SIM_ROOT = join(WORK, 'hyperv-host');
const TWINS = join(SIM_ROOT, 'Hyper-V', 'TwinSnap');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let seq = 0;
const hvs: HyperVHypervisor[] = [];

function hyperv(env: Record<string, string> = {}): HyperVHypervisor {
  const hv = new HyperVHypervisor({ powershellPath: SIM, logger: nullLogger, clock: systemClock, env: { ...process.env, HYPERV_SIM_ROOT: SIM_ROOT, ...env }, progressPollMs: 250 });
  hvs.push(hv);
  return hv;
}

/** A sink that answers pre-flight's repository question with `room` (the rest in memory). */
class RoomSink extends MemorySnapshotSink {
  constructor(private readonly r: RepositoryRoom) {
    super(MiB);
  }
  async room(): Promise<RepositoryRoom> {
    return this.r;
  }
}

async function backup(
  vm: SimVm,
  opts: { hv?: HyperVHypervisor; policy?: 'require-clean' | 'allow-crash'; probe?: HostProbe; room?: RepositoryRoom; timeouts?: Partial<Record<BackupStepId, number>> } = {},
) {
  const log: JobLogLine[] = [];
  const deps: WorkflowDeps = {
    clock: systemClock,
    logger: nullLogger,
    dataDir: join(WORK, 'data'),
    sink: new RoomSink(opts.room ?? { path: join(WORK, 'repo'), freeBytes: 100 * GiB, neededBytes: 64 * MiB }),
    twinSlots: new HostSemaphore(1),
    probe: opts.probe ?? { freeMemoryBytes: () => 64 * GiB, freeDiskBytes: () => 1000 * GiB, volumeOf: () => 'one' },
    // pre-flight asks PowerShell several questions; on a loaded machine a session starts slowly
    timeouts: { preflight: 300_000, ...opts.timeouts },
    pollMs: 100,
  };
  const reporter = { step: () => {}, log: (l: JobLogLine) => log.push(l), progress: () => {} };
  const outcome = await new BackupRun(
    deps,
    { jobId: `job-${++seq}`, guest: vm.name, hypervisor: opts.hv ?? hyperv(), vmId: vm.id, policy: opts.policy ?? 'require-clean', verify: false },
    reporter,
    new AbortController().signal,
  ).run();
  return { outcome, log: log.map((l) => l.message) };
}

/** Production running, and nothing of its backups left: no checkpoint of it, no twin VM, no twin folder marked with its id. */
function expectNothingLeft(vm: SimVm): void {
  const st = simState(SIM_ROOT);
  expect(st.vms.find((v) => v.id === vm.id)?.state).toBe('Running');
  expect(st.snapshots.filter((c) => c.vmId === vm.id)).toEqual([]);
  expect(st.vms.filter((v) => v.name.startsWith(`${vm.name}-twin`))).toEqual([]);
  const marked = (existsSync(TWINS) ? readdirSync(TWINS) : []).filter((d) => {
    try {
      return (
        readFileSync(join(TWINS, d, '.twinsnap-twin'), 'utf8')
          .split('\n')[0]!
          .trim() === vm.id
      );
    } catch {
      return false;
    }
  });
  expect(marked).toEqual([]);
}

beforeAll(() => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, 'data'), { recursive: true });
});
afterAll(async () => {
  for (const hv of hvs) await hv.dispose();
});

describe('Hyper-V pre-flight: every write of the backup must fit, checked before the checkpoint', () => {
  it("the export + the twin's memory state + its writes + the repository's new data are added up per volume: short by a little → DISK_FULL naming each part, production untouched", async () => {
    const vm = addSimVm(SIM_ROOT, { name: `Space ${++seq}`, diskMiB: 8, memoryMiB: 64 });
    const hv = hyperv();
    const [need] = await hv.hostSpaceNeeds(await hv.getVm(vm.id));
    // the export holds the disk file once and the memory state three times (exported, imported, the running twin's)
    expect(need!.path).toBe(TWINS);
    expect(need!.bytes).toBeGreaterThanOrEqual(3 * 64 * MiB);
    const margin = 1 * GiB;
    const repoNeed = 300 * MiB;
    // everything on one volume: production's checkpoint (64 MiB + margin), the export, the twin's writes (margin), the repository
    const total = 64 * MiB + margin + need!.bytes + margin + repoNeed;
    const room: RepositoryRoom = { path: join(WORK, 'repo'), freeBytes: 10 * GiB, neededBytes: repoNeed };

    const short = await backup(vm, { hv, room, probe: { freeMemoryBytes: () => 64 * GiB, freeDiskBytes: () => total - MiB, volumeOf: () => 'C:' } });
    expect(short.outcome).toMatchObject({ status: 'failed', error: { code: 'DISK_FULL' } });
    expect(short.outcome.error!.message).toMatch(/export of the disks .*memory state.*twin's own writes.*repository's new data/);
    expect(Object.keys(short.outcome.metrics.steps)).toEqual(['preflight']);
    expectNothingLeft(vm);

    // the same free space split over two volumes (repository elsewhere) is enough
    const split = await backup(vm, { hv, room, probe: { freeMemoryBytes: () => 64 * GiB, freeDiskBytes: () => total - MiB, volumeOf: (p) => (p.startsWith(join(WORK, 'repo')) ? 'D:' : 'C:') } });
    expect(split.outcome).toMatchObject({ status: 'succeeded', consistency: 'clean-twin' });
    expect(split.log.find((l) => l.startsWith('check host-space'))).toMatch(/room for every write/);
    expectNothingLeft(vm);
  }, 400_000);
});

describe('Hyper-V pre-flight: domain controllers (only Production checkpoints are supported for them)', () => {
  it('KVP ProductType 2: require-clean refuses with HV_DOMAIN_CONTROLLER before any checkpoint; allow-crash backs it up with a warning', async () => {
    const dc = addSimVm(SIM_ROOT, { name: `DC ${++seq}`, diskMiB: 8, memoryMiB: 64, domainController: true });
    const strict = await backup(dc);
    expect(strict.outcome).toMatchObject({ status: 'failed', error: { code: 'HV_DOMAIN_CONTROLLER' } });
    expect(strict.outcome.error!.message).toMatch(/ProductType 2.*production checkpoints/i);
    expect(Object.keys(strict.outcome.metrics.steps)).toEqual(['preflight']);
    expectNothingLeft(dc);

    const lenient = await backup(dc, { policy: 'allow-crash' });
    expect(lenient.outcome).toMatchObject({ status: 'warning', consistency: 'clean-twin' });
    expect(lenient.outcome.warnings.join('\n')).toMatch(/domain controller.*policy allow-crash/);
    expectNothingLeft(dc);
  }, 400_000);

  it('the VM notes naming a domain controller are enough; a guest without KVP data is "unknown", not refused', async () => {
    const noted = addSimVm(SIM_ROOT, { name: `Noted ${++seq}`, diskMiB: 8, memoryMiB: 64, notes: 'AD DS — primary domain controller, do not reboot during office hours' });
    const r = await backup(noted);
    expect(r.outcome).toMatchObject({ status: 'failed', error: { code: 'HV_DOMAIN_CONTROLLER' } });
    expect(r.outcome.error!.message).toMatch(/notes/);
    const plain = addSimVm(SIM_ROOT, { name: `Plain ${++seq}`, diskMiB: 8, memoryMiB: 64 });
    const hv = hyperv();
    const roles = await hv.guestRoles(await hv.getVm(plain.id));
    expect(roles.domainController).toBeUndefined();
    expect(roles.evidence).toMatch(/cannot be ruled out/);
    expectNothingLeft(noted);
  }, 300_000);
});

// The full backup under the slow-export switch (issue 11) is the first case here: the real guest's
// per-switch cases (twin-backup-hyperv.test.ts) leave it to this one.
describe('Hyper-V export progress feeds the workflow watchdog (HYPERV_SIM_EXPORT_MS_PER_MIB)', () => {
  /** A guest with 14 MiB of data on its 16 MiB disk, so the export writes ~16 pieces of 1 MiB. */
  function fullVm(name: string): SimVm {
    const vm = addSimVm(SIM_ROOT, { name, diskMiB: 16, memoryMiB: 64 });
    execFileSync('qemu-io', ['-f', 'vhdx', '-c', 'write -P 0x5a 0 14M', vm.disks[0]!.path], { stdio: 'ignore' });
    return vm;
  }

  /**
   * The no-progress limit must cover what comes before the first byte (a long call starts a
   * PowerShell of its own): twice what such a call takes on this machine now, at least 3 s. The
   * export is sized to last three limits.
   */
  async function sized(): Promise<{ limit: number; msPerMiB: string }> {
    const probeVm = addSimVm(SIM_ROOT, { name: `Probe ${++seq}`, diskMiB: 8, memoryMiB: 64 });
    const limit = Math.max(3000, 2 * Math.ceil(await longCallMs(hyperv(), probeVm.id)));
    return { limit, msPerMiB: String(Math.ceil((3 * limit) / 16)) };
  }

  it('an export 3× longer than the copy-config no-progress limit that keeps writing is not killed', async () => {
    const { limit, msPerMiB } = await sized();
    const slow = fullVm(`Slow ${++seq}`);
    const ok = await backup(slow, { hv: hyperv({ HYPERV_SIM_EXPORT_MS_PER_MIB: msPerMiB }), timeouts: { 'copy-config': limit } });
    expect(ok.outcome, JSON.stringify(ok.outcome.error)).toMatchObject({ status: 'succeeded', consistency: 'clean-twin' });
    expect(ok.outcome.metrics.steps['copy-config']).toBeGreaterThan(2 * limit);
    console.log(`[twin/hyperv] slow export: copy-config ${Math.round(ok.outcome.metrics.steps['copy-config']!)} ms under a ${limit} ms no-progress limit`);
    expectNothingLeft(slow);
  }, 600_000);

  it('an export that stops writing is killed one no-progress limit after its last byte, long before the ceiling', async () => {
    const { limit, msPerMiB } = await sized();
    const hung = fullVm(`Hung ${++seq}`);
    const bad = await backup(hung, { hv: hyperv({ HYPERV_SIM_EXPORT_MS_PER_MIB: msPerMiB, HYPERV_SIM_EXPORT_STALL_AFTER_MIB: '3' }), timeouts: { 'copy-config': limit } });
    expect(bad.outcome).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
    expect(bad.outcome.error!.message).toMatch(new RegExp(`copy-config.*made no progress for ${Math.round(limit / 1000)} s`));
    // the ceiling is 10 × the limit
    expect(bad.outcome.metrics.steps['copy-config']).toBeLessThan(6 * limit);
    expectNothingLeft(hung);
  }, 600_000);
});

describe('a twin whose network adapter reconnects after it starts (HYPERV_SIM_TWIN_NIC_RECONNECT)', () => {
  it('startTwin re-reads the adapters, turns the twin off at once: require-clean fails with HV_TWIN_NOT_ISOLATED, allow-crash archives the frozen disks as crash with the reason', async () => {
    const vm = addSimVm(SIM_ROOT, { name: `Reconnect ${++seq}`, diskMiB: 8, memoryMiB: 64 });
    const hv = hyperv({ HYPERV_SIM_TWIN_NIC_RECONNECT: '1' });
    const strict = await backup(vm, { hv });
    expect(strict.outcome).toMatchObject({ status: 'failed', error: { code: 'HV_TWIN_NOT_ISOLATED' } });
    expect(strict.outcome.error!.message).toMatch(/turned off at once: adapter\(s\) 'Network Adapter' \(switch 'Default Switch'\) connected after the start/);
    expectNothingLeft(vm);

    const lenient = await backup(vm, { hv, policy: 'allow-crash' });
    expect(lenient.outcome).toMatchObject({ status: 'warning', consistency: 'crash' });
    expect(lenient.outcome.warnings.join('\n')).toMatch(/isolation could not be verified/);
    expectNothingLeft(vm);
  }, 400_000);
});

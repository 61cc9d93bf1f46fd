/**
 * Twin benchmark: backups of the test guest through vmrun-sim (QEMU TCG) at 256 MiB, 1 GiB and
 * 2 GiB of guest memory — median over 5 backups at 256 MiB (3 with --quick) and 3 at the larger
 * sizes (1 with --quick): production pause (freeze call → production running again) and the
 * engine's own share of it (pause − the hypervisor's suspend/snapshot and resume calls), then how
 * the pause grows with memory (least-squares slope, ms per GiB).
 * Goal from issue 5: engine share ≤ 50 ms at every size, i.e. nothing is copied while production
 * waits; issue 11: print the pause against memory (hypervisor/README.md, "Pause and guest memory").
 */
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine } from '../../electron/engine/engine.js';
import { VmrunHypervisor } from '../../electron/engine/hypervisor/vmware/vmrun-hypervisor.js';
import type { BackupMetrics } from '../../electron/engine/workflow/snapshot-sink.js';
import { run } from '../harness/guest/exec.js';
import { makeTestVm } from '../harness/guest/make-test-vm.js';
import type { BenchFn, BenchRow } from './bench-row.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VMRUN = join(ROOT, 'test/harness/vmrun-sim/vmrun');
/** Guest memory sizes measured, MiB. */
const SIZES = [256, 1024, 2048];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Least-squares slope of y over x. */
function slope(pts: { x: number; y: number }[]): number {
  const mx = pts.reduce((a, p) => a + p.x, 0) / pts.length;
  const my = pts.reduce((a, p) => a + p.y, 0) / pts.length;
  const num = pts.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = pts.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return den ? num / den : NaN;
}

/** `n` backups of a fresh `memMiB` guest; the metrics of each, and failures after the pause. */
async function backups(scratch: string, memMiB: number, n: number): Promise<{ runs: BackupMetrics[]; failures: string[] }> {
  const simState = join(scratch, `sim-${memMiB}`);
  mkdirSync(simState, { recursive: true });
  const env = { ...process.env, VMRUN_SIM_STATE: simState };
  const prevState = process.env.VMRUN_SIM_STATE;
  process.env.VMRUN_SIM_STATE = simState;
  const vmrun = (...a: string[]) => run(VMRUN, ['-T', 'ws', ...a], { timeoutMs: 300_000, allowFailure: true, env });
  const name = `Bench VM ${memMiB}`;
  const vms = join(scratch, `vms-${memMiB}`);
  const vm = await makeTestVm(join(vms, name), { name, memMiB });
  const engine = await createEngine({
    dataDir: join(scratch, `data-${memMiB}`),
    logger: nullLogger,
    hypervisors: [new VmrunHypervisor({ vmrunPath: VMRUN, vmFolders: [vms], logger: nullLogger, clock: systemClock })],
  });
  const runs: BackupMetrics[] = [];
  const failures: string[] = [];
  try {
    await vmrun('start', vm.vmxPath, 'nogui');
    for (let i = 0; i < 480 && !(await vmrun('checkToolsState', vm.vmxPath)).stdout.includes('running'); i++) await new Promise((r) => setTimeout(r, 500));
    const { manager, ready } = engine.context.jobs;
    await ready;
    for (let i = 0; i < n; i++) {
      const { jobIds } = await engine.service.call('jobs.backupNow', { guests: [name] });
      const o = await manager.wait(jobIds[0]!);
      // The pause is measured before the archive: a later failure (noted) does not void it.
      if (o.metrics.pauseMs === undefined) throw new Error(`${memMiB} MiB: backup ${i + 1} ${o.status} before the pause: ${o.error?.message ?? ''}`);
      if (o.status !== 'succeeded') failures.push(`${memMiB} MiB backup ${i + 1} ${o.status} after the pause: ${o.error?.message ?? o.warnings.join('; ')}`);
      runs.push(o.metrics);
    }
  } finally {
    await engine.close();
    await vmrun('stop', vm.vmxPath, 'hard');
    if (prevState === undefined) delete process.env.VMRUN_SIM_STATE;
    else process.env.VMRUN_SIM_STATE = prevState;
  }
  return { runs, failures };
}

/** The twin benchmark rows (see the file comment). */
export const bench: BenchFn = async ({ scratch, quick }) => {
  const rows: BenchRow[] = [];
  const points: { x: number; y: number; share: number }[] = [];
  const failures: string[] = [];
  for (const memMiB of SIZES) {
    const n = memMiB === 256 ? (quick ? 3 : 5) : quick ? 1 : 3;
    const r = await backups(scratch, memMiB, n);
    failures.push(...r.failures);
    const { runs } = r;
    const pause = median(runs.map((m) => m.pauseMs ?? NaN));
    const share = median(runs.map((m) => m.engineShareMs ?? NaN));
    const hv = median(runs.map((m) => (m.hvFreezeMs ?? 0) + (m.hvResumeMs ?? 0)));
    const freeze = median(runs.map((m) => m.hvFreezeMs ?? NaN));
    const resume = median(runs.map((m) => m.hvResumeMs ?? NaN));
    points.push({ x: memMiB / 1024, y: pause, share });
    const size = memMiB >= 1024 ? `${memMiB / 1024} GiB` : `${memMiB} MiB`;
    const adapterFreeze = median(runs.map((m) => (m.freezeCallMs ?? 0) - (m.hvFreezeMs ?? 0)));
    const build = median(runs.map((m) => m.buildTwinMs ?? NaN));
    const rest = median(runs.map((m) => (m.engineShareMs ?? 0) - ((m.freezeCallMs ?? 0) - (m.hvFreezeMs ?? 0)) - (m.buildTwinMs ?? 0)));
    rows.push({
      area: 'twin',
      name: `production pause (freeze → running again), ${size} guest`,
      ours: pause,
      unit: 'ms',
      note: `median of ${n} backups, ${size} guest via vmrun-sim (QEMU TCG): hypervisor calls ${hv.toFixed(0)} ms of the pause (suspend + snapshot ${freeze.toFixed(0)} ms, start ${resume.toFixed(0)} ms); twin boot ${median(runs.map((m) => m.twinBootMs ?? NaN)).toFixed(0)} ms, shutdown ${median(runs.map((m) => m.twinShutdownMs ?? NaN)).toFixed(0)} ms`,
    });
    rows.push({
      area: 'twin',
      name: `engine's own share of the pause, ${size} guest`,
      ours: share,
      unit: 'ms',
      goal: '≤ 50 ms',
      met: share <= 50,
      note: `each run: ${runs.map((m) => m.engineShareMs?.toFixed(1)).join(', ')} ms; split (medians): adapter file work inside freeze ${adapterFreeze.toFixed(1)} ms, copy-config ${build.toFixed(1)} ms, workflow (journal fsyncs, bookkeeping) ${rest.toFixed(1)} ms`,
    });
  }
  const perGiB = slope(points);
  const load = loadavg()[0]!;
  const busy = load > 2 * cpus().length ? ` — CAUTION: load ${load.toFixed(1)} on ${cpus().length} cores, contention dominates these figures; rerun on an idle machine` : '';
  const shareSlope = slope(points.map((p) => ({ x: p.x, y: p.share })));
  rows.push({
    area: 'twin',
    name: 'pause growth with guest memory (least squares over 256 MiB, 1 GiB, 2 GiB)',
    ours: perGiB,
    unit: 'ms/GiB',
    note: `pause ${points.map((p) => `${p.x >= 1 ? `${p.x} GiB` : `${p.x * 1024} MiB`} ${p.y.toFixed(0)} ms`).join(', ')}; the engine's share grows ${shareSlope.toFixed(1)} ms/GiB (the memory image is copied while production waits where the file system cannot clone it: ext4, NTFS); the rest is the hypervisor saving and restoring the memory state — see hypervisor/README.md, "Pause and guest memory"; host load average ${load.toFixed(1)} on ${cpus().length} cores${busy}${failures.length ? `; ${failures.join('; ')}` : ''}`,
  });
  return rows;
};

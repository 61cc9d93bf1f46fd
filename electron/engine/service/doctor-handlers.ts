import type { DoctorCheck, DoctorReport } from '../../../shared/domain/doctor.js';
import type { HypervisorKind } from '../../../shared/domain/guest.js';
import { AppError } from '../../../shared/errors/app-error.js';
import { runDoctor } from '../workflow/doctor.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';

const KINDS: HypervisorKind[] = ['vmware', 'hyperv'];
/** Catalog settings key of the last doctor report of a hypervisor. */
export const doctorKey = (kind: HypervisorKind) => `doctor.last.${kind}`;

/**
 * Runs doctor (workflow/doctor.ts) with the engine's adapters and stores the report as the
 * hypervisor's last. Interrupted jobs are recovered first (their leftovers would fail
 * `clean-before`), and a VM with a backup in progress is refused (JOB_ALREADY_RUNNING).
 */
export async function runEngineDoctor(ctx: EngineContext, req: { vm: string; hypervisor?: HypervisorKind }, onCheck?: (c: DoctorCheck) => void): Promise<DoctorReport> {
  const manager = await ctx.jobs.started();
  const busy = manager.list({ limit: 200 }).find((j) => (j.status === 'running' || j.status === 'queued') && (j.guest === req.vm || j.guestId === req.vm));
  if (busy) throw new AppError('JOB_ALREADY_RUNNING', `vm '${req.vm}' is being backed up (job ${busy.id}); run doctor when it has finished`);
  const report = await runDoctor({
    clock: ctx.clock,
    hypervisors: ctx.hypervisors,
    kind: req.hypervisor,
    vm: req.vm,
    timeouts: ctx.tuning.stepTimeouts,
    onCheck,
  });
  // A VM that was never found says nothing about the host: keep the last real result.
  if (report.vmId) ctx.store.catalog().settings.set(doctorKey(report.hypervisor), report);
  ctx.logger[report.ok ? 'info' : 'warn']('doctor finished', { vm: report.vm, hypervisor: report.hypervisor, ok: report.ok, failed: report.checks.filter((c) => !c.ok).map((c) => c.name) });
  return report;
}

/** doctor.run / doctor.last. */
export const doctorHandlers: HandlerFactory = (ctx) => ({
  'doctor.run': (req) => runEngineDoctor(ctx, req),
  'doctor.last': async () => {
    const settings = ctx.store.catalog().settings;
    const out: Partial<Record<HypervisorKind, DoctorReport>> = {};
    for (const k of KINDS) {
      const r = settings.get<DoctorReport>(doctorKey(k));
      if (r) out[k] = r;
    }
    return out;
  },
});

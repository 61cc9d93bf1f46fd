import { Option } from 'commander';
import type { DoctorReport } from '../../../shared/domain/doctor.js';
import type { HypervisorKind } from '../../../shared/domain/guest.js';
import { AppError } from '../../../shared/errors/app-error.js';
import type { CommandModule } from '../cli-context.js';

/** The readable doctor report. */
export function doctorText(r: DoctorReport): string {
  const failed = r.checks.filter((c) => !c.ok);
  const lines = [
    `TwinSnap doctor — ${r.hypervisor}${r.tool?.version ? ` (${r.tool.version})` : ''} — vm '${r.vm}'${r.vmId && r.vmId !== r.vm ? ` (${r.vmId})` : ''}`,
    `started ${r.startedAt}, finished ${r.finishedAt}`,
    '',
    ...r.checks.map((c) => `${c.skipped ? '–' : c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`),
    '',
    `step times: ${
      Object.entries(r.durations)
        .map(([k, v]) => `${k} ${v} ms`)
        .join(', ') || 'none'
    }`,
    r.ok
      ? `every check held (${r.checks.length}): this host behaves as TwinSnap assumes`
      : `${failed.length} of ${r.checks.length} checks FAILED: ${failed.map((c) => c.name).join(', ')} — do not trust TwinSnap with production on this host until they hold`,
  ];
  return lines.join('\n');
}

/** `doctor --vm NAME [--hypervisor vmware|hyperv]`: exit 0 when every check held, 1 otherwise. */
export const doctorCommand: CommandModule = (program, ctx) => {
  program
    .command('doctor')
    .description('field self-test: run every step of the twin workflow on a throwaway vm and check each assumption (run this first)')
    .requiredOption('--vm <name>', 'the vm to test (name or id) — use a throwaway vm; only this vm is touched')
    .addOption(new Option('--hypervisor <kind>', 'which hypervisor the vm belongs to').choices(['vmware', 'hyperv']))
    .action(async (o: { vm: string; hypervisor?: HypervisorKind }) => {
      const engine = await ctx.engine();
      const json = Boolean(ctx.globals().json);
      const report = await engine.local.doctor({ vm: o.vm, hypervisor: o.hypervisor }, (c) => {
        if (!json) ctx.io.stderr(`… ${c.name}: ${c.skipped ? 'skipped' : c.ok ? 'ok' : 'FAILED'}\n`);
      });
      ctx.print(report, doctorText);
      if (!report.ok) {
        throw new AppError(
          'DOCTOR_CHECK_FAILED',
          `doctor: ${report.checks
            .filter((c) => !c.ok)
            .map((c) => c.name)
            .join(', ')} failed on vm '${report.vm}'`,
        );
      }
    });
};

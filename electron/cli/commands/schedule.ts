import type { Schedule } from '../../../shared/domain/policy.js';
import { describeSchedule, parseWeekdays } from '../../engine/engine.js';
import type { CliContext, CommandModule } from '../cli-context.js';

/** Options of `schedule set` / `schedule preview`. */
interface ScheduleOpts {
  times?: string;
  every?: string;
  from?: string;
  to?: string;
  weekdays?: string;
  cron?: string;
  off?: boolean;
  tz?: string;
  consistency?: 'require-clean' | 'allow-crash';
  verify?: boolean;
  count?: string;
}

/** Builds a Schedule from the CLI flags (exactly one of --times, --every, --cron, --off). */
export function scheduleFromOptions(o: ScheduleOpts, ctx: Pick<CliContext, 'usage'>): Schedule {
  const kinds = [o.times !== undefined, o.every !== undefined, o.cron !== undefined, Boolean(o.off)].filter(Boolean).length;
  if (kinds !== 1) ctx.usage('give exactly one of --times HH:MM[,HH:MM…], --every Nh --from HH:MM --to HH:MM, --cron "m h dom mon dow" or --off');
  const weekdays = o.weekdays !== undefined ? parseWeekdays(o.weekdays) : undefined;
  if (o.off) return { kind: 'off' };
  if (o.cron !== undefined) {
    if (weekdays) ctx.usage('--weekdays does not combine with --cron: put the days in the expression');
    return { kind: 'cron', expression: o.cron };
  }
  if (o.times !== undefined) {
    const times = o.times
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    return { kind: 'times', times, ...(weekdays ? { weekdays } : {}) };
  }
  const m = /^(\d+)\s*h?$/i.exec(o.every!.trim());
  if (!m) ctx.usage(`invalid --every '${o.every}': give whole hours such as 2h`);
  return { kind: 'interval', everyHours: Number(m[1]), from: o.from ?? '00:00', to: o.to ?? '23:59', ...(weekdays ? { weekdays } : {}) };
}

function addScheduleOptions<T extends { option: (...a: string[]) => T }>(c: T): T {
  return c
    .option('--times <list>', 'times of day, e.g. 12:00,18:00')
    .option('--every <hours>', 'every N hours, e.g. 2h (with --from/--to)')
    .option('--from <HH:MM>', 'start of the --every window (default 00:00)')
    .option('--to <HH:MM>', 'end of the --every window (default 23:59)')
    .option('--weekdays <days>', 'days of the week, e.g. mon-fri or sat,sun (default every day)')
    .option('--cron <expr>', 'advanced: a 5-field cron expression matched in the guest time zone')
    .option('--off', 'no scheduled backups')
    .option('--tz <zone>', "IANA time zone of the schedule, e.g. Europe/Berlin (default: the host's)");
}

const fmtRuns = (runs: string[]) => (runs.length ? runs.map((r) => new Date(r).toISOString().slice(0, 16).replace('T', ' ') + 'Z').join(', ') : '—');

/** `schedule set | list | preview`. */
export const scheduleCommands: CommandModule = (program, ctx) => {
  const schedule = program.command('schedule').description('per-guest backup schedules');
  addScheduleOptions(schedule.command('set <guest>').description("set a guest's schedule"))
    .option('--consistency <mode>', 'require-clean (default) or allow-crash')
    .option('--verify', 'boot-verify each scheduled backup')
    .action(async (guest: string, o: ScheduleOpts) => {
      const s = scheduleFromOptions(o, ctx);
      if (o.consistency && o.consistency !== 'require-clean' && o.consistency !== 'allow-crash') ctx.usage(`invalid --consistency '${o.consistency}': use require-clean or allow-crash`);
      const engine = await ctx.engine();
      const saved = await engine.service.call('schedules.set', {
        guest,
        schedule: s,
        ...(o.tz ? { timeZone: o.tz } : {}),
        ...(o.consistency ? { consistency: o.consistency } : {}),
        ...(o.verify ? { verify: true } : {}),
      });
      ctx.print(saved, (d) => `${d.guest}: ${describeSchedule(d.schedule)}${d.timeZone ? ` (${d.timeZone})` : ''}\nnext runs: ${fmtRuns(d.nextRuns)}`);
    });
  schedule
    .command('list')
    .description('list every schedule with its next runs')
    .action(async () => {
      const engine = await ctx.engine();
      const all = await engine.service.call('schedules.list', {});
      ctx.print(all, (list) =>
        list.length === 0
          ? 'no schedules'
          : list.map((d) => `${d.guest.padEnd(24)} ${describeSchedule(d.schedule).padEnd(36)} ${(d.timeZone ?? 'host').padEnd(18)} next: ${fmtRuns(d.nextRuns.slice(0, 1))}`).join('\n'),
      );
    });
  addScheduleOptions(schedule.command('preview').description('show the next runs of a schedule without saving it'))
    .option('--count <n>', 'how many runs (default 5)')
    .action(async (o: ScheduleOpts) => {
      const s = scheduleFromOptions(o, ctx);
      const count = o.count === undefined ? undefined : Number(o.count);
      if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > 50)) ctx.usage(`invalid --count '${o.count}': 1 to 50`);
      const engine = await ctx.engine();
      const r = await engine.service.call('schedules.preview', { schedule: s, ...(o.tz ? { timeZone: o.tz } : {}), ...(count ? { count } : {}) });
      ctx.print(r, (d) => d.nextRuns.map((x) => x).join('\n') || 'never');
    });
};

import { AppError } from '../../../shared/errors/app-error.js';
import type { GuestSchedule } from '../../../shared/domain/policy.js';
import { CatalogScheduleStore } from '../scheduler/catalog-schedule-store.js';
import { nextRuns, normalizeSchedule } from '../scheduler/schedule-spec.js';
import { hostTimeZone } from '../scheduler/zoned-time.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';

/** How many upcoming runs schedules.list / set / preview show by default. */
const PREVIEW_COUNT = 5;

function withNextRuns(ctx: EngineContext, s: GuestSchedule): GuestSchedule & { nextRuns: string[] } {
  const runs = nextRuns(s.schedule, s.timeZone ?? hostTimeZone(), ctx.clock.now(), PREVIEW_COUNT);
  return { ...s, nextRuns: runs.map((r) => new Date(r).toISOString()) };
}

/** schedules.list/set/preview and notifications.test. */
export const scheduleHandlers: HandlerFactory = (ctx) => ({
  'schedules.list': async () =>
    new CatalogScheduleStore(ctx.store.catalog())
      .list()
      .map((s) => withNextRuns(ctx, s))
      .sort((a, b) => a.guest.localeCompare(b.guest) || a.guestId.localeCompare(b.guestId)),
  'schedules.set': async (req) => {
    const g = await ctx.guests.resolve(req.guest, { record: true });
    const saved = ctx.scheduler.scheduler.setSchedule({
      guestId: g.id,
      guest: g.name,
      schedule: req.schedule,
      ...(req.timeZone ? { timeZone: req.timeZone } : {}),
      ...(req.consistency ? { consistency: req.consistency } : {}),
      ...(req.verify !== undefined ? { verify: req.verify } : {}),
    });
    return withNextRuns(ctx, saved);
  },
  'schedules.preview': async ({ schedule, timeZone, count }) => {
    const s = normalizeSchedule(schedule, timeZone);
    const runs = nextRuns(s, timeZone ?? hostTimeZone(), ctx.clock.now(), count ?? PREVIEW_COUNT);
    return { nextRuns: runs.map((r) => new Date(r).toISOString()) };
  },
  'notifications.test': async ({ channel }) => {
    const n = ctx.config().notifications;
    if (channel === 'email' && !n.email) throw new AppError('CONFIG_INVALID', 'no e-mail settings: set notifications.email (host, port, from, to) first');
    if (channel === 'webhook' && !n.webhookUrl) throw new AppError('CONFIG_INVALID', 'no webhook URL: set notifications.webhookUrl first');
    const r = await ctx.notifier.send({ severity: 'info', topic: 'test', title: 'test notification', body: 'this is a test of the TwinSnap notification settings; no action needed' }, channel);
    const failed = r.failed[0];
    if (failed) throw new AppError('NOTIFY_FAILED', failed.message, { details: { channel } });
    return { delivered: r.delivered.includes(channel) };
  },
});

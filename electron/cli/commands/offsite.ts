import type { Command } from 'commander';
import type { OffsiteProgress } from '../../engine/engine.js';
import type { CliContext, CommandModule } from '../cli-context.js';

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** `12.5M`, `800k`, `1G`, or plain bytes per second. */
function rate(ctx: CliContext, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(v.trim());
  if (!m) ctx.usage(`--limit-rate expects bytes per second (e.g. 500k, 12M), got '${v}'`);
  const n = Number(m[1]) * ({ '': 1, k: 1024, m: 1048576, g: 1073741824 } as Record<string, number>)[m[2]!.toLowerCase()]!;
  if (n < 1024) ctx.usage('--limit-rate must be at least 1k (1024 bytes per second)');
  return Math.floor(n);
}

function progressLine(p: OffsiteProgress): string {
  if (p.phase === 'listing') return 'listing the destination…';
  const pct = p.bytesTotal ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 100;
  const eta = p.etaSeconds !== undefined ? `, ETA ${Math.ceil(p.etaSeconds)} s` : '';
  return `${pct}%  ${mib(p.bytesDone)} / ${mib(p.bytesTotal)}  ${p.objectsDone}/${p.objectsTotal} objects  ${mib(p.bytesPerSecond)}/s${eta}`;
}

/** `offsite copy` and `offsite status`: copies of the repository in S3-compatible object storage. */
export const offsiteCommands: CommandModule = (program: Command, ctx) => {
  const offsite = program.command('offsite').description('copies of the repository in S3-compatible object storage (AWS S3, B2, Wasabi, MinIO, Ceph RGW)');
  offsite
    .command('copy')
    .description('upload the snapshots the destination lacks (manifest last: a snapshot appears offsite atomically; a re-run resumes)')
    .requiredOption('--to <url>', 's3://BUCKET/PREFIX (keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)')
    .option('--snapshot <id...>', 'only these snapshots (default: all)')
    .option('--limit-rate <bytes/s>', 'bandwidth limit, e.g. 2M')
    .option('--jobs <n>', 'parallel uploads', '8')
    .option('--lock-days <n>', 'Object Lock: keep every uploaded (and still referenced) object undeletable for N days')
    .option('--lock-mode <mode>', 'compliance (nobody can delete early) or governance (a privileged user can)', 'compliance')
    .action(async (o: { to: string; snapshot?: string[]; limitRate?: string; jobs: string; lockDays?: string; lockMode: string }) => {
      const jobs = Number(o.jobs);
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) ctx.usage(`--jobs expects 1 … 64, got '${o.jobs}'`);
      const lockDays = o.lockDays === undefined ? undefined : Number(o.lockDays);
      if (lockDays !== undefined && !(Number.isFinite(lockDays) && lockDays > 0)) ctx.usage(`--lock-days expects a positive number, got '${o.lockDays}'`);
      if (!['compliance', 'governance'].includes(o.lockMode)) ctx.usage(`--lock-mode is compliance or governance, got '${o.lockMode}'`);
      const engine = await ctx.engine();
      const tty = ctx.io.isTTY && !ctx.globals().json;
      const r = await engine.local.offsiteCopy(o.to, {
        snapshotIds: o.snapshot,
        jobs,
        limitRate: rate(ctx, o.limitRate),
        ...(lockDays ? { lock: { days: lockDays, mode: o.lockMode.toUpperCase() as 'COMPLIANCE' | 'GOVERNANCE' } } : {}),
        onProgress: (p) => tty && ctx.io.stderr(`\r${progressLine(p)}   `),
      });
      if (tty) ctx.io.stderr('\n');
      ctx.print(r, (d) =>
        [
          `copied ${d.copied.length} snapshot(s) to ${d.destination} (${d.alreadyOffsite.length} already there)`,
          `sent ${d.objectsSent} object(s), ${d.bytesSent} bytes (${mib(d.bytesSent)}) in ${d.seconds.toFixed(1)} s; ${d.objectsSkipped} object(s) were already there`,
          ...(d.lockedUntil ? [`locked until ${d.lockedUntil} (${d.locksExtended} existing lock(s) extended)`] : []),
          ...(d.keysSent.length ? [`sent ${d.keysSent.length} key file(s) of the encrypted repository (wrapped keys only: no password, nothing readable without one)`] : []),
          ...(d.keysRemovedLocally.length
            ? [`${d.keysRemovedLocally.length} key file(s) offsite were removed here (password changed or removed): 'twinsnap offsite prune --to ${d.destination.split(' ')[0]}' removes them there`]
            : []),
        ].join('\n'),
      );
    });
  offsite
    .command('prune')
    .description('remove from the bucket the snapshots the repository forgot and the chunks nothing references; locked objects are kept until their date')
    .requiredOption('--to <url>', 's3://BUCKET/PREFIX')
    .option('--dry-run', 'only say what would go')
    .action(async (o: { to: string; dryRun?: boolean }) => {
      const engine = await ctx.engine();
      const r = await engine.local.offsitePrune(o.to, { dryRun: o.dryRun });
      ctx.print(r, (d) =>
        [
          `${d.dryRun ? 'would remove' : 'removed'} ${d.removed.length} snapshot(s) and ${d.chunksDeleted} chunk(s) (${mib(d.bytesFreed)}) from ${d.destination}`,
          ...d.locked.map((l) => `kept ${l.id}: locked until ${l.until}`),
          ...(d.chunksLocked ? [`kept ${d.chunksLocked} unreferenced chunk(s) still locked (until ${d.chunksLockedUntil})`] : []),
          ...(d.keysDeleted.length ? [`${d.dryRun ? 'would remove' : 'removed'} ${d.keysDeleted.length} key file(s) the repository no longer has`] : []),
          ...d.keysLocked.map((k) => `kept key file ${k.rel}: locked until ${k.until} (its password still opens the offsite copy until then)`),
          ...(d.keysWaiting.length ? [`kept ${d.keysWaiting.length} key file(s) the repository no longer has: run 'twinsnap offsite copy' first (the current keys are not all offsite yet)`] : []),
        ].join('\n'),
      );
    });
  offsite
    .command('schedule')
    .description('copy to this destination (then prune it) every day after the repository maintenance; --off stops it')
    .option('--to <url>', 's3://BUCKET/PREFIX')
    .option('--lock-days <n>', 'Object Lock days for every uploaded object')
    .option('--lock-mode <mode>', 'compliance or governance', 'compliance')
    .option('--limit-rate <bytes/s>', 'bandwidth limit, e.g. 2M')
    .option('--off', 'no scheduled offsite copy')
    .action(async (o: { to?: string; lockDays?: string; lockMode: string; limitRate?: string; off?: boolean }) => {
      const engine = await ctx.engine();
      if (o.off) {
        engine.local.scheduleOffsite(null);
        ctx.print({ offsite: null }, () => 'no scheduled offsite copy');
        return;
      }
      const to = o.to ?? ctx.usage('--to s3://BUCKET/PREFIX is required (or --off)');
      const lockDays = o.lockDays === undefined ? undefined : Number(o.lockDays);
      if (lockDays !== undefined && !(lockDays > 0)) ctx.usage(`--lock-days expects a positive number, got '${o.lockDays}'`);
      if (!['compliance', 'governance'].includes(o.lockMode)) ctx.usage(`--lock-mode is compliance or governance, got '${o.lockMode}'`);
      const limitRate = rate(ctx, o.limitRate);
      // the keys of this shell are kept in the secret store for the scheduler (never in config.json)
      const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
      const keys = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
      const { offsite, maintenanceAt } = engine.local.scheduleOffsite(
        {
          to,
          ...(lockDays ? { lockDays, lockMode: o.lockMode.toUpperCase() as 'COMPLIANCE' | 'GOVERNANCE' } : {}),
          ...(limitRate ? { limitRate } : {}),
        },
        keys,
      );
      ctx.print(
        { offsite, keysSaved: keys !== undefined },
        (d) =>
          `every day after the maintenance (${maintenanceAt}): copy to ${d.offsite!.to}, then prune it; ${d.keysSaved ? 'the keys of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY were saved in the secret store' : "no keys saved (set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and run this again, or give them to the scheduler's process)"}`,
      );
    });
  offsite
    .command('status')
    .description('which snapshots are offsite, the lag behind the repository, and until when each is protected')
    .requiredOption('--to <url>', 's3://BUCKET/PREFIX')
    .action(async (o: { to: string }) => {
      const engine = await ctx.engine();
      const s = await engine.local.offsiteStatus(o.to);
      ctx.print(s, (d) =>
        [
          `${d.destination}: ${d.snapshots.filter((x) => x.offsite).length} snapshot(s) offsite, ${d.lagSnapshots} not yet copied; Object Lock ${d.objectLock ? 'on' : 'off'}`,
          ...d.snapshots.map((x) => `${x.id}  ${x.local ? 'local' : '     '}  ${x.offsite ? 'offsite' : '-------'}${x.protectedUntil ? `  protected until ${x.protectedUntil}` : ''}`),
        ].join('\n'),
      );
    });
};

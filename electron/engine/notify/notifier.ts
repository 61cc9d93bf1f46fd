import type { Clock } from '../core/clock.js';
import type { CatalogRecovery } from '../../../shared/domain/engine.js';
import type { Logger } from '../core/logger.js';
import type { Notification, NotificationChannel, NotificationSeverity } from './notification.js';

/** The outcome of a backup job as the notifier judges it. */
export interface BackupOutcome {
  guest: string;
  jobId?: string;
  status: 'succeeded' | 'warning' | 'failed' | 'cancelled';
  error?: { code: string; message: string };
  warnings: string[];
  /** How the archived image was made; `crash` = crash-consistent fallback. */
  consistency?: 'clean-twin' | 'crash' | 'cold';
  /** Schedule slots the run covered (more than one = catch-up). */
  slots?: number[];
  trigger?: 'scheduled' | 'catch-up' | 'manual';
}

/** Options of the Notifier. */
export interface NotifierOptions {
  clock: Clock;
  logger?: Logger;
  /** The configured channels (read on every send, so settings changes apply at once). */
  channels: () => NotificationChannel[];
  /** Whether successes are sent too (settings `notifications.onSuccess`). */
  onSuccess: () => boolean;
}

/** The result of one notification: which channels delivered it and which failed. */
export interface DeliveryReport {
  notification?: Notification;
  delivered: string[];
  failed: { channel: string; message: string }[];
}

/**
 * Decides what deserves a notification and fans it out to every channel. Failures are always
 * sent; successes only when enabled. Status is honest: a job that archived a crash-consistent
 * fallback, or finished with warnings, is a WARNING even if the job layer called it succeeded.
 * A channel failing never throws into the caller (it is logged and reported).
 */
export class Notifier {
  constructor(private readonly o: NotifierOptions) {}

  /** The honest severity of a backup outcome. */
  static severityOf(b: BackupOutcome): NotificationSeverity {
    if (b.status === 'failed' || b.status === 'cancelled') return 'failure';
    if (b.status === 'warning' || b.consistency === 'crash' || b.warnings.length > 0) return 'warning';
    return 'success';
  }

  /** Notifies about a finished backup (failure/warning always, success when enabled). */
  async backupFinished(b: BackupOutcome): Promise<DeliveryReport> {
    const severity = Notifier.severityOf(b);
    if (severity === 'success' && !this.o.onSuccess()) return { delivered: [], failed: [] };
    const what = b.status === 'cancelled' ? 'was cancelled' : severity === 'failure' ? 'failed' : severity === 'warning' ? 'finished with warnings' : 'succeeded';
    const lines: string[] = [];
    if (b.error) lines.push(`error: ${b.error.message} [${b.error.code}]`);
    if (b.consistency === 'crash') lines.push('the archived image is only CRASH-CONSISTENT (the clean twin shutdown did not happen)');
    for (const w of b.warnings) lines.push(`warning: ${w}`);
    if (b.slots && b.slots.length > 1) lines.push(`this run caught up ${b.slots.length} missed scheduled runs`);
    if (severity === 'failure') lines.push('the previous backups are kept; check the job log in TwinSnap for the failing step');
    return this.send({
      severity,
      topic: 'backup',
      title: `backup of '${b.guest}' ${what}`,
      body: lines.join('\n') || `backup of '${b.guest}' ${what}`,
      guest: b.guest,
      jobId: b.jobId,
      details: { status: b.status, consistency: b.consistency, trigger: b.trigger, slots: b.slots?.map((s) => new Date(s).toISOString()) },
    });
  }

  /** Warns that a guest has had no good backup for longer than its schedule's interval. */
  async staleGuest(guest: string, lastSuccessAt: number | undefined, expectedMs: number): Promise<DeliveryReport> {
    const hours = Math.round(expectedMs / 3_600_000);
    return this.send({
      severity: 'warning',
      topic: 'stale-guest',
      title: `'${guest}' has no recent backup`,
      body: `${lastSuccessAt ? `the last successful backup of '${guest}' was at ${new Date(lastSuccessAt).toISOString()}` : `'${guest}' has never been backed up successfully`}; its schedule expects one at least every ${hours} h`,
      guest,
      details: { lastSuccessAt: lastSuccessAt ? new Date(lastSuccessAt).toISOString() : null, expectedHours: hours },
    });
  }

  /** Warns that scheduled runs were skipped (outside the catch-up grace window). */
  async missedRuns(guest: string, slots: number[], reason: string): Promise<DeliveryReport> {
    return this.send({
      severity: 'warning',
      topic: 'missed-runs',
      title: `${slots.length} scheduled backup(s) of '${guest}' did not run`,
      body: `${reason}; the next scheduled run will take a new backup`,
      guest,
      details: { slots: slots.map((s) => new Date(s).toISOString()) },
    });
  }

  /** Reports a maintenance run (only when it failed or found damage, or successes are on). */
  async maintenanceFinished(r: { ok: boolean; forgotten: number; freedBytes: number; damaged: string[]; error?: string }): Promise<DeliveryReport> {
    if (r.ok && !this.o.onSuccess()) return { delivered: [], failed: [] };
    return this.send({
      severity: r.ok ? 'success' : 'failure',
      topic: 'maintenance',
      title: r.ok ? 'repository maintenance finished' : 'repository maintenance found problems',
      body: r.error ?? (r.damaged.length ? `damaged: ${r.damaged.slice(0, 20).join(', ')}` : `forgot ${r.forgotten} snapshot(s), freed ${r.freedBytes} bytes`),
      details: { ...r },
    });
  }

  /** Says that the catalog had to be rebuilt, and whether schedules and policies came back. */
  async catalogRecovered(r: CatalogRecovery): Promise<DeliveryReport> {
    const lines = [
      r.reason === 'corrupt'
        ? `the catalog database was damaged (${r.error ?? 'unreadable'}); it was moved aside to '${r.movedTo}' and a new one was created`
        : 'the catalog database was missing; a new one was created',
      'the list of backups is rebuilt from the repository; the job history of this installation is gone',
      r.restored
        ? `restored from policies.json: ${r.restored.schedules} schedule(s), ${r.restored.retention} retention policy(ies), ${r.restored.settings} setting(s)`
        : 'SCHEDULES, RETENTION POLICIES AND SETTINGS WERE LOST (no usable policies.json): scheduled backups will not run until you set them again',
    ];
    return this.send({
      severity: r.restored ? 'warning' : 'failure',
      topic: 'catalog',
      title: r.restored ? 'the catalog was rebuilt' : 'the catalog was rebuilt and its schedules were lost',
      body: lines.join('\n'),
      details: { ...r },
    });
  }

  /** Sends a notification to every channel (or only `only`). */
  async send(n: Omit<Notification, 'at'>, only?: string): Promise<DeliveryReport> {
    const notification: Notification = { ...n, at: new Date(this.o.clock.now()).toISOString() };
    const report: DeliveryReport = { notification, delivered: [], failed: [] };
    for (const ch of this.o.channels()) {
      if (only && ch.name !== only) continue;
      try {
        await ch.send(notification);
        report.delivered.push(ch.name);
      } catch (e) {
        const message = (e as Error).message;
        report.failed.push({ channel: ch.name, message });
        this.o.logger?.warn('notification not delivered', { channel: ch.name, error: message, title: n.title });
      }
    }
    return report;
  }
}

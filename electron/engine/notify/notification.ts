/** How bad a notification is. The subject line always says it first, so it is never misread. */
export type NotificationSeverity = 'failure' | 'warning' | 'success' | 'info';

/** What a notification is about. */
export type NotificationTopic = 'backup' | 'stale-guest' | 'missed-runs' | 'maintenance' | 'catalog' | 'test';

/** One message to the user, channel-independent (plain data: it is also the webhook body). */
export interface Notification {
  severity: NotificationSeverity;
  topic: NotificationTopic;
  /** Short line: `FAILED: backup of 'Accounting'`. */
  title: string;
  /** A few lines of detail (error message, warnings, what to do). */
  body: string;
  guest?: string;
  jobId?: string;
  /** ISO time it was raised. */
  at: string;
  /** Extra structured fields for machines (webhook receivers). */
  details?: Record<string, unknown>;
}

/** A way to deliver notifications (e-mail, webhook, desktop). */
export interface NotificationChannel {
  readonly name: 'email' | 'webhook' | 'desktop';
  /** Delivers `n`; throws AppError('NOTIFY_FAILED') with an actionable message. */
  send(n: Notification): Promise<void>;
}

/** The label a severity gets in subjects and titles. */
export function severityLabel(s: NotificationSeverity): string {
  return { failure: 'FAILED', warning: 'WARNING', success: 'OK', info: 'INFO' }[s];
}

/** A notification as clients receive it (the desktop app shows it as a system notification). */
export interface AppNotification {
  severity: 'failure' | 'warning' | 'success' | 'info';
  topic: 'backup' | 'stale-guest' | 'missed-runs' | 'maintenance' | 'catalog' | 'test';
  title: string;
  body: string;
  guest?: string;
  jobId?: string;
  /** ISO time it was raised. */
  at: string;
}

import type { GuestId } from './guest-id.js';

/** Per-guest retention: counts per tier; 0 or absent = the tier keeps nothing. */
export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** Keep everything newer than this many days. */
  keepWithinDays?: number;
}

/** The verdict of a retention dry run for one snapshot. */
export interface RetentionDecision {
  snapshotId: string;
  time: string;
  keep: boolean;
  /** Rules that keep it (e.g. `last`, `daily`, `within`); empty when it goes. */
  reasons: string[];
  /** Bytes freed if only this snapshot went (chunks no kept snapshot references). */
  freedBytes?: number;
}

/** The result of a retention dry run for one guest. */
export interface RetentionPreview {
  guestId: GuestId;
  /** The guest's display name (a label). */
  guest: string;
  decisions: RetentionDecision[];
  forgetCount: number;
  /** Bytes that GC would free after forgetting. */
  freedBytes: number;
}

/** A per-guest schedule. */
export type Schedule =
  | { kind: 'off' }
  | { kind: 'times'; times: string[]; weekdays?: number[] }
  | { kind: 'interval'; everyHours: number; from: string; to: string; weekdays?: number[] }
  | { kind: 'cron'; expression: string };

/** A guest's schedule and settings. */
export interface GuestSchedule {
  /** The key: the guest's identity. */
  guestId: GuestId;
  /** The guest's display name when the schedule was saved (a label). */
  guest: string;
  schedule: Schedule;
  timeZone?: string;
  consistency?: 'require-clean' | 'allow-crash';
  verify?: boolean;
}

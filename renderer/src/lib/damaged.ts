import type { DamagedPoint, SnapshotSummary } from '../../../shared/domain/snapshot.js';
import { formatDateTime } from './format.js';

/** A restore point whose last check found damaged data (a verify failed). */
export function isDamaged(s: Pick<SnapshotSummary, 'verify'>): boolean {
  return s.verify?.ok === false;
}

/** How a guest is named: its label (`useGuestLabel`), by default the recorded name. */
export type GuestLabeller = (guestId: string | undefined, name?: string) => string;

const recordedName: GuestLabeller = (_id, name) => name ?? '';

/**
 * "Ledger at 7 Dec 2026, 14:02" — a damaged point as people find it (the id only when nothing
 * else is known); `label` tells same-named guests apart ("Ledger — D:\VMs\Ledger at …").
 */
export function pointName(p: DamagedPoint, label: GuestLabeller = recordedName): string {
  return p.guest && p.time ? `${label(p.guestId, p.guest)} at ${formatDateTime(p.time)}` : `restore point ${p.snapshotId}`;
}

/** The verify result in words: which points are damaged (guest and time) and what to do. */
export function damagedText(points: DamagedPoint[] | undefined, ids: string[], label: GuestLabeller = recordedName): string {
  const named = points?.length ? points : ids.map((snapshotId) => ({ snapshotId }));
  return `Damaged: ${named.map((p) => pointName(p, label)).join('; ')}. Restoring from ${named.length > 1 ? 'them' : 'it'} may fail: forget ${named.length > 1 ? 'them' : 'it'} and take a new backup now.`;
}

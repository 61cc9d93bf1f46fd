import { useCallback, useMemo } from 'react';
import { guestLabels, labelOf } from '../lib/guest-labels.js';
import { useApp } from '../stores/hooks.js';

/**
 * The label of a guest anywhere in the app — its name, and its folder (or id) when another guest
 * the app knows of has the same name — from the live guests, restore points and jobs in the
 * store ({@link guestLabels}). For places that name one guest (a job's header, the file browser,
 * a damaged point) rather than list them all.
 */
export function useGuestLabel(): (guestId: string | undefined, name?: string) => string {
  const guests = useApp((s) => s.guests.data);
  const snapshots = useApp((s) => s.snapshots.data);
  const jobs = useApp((s) => s.jobs.data);
  const labels = useMemo(
    () => guestLabels(guests ?? [], [...(snapshots ?? []).map((s) => ({ guestId: s.guestId, name: s.guest })), ...(jobs ?? []).map((j) => ({ guestId: j.guestId, name: j.guest }))]),
    [guests, snapshots, jobs],
  );
  return useCallback((guestId: string | undefined, name?: string) => labelOf(labels, guestId, name), [labels]);
}

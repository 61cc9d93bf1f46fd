import type { RetentionPolicy, RetentionPreview } from '../../../../shared/domain/policy.js';
import type { SliceCreator } from './types.js';

/** A retention dry run being shown on the calendar. */
export interface RetentionOverlay {
  guest: string;
  forget: ReadonlySet<string>;
  forgetCount: number;
  freedBytes: number;
}

/** Retention policies per guest and the live preview overlay. */
export interface RetentionSlice {
  /** Guest name → stored policy (undefined = not loaded or not available). */
  policies: Record<string, RetentionPolicy | undefined>;
  overlay: RetentionOverlay | null;
  loadPolicies(guests: string[]): Promise<void>;
  setPolicy(guest: string, policy: RetentionPolicy): void;
  showPreview(p: RetentionPreview | null): void;
}

/** Turns a dry-run result into the calendar overlay. */
export function overlayOf(p: RetentionPreview): RetentionOverlay {
  return {
    guest: p.guest,
    forget: new Set(p.decisions.filter((d) => !d.keep).map((d) => d.snapshotId)),
    forgetCount: p.forgetCount,
    freedBytes: p.freedBytes,
  };
}

/** Creates the retention slice. */
export const createRetentionSlice: SliceCreator<RetentionSlice> = (deps) => (set, get) => ({
  policies: {},
  overlay: null,
  async loadPolicies(guests) {
    const results = await Promise.allSettled(guests.map((guest) => deps.engine['retention.get']({ guest })));
    const policies = { ...get().policies };
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') policies[guests[i]] = r.value.policy;
    });
    set({ policies });
  },
  setPolicy(guest, policy) {
    set({ policies: { ...get().policies, [guest]: policy } });
  },
  showPreview(p) {
    set({ overlay: p ? overlayOf(p) : null });
  },
});

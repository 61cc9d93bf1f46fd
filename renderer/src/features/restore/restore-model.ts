import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import type { RestoreNetwork } from '../../../../shared/domain/guest.js';

/** What the wizard restores. */
export type RestoreWhat = 'new-vm' | 'replace' | 'disks' | 'files';
/** Disk formats offered for "disks only". */
export const DISK_FORMATS = ['original', 'vmdk', 'vhdx', 'qcow2', 'raw'] as const;
/** One of DISK_FORMATS. */
export type DiskFormat = (typeof DISK_FORMATS)[number];

/**
 * The network choice of a whole-VM restore: disconnected (the default of a new VM — a copy beside
 * the running original would share its IP address and computer name), the original's networks
 * (the default of "replace"), or one network of the host (`networkName`).
 */
export type NetworkChoice = 'disconnected' | 'original' | 'connect';

/** The wizard's choices so far. */
export interface RestoreDraft {
  /** The guest's display name (what "replace" asks to type). */
  guest?: string;
  /** The guest's id (which restore points are its own); absent when only a name was given. */
  guestId?: string;
  snapshotId?: string;
  what?: RestoreWhat;
  to: string;
  newName: string;
  format: DiskFormat;
  confirmName: string;
  /** Where the points come from: the repository in use (default) or its offsite copy. */
  source?: 'local' | 'offsite';
  /** Whole VM only; unset = the default of `what` (networkChoice). */
  network?: NetworkChoice;
  /** The host network to connect to when `network` is 'connect'. */
  networkName?: string;
}

/** The network choice in effect: the user's, else disconnected for a new VM and the original's when replacing. */
export function networkChoice(d: RestoreDraft): NetworkChoice {
  return d.network ?? (d.what === 'replace' ? 'original' : 'disconnected');
}

/** How the review step names the network choice. */
export function networkLabel(d: RestoreDraft): string {
  const c = networkChoice(d);
  if (c === 'connect') return `connected to ${d.networkName ?? '?'}`;
  return c === 'original' ? "the original's networks" : 'left disconnected';
}

/** Steps of the wizard, in order. */
export const RESTORE_STEPS = ['Guest', 'Point in time', 'What', 'Where', 'Review', 'Progress'] as const;

/**
 * The newest restore point at or before `at` (ISO or anything Date.parse reads), and how far
 * before it is in ms. Undefined when every point is later (or there are none).
 */
export function nearestEarlier(points: SnapshotSummary[], at: string): { point: SnapshotSummary; beforeMs: number } | undefined {
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return undefined;
  let best: SnapshotSummary | undefined;
  let bestT = -Infinity;
  for (const p of points) {
    const pt = Date.parse(p.time);
    if (pt <= t && pt > bestT) {
      best = p;
      bestT = pt;
    }
  }
  return best ? { point: best, beforeMs: t - bestT } : undefined;
}

/** Why the user cannot go past step `step` yet (undefined = can). */
export function blockedAt(step: number, d: RestoreDraft): string | undefined {
  switch (step) {
    case 0:
      return d.guest ? undefined : 'choose a guest';
    case 1:
      return d.snapshotId ? undefined : 'choose a restore point';
    case 2:
      return d.what ? undefined : 'choose what to restore';
    case 3:
      if ((d.what === 'new-vm' || d.what === 'replace') && networkChoice(d) === 'connect' && !d.networkName) return 'choose the network to connect it to';
      if (d.what === 'replace') return d.confirmName === d.guest ? undefined : `type the guest's name (${d.guest}) to confirm replacing it`;
      if (!d.to.trim()) return 'enter a destination folder';
      if (d.what === 'new-vm' && !d.newName.trim()) return 'enter a name for the new VM';
      return undefined;
    default:
      return undefined;
  }
}

/** The restore.start request for a finished draft (not for "files", which uses the file browser). */
export function startRequest(d: RestoreDraft): {
  snapshotId: string;
  mode: 'new-vm' | 'replace' | 'disks';
  to: string;
  format?: DiskFormat;
  newName?: string;
  confirmName?: string;
  source?: 'offsite';
  network?: RestoreNetwork;
} {
  if (!d.snapshotId || !d.what || d.what === 'files') throw new Error('draft is not complete');
  const base = { snapshotId: d.snapshotId, mode: d.what, to: d.to.trim() || '.', ...(d.source === 'offsite' ? { source: 'offsite' as const } : {}) };
  if (d.what === 'disks') return { ...base, format: d.format };
  const c = networkChoice(d);
  const network: RestoreNetwork = c === 'connect' && d.networkName ? { kind: 'network', name: d.networkName } : { kind: c === 'original' ? 'original' : 'disconnected' };
  if (d.what === 'new-vm') return { ...base, newName: d.newName.trim(), network };
  return { ...base, confirmName: d.confirmName, network };
}

import type { JobInfo } from '../../../shared/domain/job.js';
import type { SnapshotSummary } from '../../../shared/domain/snapshot.js';

/** The last backup outcome of a guest, for the Guests page. */
export interface LastResult {
  at: string;
  label: string;
  ok: boolean;
}

const CONSISTENCY_LABEL: Record<SnapshotSummary['consistency'], string> = {
  'clean-twin': 'clean twin',
  crash: 'crash-consistent',
  cold: 'cold',
};

/**
 * For each guest id, the newer of its last finished backup job and its newest snapshot: a failed
 * job after the last snapshot shows as "failed".
 */
export function lastResultByGuest(jobs: JobInfo[], snapshots: SnapshotSummary[]): Map<string, LastResult> {
  const out = new Map<string, LastResult>();
  for (const s of snapshots) {
    const cur = out.get(s.guestId);
    if (!cur || cur.at < s.time) out.set(s.guestId, { at: s.time, label: CONSISTENCY_LABEL[s.consistency], ok: true });
  }
  for (const j of jobs) {
    if (j.kind !== 'backup' || !j.guestId || !j.finishedAt) continue;
    if (j.status !== 'failed' && j.status !== 'cancelled') continue;
    const cur = out.get(j.guestId);
    if (!cur || cur.at < j.finishedAt) out.set(j.guestId, { at: j.finishedAt, label: j.status, ok: false });
  }
  return out;
}

/** Running or queued jobs. */
export function activeJobs(jobs: JobInfo[] | undefined): JobInfo[] {
  return (jobs ?? []).filter((j) => j.status === 'running' || j.status === 'queued');
}

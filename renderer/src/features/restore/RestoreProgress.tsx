import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Typography from '@mui/material/Typography';
import { useGuestLabel } from '../../hooks/use-guest-label.js';
import { useApp } from '../../stores/hooks.js';
import { JobDetail } from '../jobs/JobDetail.js';
import type { RestoreDraft } from './restore-model.js';
import { StartRestoredVm } from './StartRestoredVm.js';

/** Steps 6–7: the restore job live, then a result that says where everything went. */
export function RestoreProgress({ jobId, d }: { jobId: string; d: RestoreDraft }) {
  const job = useApp((s) => s.jobs.data?.find((j) => j.id === jobId));
  // "replace" restores into the guest's own folder: the folder of its configuration file (found
  // by id: another guest may have the same name)
  const config = useApp((s) => s.guests.data?.find((g) => (d.guestId ? g.id === d.guestId : g.name === d.guest))?.configPath);
  const label = useGuestLabel()(d.guestId, d.guest);
  const startIn = d.what === 'replace' ? config?.replace(/[\\/][^\\/]*$/, '') : d.what === 'new-vm' ? d.to : undefined;
  if (!job) return <Typography>Waiting for the restore job to start…</Typography>;
  const done = job.status === 'succeeded' || job.status === 'warning';
  return (
    <>
      {done && (
        <Alert severity="success" sx={{ mb: 2 }} data-testid="restore-result">
          <AlertTitle>Restore finished</AlertTitle>
          {d.what === 'replace' ? `${label} was replaced by the restore point.` : `Restored to ${d.to}.`}
          {/* Where everything went and how to start it, in the engine's own words. */}
          {job.steps
            .filter((st) => st.detail)
            .map((st) => (
              <div key={st.id}>{st.detail}</div>
            ))}
        </Alert>
      )}
      {/* A clean new-VM restore (own identity, registered) or a replaced guest can be started from here. */}
      {job.status === 'succeeded' && startIn && <StartRestoredVm to={startIn} replaced={d.what === 'replace'} />}
      {job.status === 'failed' && (
        <Alert severity="error" sx={{ mb: 2 }}>
          The restore failed{job.error ? `: ${job.error.message}` : ''}. The log below says what was done.
        </Alert>
      )}
      <JobDetail job={job} />
    </>
  );
}

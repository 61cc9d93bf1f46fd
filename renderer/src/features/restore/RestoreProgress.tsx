import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Typography from '@mui/material/Typography';
import { useApp } from '../../stores/hooks.js';
import { JobDetail } from '../jobs/JobDetail.js';
import type { RestoreDraft } from './restore-model.js';

/** Steps 6–7: the restore job live, then a result that says where everything went. */
export function RestoreProgress({ jobId, d }: { jobId: string; d: RestoreDraft }) {
  const job = useApp((s) => s.jobs.data?.find((j) => j.id === jobId));
  if (!job) return <Typography>Waiting for the restore job to start…</Typography>;
  const done = job.status === 'succeeded' || job.status === 'warning';
  return (
    <>
      {done && (
        <Alert severity="success" sx={{ mb: 2 }} data-testid="restore-result">
          <AlertTitle>Restore finished</AlertTitle>
          {d.what === 'new-vm' && `The new VM “${d.newName}” is in ${d.to} and registered with its hypervisor. Start it from the Guests page or the hypervisor's console.`}
          {d.what === 'disks' && `The disks were written to ${d.to}${d.format !== 'original' ? ` as ${d.format.toUpperCase()}` : ''}. Attach them to a VM or open them with your disk tools.`}
          {d.what === 'replace' && `${d.guest} was replaced by the restore point; the safety backup is in the calendar. Start the guest when ready.`}
        </Alert>
      )}
      {job.status === 'failed' && (
        <Alert severity="error" sx={{ mb: 2 }}>
          The restore failed{job.error ? `: ${job.error.message}` : ''}. Nothing was changed on the original guest.
        </Alert>
      )}
      <JobDetail job={job} />
    </>
  );
}

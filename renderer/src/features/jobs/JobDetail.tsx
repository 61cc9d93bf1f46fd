import { useEffect, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import type { JobInfo } from '../../../../shared/domain/job.js';
import { formatDateTime, formatDuration } from '../../lib/format.js';
import { JobProgressLine } from '../../components/JobProgressLine.js';
import { useGuestLabel } from '../../hooks/use-guest-label.js';
import { useApp } from '../../stores/hooks.js';
import { JobLog } from './JobLog.js';
import { JobSteps } from './JobSteps.js';
import { JOB_KIND, JOB_STATUS } from './job-words.js';

/** One job, live: steps, production pause, progress with throughput and ETA, Cancel, log. */
export function JobDetail({ job }: { job: JobInfo }) {
  const rate = useApp((s) => s.rates[job.id]);
  const cancelJob = useApp((s) => s.cancelJob);
  const navigate = useApp((s) => s.navigate);
  const label = useGuestLabel();
  const active = job.status === 'running' || job.status === 'queued';
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return (
    <Card variant="outlined" data-testid="job-detail" data-status={job.status}>
      <CardContent>
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mb: 1 }}>
          <Typography variant="h2" component="h2" sx={{ flex: 1 }}>
            {job.guest ? label(job.guestId, job.guest) : 'Repository'} — {JOB_KIND[job.kind]}{' '}
            <Box component="span" sx={{ color: 'text.secondary', fontWeight: 400 }}>
              ({JOB_STATUS[job.status]})
            </Box>
          </Typography>
          {active && (
            <Button color="warning" variant="outlined" onClick={() => void cancelJob(job.id)}>
              Cancel
            </Button>
          )}
        </Box>
        <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
          {job.trigger === 'scheduled' ? 'Scheduled run' : 'Started by hand'} · {job.status === 'queued' ? 'waiting for a free twin slot since' : 'started'}{' '}
          {formatDateTime(job.startedAt ?? job.createdAt)}
          {job.finishedAt ? ` · finished ${formatDateTime(job.finishedAt)} · took ${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.startedAt ?? job.createdAt))}` : ''}
          {job.pauseMs !== undefined ? ` · production paused ${formatDuration(job.pauseMs)}` : ''}
        </Typography>
        {job.error && (
          <Alert severity="error" sx={{ mb: 1 }}>
            {job.error.message}
          </Alert>
        )}
        {job.warnings.map((w) => (
          <Alert key={w} severity="warning" sx={{ mb: 1 }}>
            {w}
          </Alert>
        ))}
        <JobProgressLine job={job} rate={rate} />
        <JobSteps steps={job.steps} now={now} />
        {job.snapshotId && (
          <Button sx={{ mt: 1 }} onClick={() => navigate('calendar')}>
            See the restore point in the calendar
          </Button>
        )}
        <Typography variant="subtitle2" sx={{ mt: 2, mb: 0.5 }}>
          Log
        </Typography>
        <JobLog jobId={job.id} version={`${job.status}:${job.steps.filter((s) => s.status === 'done').length}`} />
      </CardContent>
    </Card>
  );
}

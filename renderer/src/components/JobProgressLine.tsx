import Box from '@mui/material/Box';
import LinearProgress from '@mui/material/LinearProgress';
import Typography from '@mui/material/Typography';
import type { JobInfo } from '../../../shared/domain/job.js';
import { formatBytes, formatDuration, formatRate } from '../lib/format.js';
import type { JobRate } from '../stores/slices/jobs-slice.js';

/** A job's data progress: bar, bytes done of total and, while it runs, throughput and ETA (the Jobs page, the Offsite section's Copy now). */
export function JobProgressLine({ job, rate }: { job: JobInfo; rate?: JobRate }) {
  const active = job.status === 'running' || job.status === 'queued';
  const pct = job.bytesTotal ? Math.min(100, (100 * (job.bytesDone ?? 0)) / job.bytesTotal) : undefined;
  if (!((active || pct !== undefined) && job.bytesTotal !== undefined)) return null;
  return (
    <Box sx={{ mb: 1 }} data-testid="job-progress">
      <LinearProgress variant={pct === undefined ? 'indeterminate' : 'determinate'} value={pct ?? 0} aria-label="Data progress" />
      <Typography variant="body2" sx={{ mt: 0.5, fontVariantNumeric: 'tabular-nums' }}>
        {formatBytes(job.bytesDone ?? 0)} / {formatBytes(job.bytesTotal)}
        {active ? ` · ${formatRate(rate?.bytesPerSecond)} · ETA ${rate?.etaSeconds !== undefined ? formatDuration(rate.etaSeconds * 1000) : '—'}` : ''}
      </Typography>
    </Box>
  );
}

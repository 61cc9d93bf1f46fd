import Badge from '@mui/material/Badge';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import WorkHistoryIcon from '@mui/icons-material/WorkHistory';
import { useApp } from '../stores/hooks.js';

/** Top-bar indicator of running/queued jobs; opens the Jobs page. */
export function RunningJobsIndicator() {
  const running = useApp((s) => (s.jobs.data ?? []).filter((j) => j.status === 'running' || j.status === 'queued').length);
  const navigate = useApp((s) => s.navigate);
  const label = running === 0 ? 'No jobs running' : running === 1 ? '1 job running' : `${running} jobs running`;
  return (
    <Button
      color="inherit"
      onClick={() => navigate('jobs')}
      data-testid="running-jobs"
      startIcon={
        running > 0 ? (
          <CircularProgress size={18} color="inherit" aria-hidden />
        ) : (
          <Badge badgeContent={0} color="secondary">
            <WorkHistoryIcon />
          </Badge>
        )
      }
    >
      {label}
    </Button>
  );
}

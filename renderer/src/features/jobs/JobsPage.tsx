import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemText from '@mui/material/ListItemText';
import Paper from '@mui/material/Paper';
import { LoadState } from '../../components/LoadState.js';
import { PageHeader } from '../../components/PageHeader.js';
import { formatDateTime } from '../../lib/format.js';
import { useApp } from '../../stores/hooks.js';
import { JobDetail } from './JobDetail.js';
import { JOB_KIND, JOB_STATUS, JOB_TRIGGER } from './job-words.js';
import { guestLabels, labelOf } from '../../lib/guest-labels.js';

const STATUS_COLOR = { queued: 'default', running: 'info', succeeded: 'success', warning: 'warning', failed: 'error', cancelled: 'default' } as const;

/** Jobs: running ones first, live; history below; the selected job's steps and log. */
export function JobsPage() {
  const jobs = useApp((s) => s.jobs);
  const refresh = useApp((s) => s.refreshJobs);
  const selectedId = useApp((s) => s.routeParams.job);
  const navigate = useApp((s) => s.navigate);
  const guests = useApp((s) => s.guests.data);
  return (
    <>
      <PageHeader title="Jobs" subtitle="Running and recent backups, restores and maintenance" />
      <LoadState value={jobs} what="Jobs" onRetry={() => void refresh()}>
        {(list) => {
          if (list.length === 0)
            return (
              <Alert severity="info" data-testid="jobs-empty">
                No jobs yet. Click Back up now to start one.
              </Alert>
            );
          const active = list.filter((j) => j.status === 'running' || j.status === 'queued');
          const selected = list.find((j) => j.id === selectedId) ?? active[0] ?? list[0];
          // same-named guests are told apart by folder (or id)
          const labels = guestLabels(
            guests ?? [],
            list.map((j) => ({ guestId: j.guestId, name: j.guest })),
          );
          return (
            <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', md: '340px 1fr' }, gap: 2, alignItems: 'start' }}>
              <Paper variant="outlined">
                <List dense aria-label="Jobs" sx={{ maxHeight: 'calc(100vh - 220px)', overflow: 'auto' }}>
                  {list.map((j) => (
                    <ListItem key={j.id} disablePadding>
                      <ListItemButton selected={j.id === selected.id} onClick={() => navigate('jobs', { job: j.id })} data-testid="job-item" aria-current={j.id === selected.id ? 'true' : undefined}>
                        <ListItemText
                          primary={`${j.guest ? labelOf(labels, j.guestId, j.guest) : 'Repository'} — ${JOB_KIND[j.kind]}`}
                          secondary={`${formatDateTime(j.createdAt)} · ${JOB_TRIGGER[j.trigger ?? 'manual']}`}
                          data-testid="job-trigger"
                        />
                        <Chip size="small" label={JOB_STATUS[j.status]} color={STATUS_COLOR[j.status]} variant={j.status === 'running' ? 'filled' : 'outlined'} />
                      </ListItemButton>
                    </ListItem>
                  ))}
                </List>
              </Paper>
              <JobDetail key={selected.id} job={selected} />
            </Box>
          );
        }}
      </LoadState>
    </>
  );
}

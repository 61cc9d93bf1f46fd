import Box from '@mui/material/Box';
import CircularProgress from '@mui/material/CircularProgress';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemIcon from '@mui/material/ListItemIcon';
import ListItemText from '@mui/material/ListItemText';
import CheckCircleIcon from '@mui/icons-material/CheckCircle';
import CancelIcon from '@mui/icons-material/Cancel';
import RadioButtonUncheckedIcon from '@mui/icons-material/RadioButtonUnchecked';
import RemoveCircleOutlineIcon from '@mui/icons-material/RemoveCircleOutlineOutlined';
import type { JobStep } from '../../../../shared/domain/job.js';
import { formatDuration } from '../../lib/format.js';

const STATUS_WORD: Record<JobStep['status'], string> = { pending: 'pending', running: 'running', done: 'done', skipped: 'skipped', failed: 'failed' };

function StepIcon({ status }: { status: JobStep['status'] }) {
  switch (status) {
    case 'done':
      return <CheckCircleIcon color="success" aria-hidden />;
    case 'running':
      // a fixed box: inside the flex row the spinner otherwise shrank to a 2-px sliver
      return <CircularProgress size={20} thickness={5} aria-hidden data-testid="step-spinner" sx={{ flexShrink: 0, minWidth: 20, minHeight: 20 }} />;
    case 'failed':
      return <CancelIcon color="error" aria-hidden />;
    case 'skipped':
      return <RemoveCircleOutlineIcon color="disabled" aria-hidden />;
    default:
      return <RadioButtonUncheckedIcon color="disabled" aria-hidden />;
  }
}

/** The steps of a job with status and durations (running steps count up from their start). */
export function JobSteps({ steps, now }: { steps: JobStep[]; now: number }) {
  return (
    <List dense aria-label="Steps" data-testid="job-steps">
      {steps.map((s) => {
        // The engine's clock may run ahead of this browser's: a running step never shows a negative time.
        const dur = s.durationMs ?? (s.status === 'running' && s.startedAt ? Math.max(0, now - Date.parse(s.startedAt)) : undefined);
        return (
          <ListItem key={s.id} data-step={s.id} data-status={s.status} sx={{ py: 0.25 }}>
            <ListItemIcon sx={{ minWidth: 36 }}>
              <StepIcon status={s.status} />
            </ListItemIcon>
            <ListItemText
              primary={
                <Box component="span" sx={{ display: 'flex', gap: 2 }}>
                  <Box component="span" sx={{ flex: 1, fontWeight: s.status === 'running' ? 700 : 400 }}>
                    {s.label}
                    <Box component="span" sx={{ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' }}>
                      {' '}
                      ({STATUS_WORD[s.status]})
                    </Box>
                  </Box>
                  <Box component="span" sx={{ color: 'text.secondary', fontVariantNumeric: 'tabular-nums' }}>
                    {dur !== undefined ? `${formatDuration(dur)}${s.status === 'running' ? ' …' : ''}` : ''}
                  </Box>
                </Box>
              }
              secondary={s.detail}
            />
          </ListItem>
        );
      })}
    </List>
  );
}

import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Divider from '@mui/material/Divider';
import Drawer from '@mui/material/Drawer';
import IconButton from '@mui/material/IconButton';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import CloseIcon from '@mui/icons-material/Close';
import { formatDateTime, formatTime } from '../../lib/format.js';
import { useApp } from '../../stores/hooks.js';
import { MARK_LABEL, MARK_SYMBOL, parseDayKey, type CalendarMark } from './calendar-layout.js';
import { SnapshotDetails } from './SnapshotDetails.js';

/** What the drawer shows: one guest's day and the selected point. */
export interface DaySelection {
  /** The guest's id. */
  guest: string;
  /** How the guest is shown (name, with its folder when the name is shared). */
  label: string;
  dayKey: string;
  marks: CalendarMark[];
  selectedKey?: string;
  /** An offsite copy is set up (each mark says whether its point is in it). */
  offsite?: boolean;
}

/** Props of SnapshotDrawer. */
export interface SnapshotDrawerProps {
  selection: DaySelection | null;
  onSelect(key: string): void;
  onClose(): void;
  onRetention(guest: string): void;
}

/** Right-hand panel of a calendar day: its points, and the selected one's facts and actions. */
export function SnapshotDrawer({ selection, onSelect, onClose, onRetention }: SnapshotDrawerProps) {
  const navigate = useApp((s) => s.navigate);
  const open = selection !== null;
  const marks = selection?.marks ?? [];
  const sel = marks.find((m) => m.key === selection?.selectedKey) ?? marks[marks.length - 1];
  const day = selection ? parseDayKey(selection.dayKey).toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }) : '';
  return (
    <Drawer anchor="right" open={open} onClose={onClose} slotProps={{ paper: { sx: { width: { xs: '100%', sm: 460 }, p: 2 }, 'aria-labelledby': 'snapshot-drawer-title' } as object }}>
      {selection && (
        <>
          <Box sx={{ display: 'flex', alignItems: 'center', mb: 1 }}>
            <Typography id="snapshot-drawer-title" variant="h2" component="h2" sx={{ flex: 1 }}>
              {selection.label} — {day}
            </Typography>
            <IconButton aria-label="Close" onClick={onClose}>
              <CloseIcon />
            </IconButton>
          </Box>
          {marks.length === 0 ? (
            <Typography>No restore points on this day.</Typography>
          ) : (
            <ToggleButtonGroup exclusive size="small" value={sel?.key} onChange={(_e, v: string | null) => v && onSelect(v)} aria-label="Restore points of this day" sx={{ flexWrap: 'wrap', mb: 2 }}>
              {marks.map((m) => (
                <ToggleButton key={m.key} value={m.key} aria-label={`${formatTime(m.at)} ${MARK_LABEL[m.kind]}`}>
                  <Box component="span" aria-hidden sx={{ mr: 0.5 }}>
                    {MARK_SYMBOL[m.kind]}
                  </Box>
                  {formatTime(m.at)}
                </ToggleButton>
              ))}
            </ToggleButtonGroup>
          )}
          <Divider sx={{ mb: 2 }} />
          {sel?.snapshot && (
            <SnapshotDetails key={sel.key} s={sel.snapshot} offsite={selection.offsite ? (sel.offsite ?? null) : undefined} onRetention={() => onRetention(selection.guest)} onForgotten={onClose} />
          )}
          {sel?.job && (
            <Box>
              <Alert severity="error" sx={{ mb: 2 }}>
                Backup failed {formatDateTime(sel.job.finishedAt ?? sel.job.createdAt)}
                {sel.job.error ? `: ${sel.job.error.message}` : ''}
              </Alert>
              <Button variant="outlined" onClick={() => navigate('jobs', { job: sel.job!.id })}>
                Open the job and its log
              </Button>
            </Box>
          )}
        </>
      )}
    </Drawer>
  );
}

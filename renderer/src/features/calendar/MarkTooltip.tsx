import Paper from '@mui/material/Paper';
import Popper from '@mui/material/Popper';
import Typography from '@mui/material/Typography';
import { formatBytes, formatDateTime, formatDuration } from '../../lib/format.js';
import { MARK_LABEL, offsiteWords, type CalendarMark } from './calendar-layout.js';

/** The mark under the mouse. */
export interface HoveredMark {
  anchor: HTMLElement;
  mark: CalendarMark;
  guest: string;
}

/** One shared hover card for all marks of the grid (cheaper than a tooltip per mark). */
export function MarkTooltip({ hovered }: { hovered: HoveredMark | null }) {
  if (!hovered) return null;
  const { mark, guest } = hovered;
  const s = mark.snapshot;
  return (
    <Popper open anchorEl={hovered.anchor} placement="top" sx={{ zIndex: 1500, pointerEvents: 'none' }}>
      <Paper elevation={6} sx={{ p: 1, maxWidth: 320 }} data-testid="mark-tooltip">
        <Typography variant="subtitle2">
          {guest} · {formatDateTime(mark.at)}
        </Typography>
        <Typography variant="body2">
          {MARK_LABEL[mark.kind]}
          {mark.verified ? ' · boot-verified' : ''}
          {mark.forget ? ' · would be forgotten' : ''}
          {mark.offsite ? ` · ${offsiteWords(mark.offsite, formatDateTime)}` : ''}
        </Typography>
        {s && (
          <Typography variant="body2" color="text.secondary">
            {formatBytes(s.logicalBytes)} logical{s.newBytes !== undefined ? ` · ${formatBytes(s.newBytes)} new` : ''}
            {s.pauseMs !== undefined ? ` · paused ${formatDuration(s.pauseMs)}` : ''}
          </Typography>
        )}
        {mark.job?.error && (
          <Typography variant="body2" color="error">
            {mark.job.error.message}
          </Typography>
        )}
      </Paper>
    </Popper>
  );
}

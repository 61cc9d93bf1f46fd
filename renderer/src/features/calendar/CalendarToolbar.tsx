import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import IconButton from '@mui/material/IconButton';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import { useTheme } from '@mui/material/styles';
import ChevronLeftIcon from '@mui/icons-material/ChevronLeft';
import ChevronRightIcon from '@mui/icons-material/ChevronRight';
import { OUTCOME_COLORS } from '../../app/theme.js';
import { addDays, parseDayKey } from './calendar-layout.js';

/** Day ranges offered. */
export const RANGES = [7, 14, 30, 90] as const;

/** Props of CalendarToolbar. */
export interface CalendarToolbarProps {
  endDay: string;
  days: number;
  todayKey: string;
  onChange(endDay: string, days: number): void;
  /** An offsite copy is set up: the legend explains its badge. */
  offsite?: boolean;
}

function rangeText(endDay: string, days: number): string {
  const fmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
  return `${fmt.format(parseDayKey(addDays(endDay, -(days - 1))))} – ${fmt.format(parseDayKey(endDay))}`;
}

/** Range navigation (◀ ▶, Today, 7/14/30/90 days) and the legend. */
export function CalendarToolbar({ endDay, days, todayKey, onChange, offsite }: CalendarToolbarProps) {
  const theme = useTheme();
  const c = OUTCOME_COLORS[theme.palette.mode];
  const legend: [string, string, string][] = [
    ['●', c.clean, 'clean twin'],
    ['◐', c.crash, 'crash-consistent'],
    ['○', c.cold, 'cold'],
    ['✕', c.failed, 'failed'],
    ['✓', c.clean, 'boot-verified'],
    ['○', c.forget, 'would be forgotten'],
    ...(offsite
      ? ([
          ['▲', theme.palette.primary.main, 'offsite, locked'],
          ['△', theme.palette.primary.main, 'offsite'],
        ] as [string, string, string][])
      : []),
  ];
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, flexWrap: 'wrap', mb: 1 }}>
      <IconButton aria-label="Earlier" onClick={() => onChange(addDays(endDay, -days), days)}>
        <ChevronLeftIcon />
      </IconButton>
      <Typography component="div" sx={{ minWidth: 220, textAlign: 'center', fontWeight: 600 }} aria-live="polite" data-testid="calendar-range">
        {rangeText(endDay, days)}
      </Typography>
      <IconButton aria-label="Later" disabled={endDay >= todayKey} onClick={() => onChange(addDays(endDay, days) > todayKey ? todayKey : addDays(endDay, days), days)}>
        <ChevronRightIcon />
      </IconButton>
      <Button size="small" onClick={() => onChange(todayKey, days)} disabled={endDay === todayKey}>
        Today
      </Button>
      <ToggleButtonGroup size="small" exclusive value={days} aria-label="Days shown" onChange={(_e, v: number | null) => v && onChange(endDay, v)}>
        {RANGES.map((r) => (
          <ToggleButton key={r} value={r} sx={{ textTransform: 'none' }}>
            {r} days
          </ToggleButton>
        ))}
      </ToggleButtonGroup>
      <Box sx={{ flex: 1 }} />
      <Box component="ul" aria-label="Legend" sx={{ display: 'flex', gap: 1.5, listStyle: 'none', m: 0, p: 0, flexWrap: 'wrap', fontSize: 13 }}>
        {legend.map(([sym, color, label]) => (
          <li key={label}>
            <Box component="span" sx={{ color, fontWeight: 700, mr: 0.5 }} aria-hidden>
              {sym}
            </Box>
            {label}
          </li>
        ))}
        <li>
          <Box
            component="span"
            sx={{ display: 'inline-block', width: 14, height: 10, mr: 0.5, backgroundImage: 'repeating-linear-gradient(135deg, transparent 0 3px, rgba(127,127,127,.45) 3px 5px)' }}
            aria-hidden
          />
          beyond retention
        </li>
      </Box>
    </Box>
  );
}

import { alpha, type Theme } from '@mui/material/styles';
import type { SystemStyleObject } from '@mui/system';
import { OUTCOME_COLORS } from '../../app/theme.js';

/** Row height, header height and guest column width of the calendar grid (px). */
export const ROW_H = 48;
export const HEAD_H = 44;
export const GUEST_W = 250;

/**
 * One style sheet for the whole grid: cells and marks use plain class names (no per-element
 * styling), which keeps thousands of marks cheap to render.
 */
export function gridStyles(theme: Theme): SystemStyleObject<Theme> {
  const c = OUTCOME_COLORS[theme.palette.mode];
  const line = theme.palette.divider;
  return {
    position: 'relative',
    overflow: 'auto',
    border: 1,
    borderColor: 'divider',
    borderRadius: 1,
    bgcolor: 'background.paper',
    '& .gr': { display: 'flex', height: ROW_H, borderBottom: `1px solid ${line}`, contain: 'layout style' },
    '& .gh': { display: 'flex', height: HEAD_H, position: 'sticky', top: 0, zIndex: 3, bgcolor: 'background.paper', borderBottom: `1px solid ${line}` },
    '& .gn': {
      position: 'sticky',
      left: 0,
      zIndex: 2,
      width: GUEST_W,
      minWidth: GUEST_W,
      bgcolor: 'background.paper',
      borderRight: `1px solid ${line}`,
      px: 1,
      display: 'flex',
      flexDirection: 'column',
      justifyContent: 'center',
      overflow: 'hidden',
      cursor: 'pointer',
    },
    '& .gh .gn': { zIndex: 4, cursor: 'default', fontWeight: 600 },
    '& .gc': { position: 'relative', flexShrink: 0, borderRight: `1px solid ${line}`, outline: 'none', contain: 'layout style' },
    '& .gd': { flexShrink: 0, borderRight: `1px solid ${line}`, display: 'flex', flexDirection: 'column', alignItems: 'center', justifyContent: 'center', fontSize: 12, lineHeight: 1.2, overflow: 'hidden' },
    '& .we': { bgcolor: alpha(theme.palette.text.primary, 0.03) },
    '& .td': { bgcolor: alpha(theme.palette.primary.main, 0.1) },
    '& .gd.td': { fontWeight: 700, color: 'primary.main' },
    '& .bh': { backgroundImage: `repeating-linear-gradient(135deg, transparent 0 4px, ${alpha(theme.palette.text.primary, 0.1)} 4px 6px)` },
    '& [tabindex="0"]:focus-visible, & .gc:focus-visible, & .gn:focus-visible': { outline: `2px solid ${theme.palette.primary.main}`, outlineOffset: -2 },
    '& .act': { boxShadow: `inset 0 0 0 1px ${alpha(theme.palette.primary.main, 0.5)}` },
    '& .mk': { position: 'absolute', top: '50%', transform: 'translate(-50%, -50%)', fontSize: 15, lineHeight: 1, cursor: 'pointer', userSelect: 'none' },
    '& .mk-clean': { color: c.clean },
    '& .mk-crash': { color: c.crash },
    '& .mk-cold': { color: c.cold },
    '& .mk-failed': { color: c.failed, fontWeight: 700 },
    '& .mk-f': { color: c.forget },
    '& .mk-v::after': { content: '"✓"', position: 'absolute', fontSize: 10, top: -7, right: -7, color: c.clean, fontWeight: 700 },
    '& .mk-sel': { textShadow: `0 0 4px ${theme.palette.primary.main}`, fontSize: 18 },
    '& .stale': { color: c.failed, fontWeight: 700 },
  };
}

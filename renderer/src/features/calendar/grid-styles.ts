import { alpha, type Theme } from '@mui/material/styles';
import type { SystemStyleObject } from '@mui/system';
import { OUTCOME_COLORS } from '../../app/theme.js';

/** Row height, header height and guest column width of the calendar grid (px). */
export const ROW_H = 48;
export const HEAD_H = 44;
export const GUEST_W = 250;

/**
 * One style sheet for the whole grid: cells use plain class names and a shared column width
 * (`--cw`), no per-element styling; marks are drawn on one canvas per row (see mark-canvas.ts).
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
    '& .gr': { display: 'flex', position: 'relative', height: ROW_H, borderBottom: `1px solid ${line}`, contain: 'layout style' },
    // One canvas per row draws its marks over the day cells (cells stay for keyboard and ARIA).
    '& .gm': { position: 'absolute', left: GUEST_W, top: 0, height: ROW_H, zIndex: 1, pointerEvents: 'none' },
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
    // Day cells paint nothing themselves: the row canvas draws shading, hatch, lines and marks.
    '& .gc': { width: 'var(--cw)', flexShrink: 0, cursor: 'pointer', outline: 'none', contain: 'layout style' },
    '& .gd': {
      width: 'var(--cw)',
      flexShrink: 0,
      borderRight: `1px solid ${line}`,
      display: 'flex',
      flexDirection: 'column',
      alignItems: 'center',
      justifyContent: 'center',
      fontSize: 12,
      lineHeight: 1.2,
      overflow: 'hidden',
    },
    '& .gd.we': { bgcolor: alpha(theme.palette.text.primary, 0.03) },
    '& .gd.td': { bgcolor: alpha(theme.palette.primary.main, 0.1), fontWeight: 700, color: 'primary.main' },
    '& [tabindex="0"]:focus-visible, & .gc:focus-visible, & .gn:focus-visible': { outline: `2px solid ${theme.palette.mode === 'dark' ? '#ffffff' : theme.palette.primary.main}`, outlineOffset: -2 },
    // The active / focused cell is lifted above the row canvas so its ring is drawn on top.
    '& .gc.act, & .gc:focus-visible': { position: 'relative', zIndex: 1 },
    '& .act': { boxShadow: `inset 0 0 0 1px ${alpha(theme.palette.primary.main, 0.5)}` },
    '& .stale': { color: c.failed, fontWeight: 700 },
  };
}

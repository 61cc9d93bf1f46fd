import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type CSSProperties, type KeyboardEvent, type MouseEvent } from 'react';
import Box from '@mui/material/Box';
import { alpha, useTheme } from '@mui/material/styles';
import { useElementSize } from '../../hooks/use-element-size.js';
import { formatDateTime, formatTime } from '../../lib/format.js';
import { MARK_LABEL, offsiteWords, type CalendarDay, type CalendarLayout, type CalendarMark, type CalendarRow } from './calendar-layout.js';
import { moveInGrid, visibleRows, type GridPos } from './grid-keys.js';
import { GUEST_W, HEAD_H, ROW_H, gridStyles } from './grid-styles.js';
import { MarkTooltip, type HoveredMark } from './MarkTooltip.js';
import { DAY_BEYOND, DAY_TODAY, DAY_WEEKEND, drawRow, markAt, type MarkColors } from './mark-canvas.js';
import { OUTCOME_COLORS } from '../../app/theme.js';

/** What the row header shows besides the name. */
export interface RowInfo {
  subtitle: string;
  stale: boolean;
  hypervisor?: string;
}

/** Props of CalendarGrid. */
export interface CalendarGridProps {
  layout: CalendarLayout;
  rowInfo: Record<string, RowInfo>;
  /** Key of the selected mark (highlighted). */
  selectedKey?: string;
  onOpenDay(row: CalendarRow, dayIndex: number, markKey?: string): void;
  onOpenGuest(guest: string): void;
  /** Max height of the scroll area (CSS). */
  maxHeight?: string;
}

const DAY_LETTER = ['S', 'M', 'T', 'W', 'T', 'F', 'S'];

function dayLabels(days: CalendarDay[]): string[] {
  const fmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  return days.map((d) => {
    const [y, m, dd] = d.key.split('-').map(Number);
    return fmt.format(new Date(y, m - 1, dd));
  });
}

function cellLabel(guest: string, dayLabel: string, marks: CalendarMark[], beyond: boolean): string {
  const parts = [`${guest}, ${dayLabel}`];
  if (marks.length === 0) parts.push('no restore points');
  else {
    const good = marks.filter((m) => m.kind !== 'failed');
    const failed = marks.length - good.length;
    if (good.length)
      parts.push(
        `${good.length} restore point${good.length > 1 ? 's' : ''}: ${good.map((m) => `${formatTime(m.at)} ${MARK_LABEL[m.kind]}${m.verified ? ' verified' : ''}${m.offsite ? ` ${offsiteWords(m.offsite, formatDateTime)}` : ''}${m.damaged ? ' DAMAGED (forget it, back up now)' : ''}${m.forget ? ' (would be forgotten)' : ''}`).join(', ')}`,
      );
    if (failed) parts.push(`${failed} failed backup${failed > 1 ? 's' : ''}`);
  }
  if (beyond) parts.push('beyond the retention horizon');
  return parts.join('; ');
}

interface RowProps {
  row: CalendarRow;
  r: number;
  info: RowInfo | undefined;
  days: CalendarDay[];
  labels: string[];
  colW: number;
  active: GridPos;
  selectedKey?: string;
  /** Narrow columns: one glyph per day (the most important point) instead of one per point. */
  compact: boolean;
  colors: MarkColors;
}

const RANK: Record<CalendarMark['kind'], number> = { failed: 3, crash: 2, clean: 1, cold: 0 };

/** The one mark a compact cell shows: failures first, then crash fallbacks, then the newest. */
export function summaryMark(marks: CalendarMark[]): CalendarMark[] {
  if (marks.length <= 1) return marks;
  let best = marks[marks.length - 1];
  for (const m of marks) if (RANK[m.kind] > RANK[best.kind] || (m.forget === false && best.forget && RANK[m.kind] >= RANK[best.kind])) best = m;
  return [{ ...best, frac: 0.5 }];
}

const GridRow = memo(function GridRow({ row, r, info, days, labels, colW, active, selectedKey, compact, colors }: RowProps) {
  const activeHere = active.r === r;
  const canvas = useRef<HTMLCanvasElement>(null);
  // What each day shows: every point, or (narrow columns) the one that matters most.
  const drawn = useMemo(() => row.cells.map((c) => (compact ? summaryMark(c.marks) : c.marks)), [row, compact]);
  const flags = useMemo(
    () => row.cells.map((c, i) => (days[i].isToday ? DAY_TODAY : days[i].weekday === 0 || days[i].weekday === 6 ? DAY_WEEKEND : 0) | (c.beyondHorizon ? DAY_BEYOND : 0)),
    [row, days],
  );
  const sel = drawn.some((ms) => ms.some((m) => m.key === selectedKey)) ? selectedKey : undefined;
  const subtitle = `${row.orphan ? 'not found on a hypervisor · ' : ''}${info ? `${info.hypervisor ? `${info.hypervisor} · ` : ''}${info.subtitle}` : ''}`;
  useLayoutEffect(() => {
    if (canvas.current) drawRow(canvas.current, drawn, colW, ROW_H, compact, sel, colors, flags);
  }, [drawn, colW, compact, sel, colors, flags]);
  return (
    <div className="gr" role="row" aria-rowindex={r + 2} data-guest={row.guest}>
      <div
        className={`gn${activeHere && active.c === 0 ? ' act' : ''}`}
        role="rowheader"
        tabIndex={activeHere && active.c === 0 ? 0 : -1}
        data-cell={`${r}:0`}
        // the whole header (name and subtitle, which are cut off in a narrow column) as the tooltip
        title={`${row.label}${subtitle ? ` — ${subtitle}` : ''}\nClick to open its schedule and retention settings`}
      >
        <Box component="span" sx={{ fontWeight: 600, whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }}>
          {row.label}
          {info?.stale && (
            <span className="stale" aria-label="stale: no good backup for longer than the schedule expects" title="No good backup for longer than the schedule expects">
              {' '}
              !
            </span>
          )}
        </Box>
        <Box component="span" sx={{ fontSize: 12, color: 'text.secondary', whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }}>
          {subtitle}
        </Box>
      </div>
      <canvas ref={canvas} className="gm" aria-hidden style={{ width: days.length * colW }} />
      {row.cells.map((cell, i) => {
        const c = i + 1;
        const d = days[i];
        const isActive = activeHere && active.c === c;
        const n = drawn[i].length;
        const cls = `gc${d.isToday ? ' td' : d.weekday === 0 || d.weekday === 6 ? ' we' : ''}${cell.beyondHorizon ? ' bh' : ''}${isActive ? ' act' : ''}`;
        return (
          <div
            key={d.key}
            className={cls}
            role="gridcell"
            tabIndex={isActive ? 0 : -1}
            data-cell={`${r}:${c}`}
            data-marks={n || undefined}
            data-forget={n && drawn[i].some((m) => m.forget) ? drawn[i].filter((m) => m.forget).length : undefined}
            data-damaged={n && cell.marks.some((m) => m.damaged) ? cell.marks.filter((m) => m.damaged).length : undefined}
            aria-label={cellLabel(row.label, labels[i], cell.marks, cell.beyondHorizon)}
            aria-current={d.isToday ? 'date' : undefined}
          />
        );
      })}
    </div>
  );
});

/** The header row of day columns; its own memo, so scrolling never rebuilds it. */
const GridHead = memo(function GridHead({ days, labels, narrow }: { days: CalendarDay[]; labels: string[]; narrow: boolean }) {
  return (
    <div className="gh" role="row" aria-rowindex={1}>
      <div className="gn" role="columnheader">
        Guest
      </div>
      {days.map((d, i) => (
        <div key={d.key} className={`gd${d.isToday ? ' td' : d.weekday === 0 || d.weekday === 6 ? ' we' : ''}`} role="columnheader" aria-label={labels[i]} title={labels[i]}>
          {(!narrow || d.weekday === 1 || d.dayOfMonth === 1 || d.isToday) && <span aria-hidden>{d.dayOfMonth}</span>}
          {!narrow && <span aria-hidden>{DAY_LETTER[d.weekday]}</span>}
        </div>
      ))}
    </div>
  );
});

/**
 * The calendar grid: one row per guest, one column per day, restore points at their time of day.
 * Rows are virtualised (only those in view are in the DOM) and styled through one style sheet,
 * so 50 guests × 90 days × 4 points stays light. Keyboard: ARIA grid with a roving tab stop.
 */
export function CalendarGrid({ layout, rowInfo, selectedKey, onOpenDay, onOpenGuest, maxHeight = 'calc(100vh - 250px)' }: CalendarGridProps) {
  const theme = useTheme();
  const sx = useMemo(() => gridStyles(theme), [theme]);
  const colors = useMemo<MarkColors>(
    () => ({
      ...OUTCOME_COLORS[theme.palette.mode],
      selected: theme.palette.primary.main,
      weekend: alpha(theme.palette.text.primary, 0.03),
      today: alpha(theme.palette.primary.main, 0.1),
      hatch: alpha(theme.palette.text.primary, 0.1),
      line: theme.palette.divider,
    }),
    [theme],
  );
  const ref = useRef<HTMLDivElement>(null);
  const { width, height } = useElementSize(ref);
  // The scroll position matters only through the window of rendered rows: a scroll that keeps the
  // same window (most of them, with the overscan) renders nothing.
  const [scrollTop, setScrollTopState] = useState(0);
  const setScrollTop = useCallback(
    (top: number) => {
      setScrollTopState((prev) => {
        const a = visibleRows(prev, height - HEAD_H, ROW_H, layout.rows.length);
        const b = visibleRows(top, height - HEAD_H, ROW_H, layout.rows.length);
        return a[0] === b[0] && a[1] === b[1] ? prev : top;
      });
    },
    [height, layout.rows.length],
  );
  const [active, setActive] = useState<GridPos>({ r: 0, c: layout.days.length });
  const [hover, setHover] = useState<HoveredMark | null>(null);
  const wantFocus = useRef(false);
  const { days, rows } = layout;
  const labels = useMemo(() => dayLabels(days), [days]);
  const colW = Math.max(16, Math.floor((Math.max(width, 400) - GUEST_W - 2) / Math.max(1, days.length)));
  const narrow = colW < 26;
  const [first, last] = visibleRows(scrollTop, height - HEAD_H, ROW_H, rows.length);
  const cols = days.length + 1;

  useEffect(() => {
    setActive((a) => {
      const r = Math.min(a.r, Math.max(0, rows.length - 1));
      const c = Math.min(a.c, days.length);
      return r === a.r && c === a.c ? a : { r, c }; // same object: no second render of the grid
    });
  }, [rows.length, days.length]);

  const focusActive = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    const target = el.querySelector<HTMLElement>(`[data-cell="${active.r}:${active.c}"]`);
    if (target) {
      target.focus({ preventScroll: false });
      wantFocus.current = false;
      return;
    }
    // Not rendered (virtualised): scroll it into the window; the next render focuses it.
    el.scrollTop = Math.max(0, active.r * ROW_H - (height - HEAD_H) / 2);
    setScrollTop(el.scrollTop);
  }, [active, height, setScrollTop]);

  useEffect(() => {
    if (wantFocus.current) focusActive();
  });

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (rows.length === 0) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const row = rows[active.r];
      if (!row) return;
      if (active.c === 0) onOpenGuest(row.guest);
      else onOpenDay(row, active.c - 1);
      return;
    }
    const next = moveInGrid(active, e.key, e.ctrlKey || e.metaKey, rows.length, cols, Math.max(1, Math.floor((height - HEAD_H) / ROW_H) - 1));
    if (!next) return;
    e.preventDefault();
    wantFocus.current = true;
    setActive(next);
  };

  /** The cell under the pointer and the drawn mark nearest to it (within a few pixels). */
  const hit = (e: MouseEvent<HTMLDivElement>) => {
    const cellEl = (e.target as HTMLElement).closest<HTMLElement>('[data-cell]');
    if (!cellEl) return null;
    const [r, c] = (cellEl.dataset.cell ?? '').split(':').map(Number);
    const row = rows[r];
    if (!row) return null;
    if (c === 0) return { cellEl, r, c, row, mark: undefined };
    const marks = narrow ? summaryMark(row.cells[c - 1].marks) : row.cells[c - 1].marks;
    if (!marks.length) return { cellEl, r, c, row, mark: undefined };
    const box = cellEl.getBoundingClientRect();
    const fx = box.width > 0 ? (e.clientX - box.left) / box.width : 0.5;
    return { cellEl, r, c, row, mark: markAt(marks, fx, narrow, box.width > 0 ? 9 / box.width : 1, box.width > 0 ? box.width : undefined) };
  };

  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    const h = hit(e);
    if (!h) return;
    setActive({ r: h.r, c: h.c });
    if (h.c === 0) onOpenGuest(h.row.guest);
    else if (h.mark || h.row.cells[h.c - 1].marks.length > 0) onOpenDay(h.row, h.c - 1, h.mark?.key);
  };

  const onMouseMove = (e: MouseEvent<HTMLDivElement>) => {
    const h = hit(e);
    const mark = h?.mark;
    if (!mark || !h) {
      if (hover) setHover(null);
      return;
    }
    if (hover?.mark.key !== mark.key) setHover({ anchor: h.cellEl, mark, guest: h.row.label });
  };

  return (
    <>
      <Box
        ref={ref}
        sx={{ ...sx, maxHeight }}
        style={{ '--cw': `${colW}px` } as CSSProperties}
        role="grid"
        aria-label="Restore points per guest and day"
        aria-rowcount={rows.length + 1}
        aria-colcount={cols}
        data-testid="calendar-grid"
        onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}
        onKeyDown={onKeyDown}
        onClick={onClick}
        onMouseMove={onMouseMove}
        onMouseLeave={() => setHover(null)}
        onFocus={(e) => {
          const cell = (e.target as HTMLElement).dataset.cell;
          if (cell) {
            const [r, c] = cell.split(':').map(Number);
            if (r !== active.r || c !== active.c) setActive({ r, c });
          }
        }}
      >
        <GridHead days={days} labels={labels} narrow={narrow} />
        <div style={{ height: first * ROW_H }} aria-hidden />
        {rows.slice(first, last).map((row, i) => (
          <GridRow
            key={row.guest}
            row={row}
            r={first + i}
            info={rowInfo[row.guest]}
            days={days}
            labels={labels}
            colW={colW}
            active={active.r === first + i ? active : NO_ACTIVE}
            selectedKey={selectedKey}
            compact={narrow}
            colors={colors}
          />
        ))}
        <div style={{ height: (rows.length - last) * ROW_H }} aria-hidden />
      </Box>
      <MarkTooltip hovered={hover} />
    </>
  );
}

const NO_ACTIVE: GridPos = { r: -1, c: -1 };

import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import Box from '@mui/material/Box';
import { useTheme } from '@mui/material/styles';
import { useElementSize } from '../../hooks/use-element-size.js';
import { formatTime } from '../../lib/format.js';
import { MARK_LABEL, MARK_SYMBOL, type CalendarDay, type CalendarLayout, type CalendarMark, type CalendarRow } from './calendar-layout.js';
import { moveInGrid, visibleRows, type GridPos } from './grid-keys.js';
import { GUEST_W, HEAD_H, ROW_H, gridStyles } from './grid-styles.js';
import { MarkTooltip, type HoveredMark } from './MarkTooltip.js';

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
    if (good.length) parts.push(`${good.length} restore point${good.length > 1 ? 's' : ''}: ${good.map((m) => `${formatTime(m.at)} ${MARK_LABEL[m.kind]}${m.verified ? ' verified' : ''}${m.forget ? ' (would be forgotten)' : ''}`).join(', ')}`);
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
}

const RANK: Record<CalendarMark['kind'], number> = { failed: 3, crash: 2, clean: 1, cold: 0 };

/** The one mark a compact cell shows: failures first, then crash fallbacks, then the newest. */
export function summaryMark(marks: CalendarMark[]): CalendarMark[] {
  if (marks.length <= 1) return marks;
  let best = marks[marks.length - 1];
  for (const m of marks) if (RANK[m.kind] > RANK[best.kind] || (m.forget === false && best.forget && RANK[m.kind] >= RANK[best.kind])) best = m;
  return [{ ...best, frac: 0.5 }];
}

const GridRow = memo(function GridRow({ row, r, info, days, labels, colW, active, selectedKey, compact }: RowProps) {
  const activeHere = active.r === r;
  return (
    <div className="gr" role="row" aria-rowindex={r + 2} data-guest={row.guest}>
      <div className={`gn${activeHere && active.c === 0 ? ' act' : ''}`} role="rowheader" tabIndex={activeHere && active.c === 0 ? 0 : -1} data-cell={`${r}:0`} title={`${row.guest}: open settings`}>
        <Box component="span" sx={{ fontWeight: 600, whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }}>
          {row.guest}
          {info?.stale && (
            <span className="stale" aria-label="stale: no good backup for longer than the schedule expects" title="No good backup for longer than the schedule expects">
              {' '}!
            </span>
          )}
        </Box>
        <Box component="span" sx={{ fontSize: 12, color: 'text.secondary', whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }}>
          {row.orphan ? 'not found on a hypervisor · ' : ''}
          {info ? `${info.hypervisor ? `${info.hypervisor} · ` : ''}${info.subtitle}` : ''}
        </Box>
      </div>
      {row.cells.map((cell, i) => {
        const c = i + 1;
        const d = days[i];
        const isActive = activeHere && active.c === c;
        const cls = `gc${d.isToday ? ' td' : d.weekday === 0 || d.weekday === 6 ? ' we' : ''}${cell.beyondHorizon ? ' bh' : ''}${isActive ? ' act' : ''}`;
        return (
          <div
            key={d.key}
            className={cls}
            style={{ width: colW }}
            role="gridcell"
            tabIndex={isActive ? 0 : -1}
            data-cell={`${r}:${c}`}
            aria-label={cellLabel(row.guest, labels[i], cell.marks, cell.beyondHorizon)}
            aria-current={d.isToday ? 'date' : undefined}
          >
            {(compact ? summaryMark(cell.marks) : cell.marks).map((m) => (
              <span
                key={m.key}
                aria-hidden
                data-mark={m.key}
                className={`mk mk-${m.kind}${m.verified ? ' mk-v' : ''}${m.forget ? ' mk-f' : ''}${m.key === selectedKey ? ' mk-sel' : ''}`}
                style={{ left: `${Math.min(92, Math.max(8, m.frac * 100))}%` }}
              >
                {m.forget ? '○' : MARK_SYMBOL[m.kind]}
              </span>
            ))}
          </div>
        );
      })}
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
  const ref = useRef<HTMLDivElement>(null);
  const { width, height } = useElementSize(ref);
  const [scrollTop, setScrollTop] = useState(0);
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
    setActive((a) => ({ r: Math.min(a.r, Math.max(0, rows.length - 1)), c: Math.min(a.c, days.length) }));
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
  }, [active, height]);

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

  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    const t = e.target as HTMLElement;
    const cellEl = t.closest<HTMLElement>('[data-cell]');
    if (!cellEl) return;
    const [r, c] = (cellEl.dataset.cell ?? '').split(':').map(Number);
    setActive({ r, c });
    const row = rows[r];
    if (!row) return;
    if (c === 0) onOpenGuest(row.guest);
    else {
      const mark = t.closest<HTMLElement>('[data-mark]')?.dataset.mark;
      if (mark || row.cells[c - 1].marks.length > 0) onOpenDay(row, c - 1, mark);
    }
  };

  const onMouseOver = (e: MouseEvent<HTMLDivElement>) => {
    const m = (e.target as HTMLElement).closest<HTMLElement>('[data-mark]');
    if (!m) {
      if (hover) setHover(null);
      return;
    }
    const cellEl = m.closest<HTMLElement>('[data-cell]');
    const [r, c] = (cellEl?.dataset.cell ?? '').split(':').map(Number);
    const mark = rows[r]?.cells[c - 1]?.marks.find((x) => x.key === m.dataset.mark);
    if (mark && hover?.mark.key !== mark.key) setHover({ anchor: m, mark, guest: rows[r].guest });
  };

  return (
    <>
      <Box
        ref={ref}
        sx={{ ...sx, maxHeight }}
        role="grid"
        aria-label="Restore points per guest and day"
        aria-rowcount={rows.length + 1}
        aria-colcount={cols}
        data-testid="calendar-grid"
        onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}
        onKeyDown={onKeyDown}
        onClick={onClick}
        onMouseOver={onMouseOver}
        onMouseLeave={() => setHover(null)}
        onFocus={(e) => {
          const cell = (e.target as HTMLElement).dataset.cell;
          if (cell) {
            const [r, c] = cell.split(':').map(Number);
            if (r !== active.r || c !== active.c) setActive({ r, c });
          }
        }}
      >
        <div className="gh" role="row" aria-rowindex={1}>
          <div className="gn" role="columnheader">
            Guest
          </div>
          {days.map((d, i) => (
            <div key={d.key} className={`gd${d.isToday ? ' td' : d.weekday === 0 || d.weekday === 6 ? ' we' : ''}`} style={{ width: colW }} role="columnheader" aria-label={labels[i]} title={labels[i]}>
              {(!narrow || d.weekday === 1 || d.dayOfMonth === 1 || d.isToday) && <span aria-hidden>{d.dayOfMonth}</span>}
              {!narrow && <span aria-hidden>{DAY_LETTER[d.weekday]}</span>}
            </div>
          ))}
        </div>
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
          />
        ))}
        <div style={{ height: (rows.length - last) * ROW_H }} aria-hidden />
      </Box>
      <MarkTooltip hovered={hover} />
    </>
  );
}

const NO_ACTIVE: GridPos = { r: -1, c: -1 };

import type { CalendarMark, MarkKind } from './calendar-layout.js';

/** Colours the row canvas draws with (from the theme). */
export interface MarkColors {
  clean: string;
  crash: string;
  cold: string;
  failed: string;
  forget: string;
  selected: string;
  /** Day backgrounds and the column lines (drawn here too, so cells paint nothing). */
  weekend?: string;
  today?: string;
  hatch?: string;
  line?: string;
}

/** Per-day background flags of a row (see {@link drawRow}). */
export const DAY_WEEKEND = 1;
export const DAY_TODAY = 2;
export const DAY_BEYOND = 4;

/** Where a mark is drawn inside its day column: a fraction of the column width. */
export function markX(m: CalendarMark, compact: boolean): number {
  return compact ? 0.5 : Math.min(0.92, Math.max(0.08, m.frac));
}

/** The mark of `marks` nearest to `fx` (fraction of the column), if within `tolerance`. */
export function markAt(marks: CalendarMark[], fx: number, compact: boolean, tolerance: number): CalendarMark | undefined {
  let best: CalendarMark | undefined;
  let bestD = Infinity;
  for (const m of marks) {
    const d = Math.abs(markX(m, compact) - fx);
    if (d < bestD) {
      bestD = d;
      best = m;
    }
  }
  return bestD <= tolerance ? best : undefined;
}

function dot(ctx: CanvasRenderingContext2D, x: number, y: number, r: number) {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
}

/** Draws one mark centred at (x, y): ● clean, ◐ crash, ○ cold, ✕ failed, dashed ○ forgotten-in-preview. */
export function drawMark(ctx: CanvasRenderingContext2D, kind: MarkKind, x: number, y: number, r: number, c: MarkColors, o: { verified: boolean; forget: boolean; selected: boolean }) {
  if (o.selected) {
    ctx.strokeStyle = c.selected;
    ctx.lineWidth = 2;
    dot(ctx, x, y, r + 3);
    ctx.stroke();
  }
  ctx.lineWidth = 1.5;
  if (o.forget) {
    ctx.strokeStyle = c.forget;
    ctx.setLineDash([2, 2]);
    dot(ctx, x, y, r - 0.5);
    ctx.stroke();
    ctx.setLineDash([]);
    return;
  }
  if (kind === 'failed') {
    ctx.strokeStyle = c.failed;
    ctx.lineWidth = 2.25;
    const d = r * 0.8;
    ctx.beginPath();
    ctx.moveTo(x - d, y - d);
    ctx.lineTo(x + d, y + d);
    ctx.moveTo(x + d, y - d);
    ctx.lineTo(x - d, y + d);
    ctx.stroke();
    return;
  }
  const col = c[kind];
  if (kind === 'clean') {
    ctx.fillStyle = col;
    dot(ctx, x, y, r);
    ctx.fill();
  } else if (kind === 'crash') {
    ctx.strokeStyle = col;
    dot(ctx, x, y, r - 0.75);
    ctx.stroke();
    ctx.fillStyle = col;
    ctx.beginPath();
    ctx.arc(x, y, r, Math.PI / 2, (3 * Math.PI) / 2);
    ctx.closePath();
    ctx.fill();
  } else {
    ctx.strokeStyle = col;
    dot(ctx, x, y, r - 0.75);
    ctx.stroke();
  }
  if (o.verified) {
    // A small check mark at the upper right: boot-verified.
    ctx.strokeStyle = c.clean;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x + r * 0.6, y - r * 1.2);
    ctx.lineTo(x + r * 0.95, y - r * 0.85);
    ctx.lineTo(x + r * 1.6, y - r * 1.7);
    ctx.stroke();
  }
}

/**
 * Draws a whole row's marks on one canvas (one element per guest instead of one per point):
 * `cells[i]` are the marks of day column i, each `colW` wide.
 */
export function drawRow(
  canvas: HTMLCanvasElement,
  cells: CalendarMark[][],
  colW: number,
  height: number,
  compact: boolean,
  selectedKey: string | undefined,
  colors: MarkColors,
  dayFlags?: ArrayLike<number>,
): void {
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;
  const w = Math.max(1, Math.round(cells.length * colW * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return; // jsdom
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cells.length * colW, height);
  if (dayFlags) drawDays(ctx, dayFlags, colW, height, colors);
  const r = compact ? Math.max(3, Math.min(5.5, colW / 2 - 2)) : 6;
  const y = height / 2;
  for (let i = 0; i < cells.length; i++) {
    const marks = cells[i]!;
    for (const m of marks) {
      drawMark(ctx, m.kind, i * colW + markX(m, compact) * colW, y, r, colors, { verified: m.verified, forget: m.forget, selected: m.key === selectedKey });
    }
  }
}

/** Weekend / today shading, the retention-horizon hatch and the column lines of one row. */
function drawDays(ctx: CanvasRenderingContext2D, flags: ArrayLike<number>, colW: number, height: number, c: MarkColors): void {
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    const x = i * colW;
    const bg = f & DAY_TODAY ? c.today : f & DAY_WEEKEND ? c.weekend : undefined;
    if (bg) {
      ctx.fillStyle = bg;
      ctx.fillRect(x, 0, colW, height);
    }
    if (f & DAY_BEYOND && c.hatch) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x, 0, colW, height);
      ctx.clip();
      ctx.strokeStyle = c.hatch;
      ctx.lineWidth = 2;
      ctx.beginPath();
      for (let d = -height; d < colW; d += 6) {
        ctx.moveTo(x + d, height);
        ctx.lineTo(x + d + height, 0);
      }
      ctx.stroke();
      ctx.restore();
    }
  }
  if (c.line) {
    ctx.fillStyle = c.line;
    for (let i = 1; i <= flags.length; i++) ctx.fillRect(i * colW - 1, 0, 1, height);
  }
}

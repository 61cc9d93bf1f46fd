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

/**
 * The mark of `marks` nearest to `fx` (fraction of the column), if within `tolerance`; with the
 * column width, where drawRow drew it (stacked apart, see stackedX).
 */
export function markAt(marks: CalendarMark[], fx: number, compact: boolean, tolerance: number, colW?: number): CalendarMark | undefined {
  let best: CalendarMark | undefined;
  let bestD = Infinity;
  const xs = colW ? stackedX(marks, compact, colW, markRadius(compact, colW)).map((x) => x / colW) : marks.map((m) => markX(m, compact));
  for (let k = 0; k < marks.length; k++) {
    const m = marks[k]!;
    const d = Math.abs(xs[k]! - fx);
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
export function drawMark(
  ctx: CanvasRenderingContext2D,
  kind: MarkKind,
  x: number,
  y: number,
  r: number,
  c: MarkColors,
  o: { verified: boolean; forget: boolean; selected: boolean; damaged?: boolean },
) {
  if (o.damaged) {
    // A damaged point: a thick ring in the failure colour around whatever the mark is.
    ctx.strokeStyle = c.failed;
    ctx.lineWidth = 2.5;
    dot(ctx, x, y, r + 2.5);
    ctx.stroke();
  }
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
 * The offsite badge at the lower right of a mark: a small triangle, filled while Object Lock
 * protects the copy, hollow when it is offsite but not locked (a shape, not a colour alone; the
 * cell label and the hover card say it in words).
 */
export function drawOffsite(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, c: MarkColors, locked: boolean): void {
  const cx = x + r * 0.95;
  const cy = y + r * 0.95;
  const s = Math.max(2.5, r * 0.6);
  ctx.beginPath();
  ctx.moveTo(cx, cy - s);
  ctx.lineTo(cx + s, cy + s * 0.75);
  ctx.lineTo(cx - s, cy + s * 0.75);
  ctx.closePath();
  ctx.lineWidth = 1.25;
  ctx.strokeStyle = c.selected;
  ctx.stroke();
  if (locked) {
    ctx.fillStyle = c.selected;
    ctx.fill();
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
  const r = markRadius(compact, colW);
  const y = height / 2;
  for (let i = 0; i < cells.length; i++) {
    const marks = cells[i]!;
    const xs = stackedX(marks, compact, colW, r);
    // failed attempts and "would be forgotten" marks are drawn last, so a point never hides them
    const order = marks.map((_, k) => k).sort((a, b) => drawRank(marks[a]!) - drawRank(marks[b]!));
    for (const k of order) {
      const m = marks[k]!;
      drawMark(ctx, m.kind, i * colW + xs[k]!, y, r, colors, { verified: m.verified, forget: m.forget, selected: m.key === selectedKey, damaged: m.damaged });
      // over the mark, so the point never hides it
      if (m.offsite) drawOffsite(ctx, i * colW + xs[k]!, y, r, colors, m.offsite.locked);
    }
    if (overlapping(xs, r)) drawCount(ctx, marks.length, (i + 1) * colW - 1, 1, colors);
  }
}

/** Radius of a mark in a column `colW` wide. */
export function markRadius(compact: boolean, colW: number): number {
  return compact ? Math.max(3, Math.min(5.5, colW / 2 - 2)) : 6;
}

const drawRank = (m: CalendarMark) => (m.forget ? 2 : m.kind === 'failed' ? 1 : 0);

/**
 * Where each mark of one day is drawn (px from the column's left edge): at its time of day, but
 * marks minutes apart that would cover each other are pushed apart (a stack of up to 2r+1 px steps,
 * kept inside the column), so a failed ✕ never hides under a ● and hollow marks stay visible.
 */
export function stackedX(marks: CalendarMark[], compact: boolean, colW: number, r: number): number[] {
  const base = marks.map((m) => markX(m, compact) * colW);
  if (marks.length < 2) return base;
  const order = base.map((_, k) => k).sort((a, b) => base[a]! - base[b]!);
  const step = Math.min(2 * r + 1, Math.max(1, (colW - 2 * r) / (marks.length - 1)));
  const out = [...base];
  let prev = -Infinity;
  for (const k of order) {
    out[k] = Math.max(base[k]!, prev + step);
    prev = out[k]!;
  }
  // keep the stack inside the column: shift it left if its end sticks out
  const over = prev - (colW - r);
  if (over > 0) for (const k of order) out[k] = Math.max(r, out[k]! - over);
  return out;
}

/** True when two marks still overlap (a narrow column): the cell then gets a count badge. */
export function overlapping(xs: number[], r: number): boolean {
  const s = [...xs].sort((a, b) => a - b);
  for (let k = 1; k < s.length; k++) if (s[k]! - s[k - 1]! < r * 1.5) return true;
  return false;
}

/** A small count badge in the upper right corner of a day cell. */
function drawCount(ctx: CanvasRenderingContext2D, n: number, right: number, top: number, c: MarkColors): void {
  const text = n > 9 ? '9+' : String(n);
  ctx.font = 'bold 9px sans-serif';
  const w = Math.max(10, ctx.measureText(text).width + 4);
  ctx.fillStyle = c.selected;
  ctx.beginPath();
  ctx.roundRect?.(right - w, top, w, 11, 5);
  ctx.fill();
  ctx.fillStyle = '#fff';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(text, right - w / 2, top + 1);
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

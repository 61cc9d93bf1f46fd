import { describe, expect, it } from 'vitest';
import type { CalendarMark } from './calendar-layout.js';
import { DAY_BEYOND, DAY_TODAY, DAY_WEEKEND, drawRow, markAt, markX, stackedX, type MarkColors } from './mark-canvas.js';

const mark = (key: string, frac: number, kind: CalendarMark['kind'] = 'clean', extra: Partial<CalendarMark> = {}): CalendarMark => ({
  key,
  kind,
  at: '',
  frac,
  verified: false,
  forget: false,
  ...extra,
});
const colors: MarkColors = { clean: 'green', crash: 'orange', cold: 'blue', failed: 'red', forget: 'grey', selected: 'navy' };

/** A 2D context that records what is drawn where. */
function recordingCanvas() {
  const ops: { op: string; args: unknown[]; style: string }[] = [];
  let style = '';
  const ctx = new Proxy(
    {},
    {
      get(_t, prop: string) {
        if (prop === 'fillStyle' || prop === 'strokeStyle') return style;
        return (...args: unknown[]) => ops.push({ op: prop, args, style });
      },
      set(_t, prop: string, v) {
        if (prop === 'fillStyle' || prop === 'strokeStyle') style = String(v);
        return true;
      },
    },
  );
  const canvas = { width: 0, height: 0, getContext: () => ctx } as unknown as HTMLCanvasElement;
  return { canvas, ops };
}

describe('row canvas', () => {
  it('places marks at their time of day (kept off the cell edges), centred when compact', () => {
    expect(markX(mark('a', 0.5), false)).toBe(0.5);
    expect(markX(mark('a', 0.01), false)).toBe(0.08);
    expect(markX(mark('a', 0.99), false)).toBe(0.92);
    expect(markX(mark('a', 0.1), true)).toBe(0.5);
  });

  it('hit-tests the nearest mark within the tolerance', () => {
    const marks = [mark('morning', 0.25), mark('evening', 0.75)];
    expect(markAt(marks, 0.3, false, 0.1)?.key).toBe('morning');
    expect(markAt(marks, 0.7, false, 0.1)?.key).toBe('evening');
    expect(markAt(marks, 0.5, false, 0.1)).toBeUndefined();
  });

  it('draws each kind in its colour at column × width + fraction, sized for the device pixels', () => {
    const { canvas, ops } = recordingCanvas();
    drawRow(canvas, [[mark('c', 0.5)], [], [mark('x', 0.5, 'failed'), mark('f', 0.75, 'crash', { forget: true })]], 20, 48, false, 'c', colors);
    expect(canvas.width).toBe(60 * (globalThis.devicePixelRatio || 1));
    const arcs = ops.filter((o) => o.op === 'arc');
    // selection ring + clean dot in column 0 (x = 10), the forgotten one dashed in column 2 — pushed
    // left of 55 so it stays inside the 20-px column beside the ✕ (x = 54)
    expect(arcs.map((a) => a.args[0])).toEqual([10, 10, 54]);
    expect(ops.find((o) => o.op === 'fill')?.style).toBe('green');
    expect(ops.filter((o) => o.op === 'stroke').map((o) => o.style)).toEqual(['navy', 'red', 'grey']);
    expect(ops.filter((o) => o.op === 'moveTo').every((o) => (o.args[0] as number) > 40)).toBe(true);
  });

  it('points minutes apart do not hide each other: stacked apart, failed and forgotten drawn on top, a count badge when they still touch', () => {
    const wide = recordingCanvas();
    // a clean point at 14:00 and a failed attempt at 14:03, in an 80-px column
    drawRow(wide.canvas, [[mark('fail', 0.5854, 'failed'), mark('ok', 0.5833)]], 80, 48, false, undefined, colors);
    const xs = [...stackedX([mark('fail', 0.5854, 'failed'), mark('ok', 0.5833)], false, 80, 6)];
    expect(Math.abs(xs[0]! - xs[1]!)).toBeGreaterThanOrEqual(7);
    // the clean dot is drawn first, the ✕ over it
    const firstFill = wide.ops.findIndex((o) => o.op === 'fill');
    const firstX = wide.ops.findIndex((o) => o.op === 'moveTo');
    expect(firstFill).toBeLessThan(firstX);
    expect(wide.ops.some((o) => o.op === 'fillText')).toBe(false);
    // three points in a 14-px column cannot be apart: the cell says how many
    const narrow = recordingCanvas();
    drawRow(narrow.canvas, [[mark('a', 0.5), mark('b', 0.51, 'failed'), mark('c', 0.52, 'cold', { forget: true })]], 14, 48, true, undefined, colors);
    expect(narrow.ops.filter((o) => o.op === 'fillText').map((o) => o.args[0])).toEqual(['3']);
    // hit-testing follows the stacked positions
    expect(markAt([mark('fail', 0.5854, 'failed'), mark('ok', 0.5833)], xs[1]! / 80, false, 0.05, 80)?.key).toBe('ok');
  });

  it('a damaged point gets a ring in the failure colour', () => {
    const { canvas, ops } = recordingCanvas();
    drawRow(canvas, [[mark('d', 0.5, 'clean', { damaged: true })]], 40, 48, false, undefined, colors);
    expect(ops.filter((o) => o.op === 'stroke').map((o) => o.style)).toEqual(['red']);
    expect(ops.filter((o) => o.op === 'arc').map((o) => o.args[2])).toEqual([8.5, 6]);
  });

  it('shades weekend and today, hatches days beyond the retention horizon and draws column lines', () => {
    const { canvas, ops } = recordingCanvas();
    drawRow(canvas, [[], [], []], 10, 48, true, undefined, { ...colors, weekend: 'W', today: 'T', hatch: 'H', line: 'L' }, [DAY_BEYOND, DAY_WEEKEND, DAY_TODAY]);
    const rects = ops.filter((o) => o.op === 'fillRect').map((o) => [o.style, o.args[0]]);
    expect(rects).toEqual([
      ['W', 10],
      ['T', 20],
      ['L', 9],
      ['L', 19],
      ['L', 29],
    ]);
    expect(ops.filter((o) => o.op === 'stroke').map((o) => o.style)).toEqual(['H']);
    expect(ops.find((o) => o.op === 'rect')?.args).toEqual([0, 0, 10, 48]);
  });
});

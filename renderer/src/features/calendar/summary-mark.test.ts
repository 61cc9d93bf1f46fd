import { describe, expect, it } from 'vitest';
import type { CalendarMark } from './calendar-layout.js';
import { summaryMark } from './CalendarGrid.js';

const m = (key: string, kind: CalendarMark['kind'], forget = false): CalendarMark => ({ key, kind, at: '', frac: 0.1, verified: false, forget });

describe('summaryMark (compact 90-day cells)', () => {
  it('shows failures first, then crash fallbacks, else the newest point, centred', () => {
    expect(summaryMark([m('a', 'clean'), m('b', 'failed'), m('c', 'clean')])).toMatchObject([{ key: 'b', frac: 0.5 }]);
    expect(summaryMark([m('a', 'crash'), m('c', 'clean')])[0].key).toBe('a');
    expect(summaryMark([m('a', 'clean'), m('c', 'clean')])[0].key).toBe('c');
    expect(summaryMark([m('a', 'clean')])).toEqual([m('a', 'clean')]);
  });
});

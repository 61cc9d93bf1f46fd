import { describe, expect, it } from 'vitest';
import { moveInGrid, visibleRows } from './grid-keys.js';

describe('moveInGrid', () => {
  it('moves with arrows and clamps at the edges', () => {
    expect(moveInGrid({ r: 0, c: 0 }, 'ArrowRight', false, 3, 8)).toEqual({ r: 0, c: 1 });
    expect(moveInGrid({ r: 0, c: 0 }, 'ArrowUp', false, 3, 8)).toEqual({ r: 0, c: 0 });
    expect(moveInGrid({ r: 2, c: 7 }, 'ArrowDown', false, 3, 8)).toEqual({ r: 2, c: 7 });
    expect(moveInGrid({ r: 1, c: 4 }, 'Home', false, 3, 8)).toEqual({ r: 1, c: 0 });
    expect(moveInGrid({ r: 1, c: 4 }, 'End', true, 3, 8)).toEqual({ r: 2, c: 7 });
    expect(moveInGrid({ r: 1, c: 4 }, 'PageDown', false, 30, 8)).toEqual({ r: 11, c: 4 });
    expect(moveInGrid({ r: 1, c: 4 }, 'a', false, 3, 8)).toBeNull();
  });
  it('computes the rendered row window', () => {
    expect(visibleRows(0, 480, 48, 50)).toEqual([0, 14]);
    expect(visibleRows(48 * 20, 480, 48, 50)).toEqual([16, 34]);
    expect(visibleRows(48 * 48, 480, 48, 50)).toEqual([44, 50]);
  });
});

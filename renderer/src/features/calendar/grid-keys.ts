/** A cell position in the calendar grid: row (guest) and column (0 = guest name, 1.. = days). */
export interface GridPos {
  r: number;
  c: number;
}

/**
 * The next active cell for a key press (ARIA grid pattern): arrows move one cell, Home/End go to
 * the row's first/last cell (with Ctrl: the grid's), PageUp/PageDown move `page` rows.
 * Returns null for keys the grid does not handle.
 */
export function moveInGrid(pos: GridPos, key: string, ctrl: boolean, rows: number, cols: number, page = 10): GridPos | null {
  const clamp = (p: GridPos): GridPos => ({ r: Math.max(0, Math.min(rows - 1, p.r)), c: Math.max(0, Math.min(cols - 1, p.c)) });
  switch (key) {
    case 'ArrowRight':
      return clamp({ r: pos.r, c: pos.c + 1 });
    case 'ArrowLeft':
      return clamp({ r: pos.r, c: pos.c - 1 });
    case 'ArrowDown':
      return clamp({ r: pos.r + 1, c: pos.c });
    case 'ArrowUp':
      return clamp({ r: pos.r - 1, c: pos.c });
    case 'Home':
      return clamp(ctrl ? { r: 0, c: 0 } : { r: pos.r, c: 0 });
    case 'End':
      return clamp(ctrl ? { r: rows - 1, c: cols - 1 } : { r: pos.r, c: cols - 1 });
    case 'PageDown':
      return clamp({ r: pos.r + page, c: pos.c });
    case 'PageUp':
      return clamp({ r: pos.r - page, c: pos.c });
    default:
      return null;
  }
}

/** Rows to render for a scroll position (with overscan), as [first, last). */
export function visibleRows(scrollTop: number, viewport: number, rowHeight: number, rows: number, overscan = 4): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rows, Math.ceil((scrollTop + Math.max(viewport, rowHeight)) / rowHeight) + overscan);
  return [first, Math.max(first, last)];
}

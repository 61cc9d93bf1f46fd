import { describe, expect, it, vi } from 'vitest';
import { fireEvent, screen } from '@testing-library/react';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { dayKey, layoutCalendar } from './calendar-layout.js';
import { CalendarGrid } from './CalendarGrid.js';
import type { GuestId } from '../../../../shared/domain/guest-id.js';

// jsdom has no 2D canvas: the row canvases draw nothing here (mark-canvas.test.ts covers drawing).
HTMLCanvasElement.prototype.getContext = (() => null) as never;

const now = new Date(2026, 10, 22, 15, 0).getTime();
const snap = (id: string, guest: string, d: Date): SnapshotSummary => ({ id, guestId: guest as GuestId, guest, time: d.toISOString(), consistency: 'clean-twin', disks: [], logicalBytes: 1 });

function setup() {
  const layout = layoutCalendar({
    guests: ['Accounting', 'Mail'],
    snapshots: [snap('a1', 'Accounting', new Date(2026, 10, 22, 12)), snap('m1', 'Mail', new Date(2026, 10, 21, 2))],
    jobs: [],
    endDay: dayKey(new Date(now)),
    days: 7,
    now,
  });
  const onOpenDay = vi.fn();
  const onOpenGuest = vi.fn();
  renderWithServices(<CalendarGrid layout={layout} rowInfo={{ Mail: { subtitle: 'daily 02:00', stale: true } }} onOpenDay={onOpenDay} onOpenGuest={onOpenGuest} />, fakeEngine());
  return { onOpenDay, onOpenGuest };
}

describe('CalendarGrid', () => {
  it('exposes grid semantics with a label per cell and today marked', () => {
    setup();
    const grid = screen.getByRole('grid', { name: 'Restore points per guest and day' });
    expect(grid.getAttribute('aria-rowcount')).toBe('3');
    expect(screen.getAllByRole('rowheader').map((r) => r.textContent)).toEqual([expect.stringContaining('Accounting'), expect.stringContaining('Mail')]);
    const today = screen.getAllByRole('gridcell').filter((c) => c.getAttribute('aria-current') === 'date');
    expect(today).toHaveLength(2);
    expect(today[0].getAttribute('aria-label')).toMatch(/^Accounting, .*1 restore point: 12:00 clean twin/);
    expect(screen.getByLabelText(/stale/)).toBeTruthy();
  });

  it('has one tab stop that arrow keys move; Enter opens the day or the guest', () => {
    const { onOpenDay, onOpenGuest } = setup();
    const stops = () =>
      screen
        .getAllByRole('gridcell')
        .concat(screen.getAllByRole('rowheader'))
        .filter((c) => c.tabIndex === 0);
    expect(stops()).toHaveLength(1);
    const start = stops()[0];
    start.focus();
    fireEvent.keyDown(start, { key: 'ArrowDown' });
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowLeft' });
    expect(document.activeElement?.getAttribute('aria-label')).toMatch(/^Mail, .*1 restore point: 02:00/);
    fireEvent.keyDown(document.activeElement!, { key: 'Enter' });
    expect(onOpenDay).toHaveBeenCalledWith(expect.objectContaining({ guest: 'Mail' }), 5);
    fireEvent.keyDown(document.activeElement!, { key: 'Home' });
    expect(document.activeElement?.getAttribute('role')).toBe('rowheader');
    fireEvent.keyDown(document.activeElement!, { key: ' ' });
    expect(onOpenGuest).toHaveBeenCalledWith('Mail');
    expect(stops()).toHaveLength(1);
  });

  it('opens the clicked mark (drawn on the row canvas; the cell under it is hit-tested)', () => {
    const { onOpenDay } = setup();
    const cell = document.querySelector('[role=gridcell][data-marks="1"][aria-label^="Accounting"]')!;
    expect(document.querySelectorAll('canvas.gm')).toHaveLength(2);
    fireEvent.click(cell, { clientX: 0 });
    expect(onOpenDay).toHaveBeenCalledWith(expect.objectContaining({ guest: 'Accounting' }), 6, 'a1');
  });
});

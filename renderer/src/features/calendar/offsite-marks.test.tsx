import { describe, expect, it } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import type { GuestId } from '../../../../shared/domain/guest-id.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { dayKey, layoutCalendar } from './calendar-layout.js';
import { CalendarGrid } from './CalendarGrid.js';
import { CalendarPage } from './CalendarPage.js';
import { SnapshotDetails } from './SnapshotDetails.js';

// jsdom has no 2D canvas: the row canvases draw nothing here.
HTMLCanvasElement.prototype.getContext = (() => null) as never;

const now = Date.now();
const at = (hoursAgo: number) => new Date(now - hoursAgo * 3_600_000).toISOString();
const snap = (id: string, time: string): SnapshotSummary => ({ id, guestId: 'vmware:mail' as GuestId, guest: 'Mail', time, consistency: 'clean-twin', disks: [], logicalBytes: 1 });
const future = new Date(now + 30 * 86_400_000).toISOString();
const past = new Date(now - 86_400_000).toISOString();

describe('offsite points on the calendar', () => {
  it('marks a point offsite, locked while its date is ahead; the cell label says it in words', () => {
    const points = [snap('s-locked', at(1)), snap('s-expired', at(2)), snap('s-local', at(3))];
    const offsite = new Map([
      ['s-locked', { protectedUntil: future }],
      ['s-expired', { protectedUntil: past }],
    ]);
    const layout = layoutCalendar({ guests: ['vmware:mail'], labels: { 'vmware:mail': 'Mail' }, snapshots: points, jobs: [], endDay: dayKey(new Date(now)), days: 3, now, offsite });
    const marks = layout.rows[0]!.cells.flatMap((c) => c.marks);
    const byKey = Object.fromEntries(marks.map((m) => [m.key, m.offsite]));
    expect(byKey['s-locked']).toEqual({ protectedUntil: future, locked: true });
    expect(byKey['s-expired']).toEqual({ protectedUntil: past, locked: false });
    expect(byKey['s-local']).toBeUndefined();
    renderWithServices(<CalendarGrid layout={layout} rowInfo={{}} onOpenDay={() => {}} onOpenGuest={() => {}} />, fakeEngine());
    const labels = screen
      .getAllByRole('gridcell')
      .map((c) => c.getAttribute('aria-label') ?? '')
      .join(' | ');
    expect(labels).toMatch(/clean twin offsite, protected until /);
    expect(labels).toMatch(/clean twin offsite(,|;| \|)/); // the expired one: offsite, no longer protected
  });

  it('the point drawer says whether and until when its offsite copy is protected', () => {
    const s = snap('s1', at(1));
    const { unmount } = renderWithServices(<SnapshotDetails s={s} offsite={{ protectedUntil: future, locked: true }} onRetention={() => {}} />, fakeEngine());
    expect(screen.getByTestId('snapshot-details').textContent).toMatch(/Offsite copyyes, protected until /);
    unmount();
    renderWithServices(<SnapshotDetails s={s} offsite={null} onRetention={() => {}} />, fakeEngine());
    expect(screen.getByTestId('snapshot-details').textContent).toContain('Offsite copynot offsite yet');
  });

  it('no offsite row when no offsite copy is set up', () => {
    renderWithServices(<SnapshotDetails s={snap('s1', at(1))} onRetention={() => {}} />, fakeEngine());
    expect(screen.getByTestId('snapshot-details').textContent).not.toContain('Offsite copy');
  });

  it('one offsite.status per calendar load, however many points', async () => {
    const points = Array.from({ length: 500 }, (_, i) => snap(`p${i}`, at(i / 10)));
    const engine = fakeEngine({
      'snapshots.list': async () => points,
      'offsite.status': async () => ({ configured: true, snapshots: points.map((p) => ({ id: p.id, local: true, offsite: true, protectedUntil: future })), lagSnapshots: 0 }),
    });
    const { store } = renderWithServices(<CalendarPage />, engine);
    await store.getState().refreshSnapshots();
    await waitFor(() => expect(screen.getByRole('list', { name: 'Legend' }).textContent).toContain('offsite, locked'));
    await waitFor(() => expect(screen.getAllByRole('gridcell').some((c) => /offsite, protected until/.test(c.getAttribute('aria-label') ?? ''))).toBe(true));
    expect(engine.calls.filter((c) => c.method === 'offsite.status').length).toBeLessThanOrEqual(2); // the first render and the loaded points
  });
});

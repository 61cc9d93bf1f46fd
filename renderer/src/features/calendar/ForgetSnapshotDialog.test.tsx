import { describe, expect, it, vi } from 'vitest';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { AppError } from '../../../../shared/errors/app-error.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { SnapshotDetails } from './SnapshotDetails.js';
import type { GuestId } from '../../../../shared/domain/guest-id.js';

const snap: SnapshotSummary = {
  id: '20261122T120000Z-abcdef',
  guestId: 'name:Mail' as GuestId,
  guest: 'Mail',
  time: '2026-11-22T12:00:00.000Z',
  consistency: 'clean-twin',
  disks: [],
  logicalBytes: 5e9,
};

describe('Forget… in the snapshot panel', () => {
  it('asks first; "Keep it" forgets nothing, "Forget" calls snapshots.forget and reports back', async () => {
    const engine = fakeEngine({ 'snapshots.forget': async ({ snapshotId }) => ({ snapshotId, guest: 'Mail', guestId: 'name:Mail' as GuestId, forgotten: true }), 'snapshots.list': async () => [] });
    const onForgotten = vi.fn();
    renderWithServices(<SnapshotDetails s={snap} onRetention={() => {}} onForgotten={onForgotten} />, engine);
    fireEvent.click(screen.getByRole('button', { name: /Forget…/ }));
    const dialog = await screen.findByRole('dialog', { name: 'Forget this restore point?' });
    expect(dialog.textContent).toMatch(/cannot be\s+brought back/);
    expect(dialog.textContent).toMatch(/garbage collection/);
    fireEvent.click(screen.getByRole('button', { name: 'Keep it' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(engine.calls.some((c) => c.method === 'snapshots.forget')).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: /Forget…/ }));
    await act(async () => void fireEvent.click(await screen.findByTestId('confirm-forget')));
    await waitFor(() => expect(onForgotten).toHaveBeenCalledWith(snap.id));
    expect(engine.calls.find((c) => c.method === 'snapshots.forget')?.req).toEqual({ snapshotId: snap.id });
    expect(engine.calls.some((c) => c.method === 'snapshots.list')).toBe(true);
  });

  it('keeps the dialog open with the reason when the point is being read', async () => {
    const engine = fakeEngine({
      'snapshots.forget': async () => {
        throw new AppError('REPO_LOCKED', "snapshot '20261122T120000Z-abcdef' is being read (restore or file browser): forget it later");
      },
    });
    const onForgotten = vi.fn();
    renderWithServices(<SnapshotDetails s={snap} onRetention={() => {}} onForgotten={onForgotten} />, engine);
    fireEvent.click(screen.getByRole('button', { name: /Forget…/ }));
    await act(async () => void fireEvent.click(await screen.findByTestId('confirm-forget')));
    const dialog = await screen.findByRole('dialog');
    await waitFor(() => expect(dialog.textContent).toMatch(/being read right now.*Nothing was deleted/));
    expect(onForgotten).not.toHaveBeenCalled();
  });
});

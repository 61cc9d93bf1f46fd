import { describe, expect, it } from 'vitest';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { RetentionEditor } from './RetentionEditor.js';
import type { GuestId } from '../../../../shared/domain/guest-id.js';

describe('RetentionEditor', () => {
  it('asks the engine for a dry run while sliding, shows it on the calendar overlay, and applies only after confirmation', async () => {
    const engine = fakeEngine({
      'retention.preview': async ({ guest, policy }) => ({
        guestId: guest as GuestId,
        guest,
        decisions: [
          { snapshotId: 'old', time: '2026-11-01T02:00:00Z', keep: (policy.keepLast ?? 0) > 3, reasons: [] },
          { snapshotId: 'new', time: '2026-11-22T02:00:00Z', keep: true, reasons: ['last'] },
        ],
        forgetCount: (policy.keepLast ?? 0) > 3 ? 0 : 1,
        freedBytes: 12_400_000_000,
      }),
      'retention.apply': async ({ guest }) => ({ guestId: guest as GuestId, guest, decisions: [], forgetCount: 1, freedBytes: 12_400_000_000 }),
      'snapshots.list': async () => [],
    });
    const { store } = renderWithServices(<RetentionEditor guest="Mail" />, engine);
    await waitFor(() => expect(screen.getByTestId('retention-preview').textContent).toMatch(/1 backup would be forgotten, freeing 12.4 GB/));
    expect([...(store.getState().overlay?.forget ?? [])]).toEqual(['old']);
    expect(engine.calls.filter((c) => c.method === 'retention.apply')).toHaveLength(0);

    const slider = screen.getAllByRole('slider')[0];
    act(() => {
      fireEvent.keyDown(slider, { key: 'ArrowRight' });
    });
    await waitFor(() => expect(screen.getByTestId('retention-preview').textContent).toMatch(/0 backups would be forgotten/));
    expect(engine.calls.filter((c) => c.method === 'retention.preview').at(-1)?.req).toMatchObject({ guest: 'Mail', policy: { keepLast: 4 } });

    act(() => {
      fireEvent.keyDown(slider, { key: 'ArrowLeft' });
    });
    await waitFor(() => expect(screen.getByRole('button', { name: 'Apply now…' })).toHaveProperty('disabled', false));
    fireEvent.click(screen.getByRole('button', { name: 'Apply now…' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Forget 1' }));
    await waitFor(() => expect(engine.calls.some((c) => c.method === 'retention.apply')).toBe(true));
    await waitFor(() => expect(store.getState().notices.at(-1)?.message).toBe('1 restore point of Mail forgotten'));
  });

  it('says so when the engine has no dry run yet', async () => {
    renderWithServices(<RetentionEditor guest="Mail" />, fakeEngine());
    await waitFor(() => expect(screen.getByTestId('retention-preview').textContent).toMatch(/not available yet/));
  });
});

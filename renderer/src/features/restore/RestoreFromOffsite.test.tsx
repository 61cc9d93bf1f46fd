import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { OffsiteOverview } from '../../../../shared/domain/engine.js';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import type { GuestId } from '../../../../shared/domain/guest-id.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { RestorePage } from './RestorePage.js';

const point: SnapshotSummary = {
  id: '20261207T193602Z-29d5e5',
  guestId: 'vmware:mail' as GuestId,
  guest: 'Mail',
  time: '2026-12-07T19:36:02.000Z',
  consistency: 'clean-twin',
  disks: [{ name: 'disk0', size: 4 << 20 }],
  logicalBytes: 4 << 20,
};
const offsite: OffsiteOverview = { configured: true, destination: 's3://office-backups/site-a at http://s3.local', snapshots: [], lagSnapshots: 0 };

/** An engine whose local repository is gone and whose offsite copy holds `point`. */
function engineWithOffsiteOnly() {
  return fakeEngine({
    'snapshots.list': async (req) => {
      if (req.source === 'offsite') return [point];
      throw new AppError('REPO_NOT_FOUND', "'/mnt/usb/repo' holds no twinsnap repository");
    },
    'offsite.status': async () => offsite,
    'offsite.estimate': async () => ({ snapshotId: point.id, bytes: 3 << 20, objects: 3, cachedBytes: 0 }),
    'restore.start': async () => ({ jobId: 'r1' }),
    'files.list': async (req) => ({ path: req.path, entries: [], warnings: [] }),
    'jobs.get': async () => ({ id: 'r1', kind: 'restore', status: 'running', createdAt: point.time, steps: [], warnings: [] }),
  });
}

const next = () => fireEvent.click(screen.getByRole('button', { name: 'Next' }));

describe('restore wizard: the offsite copy as the source', () => {
  it('with the local repository gone, offers the offsite copy, lists its points and restores a VM from it after showing the download', async () => {
    const engine = engineWithOffsiteOnly();
    const { store } = renderWithServices(<RestorePage />, engine);
    void store.getState().refreshSnapshots(); // the local repository fails: the wizard still offers the offsite copy
    fireEvent.click(await screen.findByRole('radio', { name: 'Offsite copy (s3://office-backups/site-a at http://s3.local)' }));
    fireEvent.click(await screen.findByRole('radio', { name: /Mail \(1 restore point\)/ }));
    expect(engine.calls.find((c) => c.method === 'snapshots.list' && (c.req as { source?: string }).source === 'offsite')).toBeTruthy();
    next();
    fireEvent.click(await screen.findByRole('radio', { name: /clean twin/ }));
    next();
    fireEvent.click(screen.getByRole('radio', { name: /Whole VM as a new VM/ }));
    next();
    fireEvent.change(screen.getByLabelText('Destination folder'), { target: { value: '/restore/here' } });
    next();
    const review = await screen.findByTestId('restore-review');
    await waitFor(() => expect(review.textContent).toContain('Download3.15 MB in 3 object(s) from the bucket'));
    expect(review.textContent).toContain('SourceOffsite copy (s3://office-backups/site-a');
    fireEvent.click(screen.getByRole('button', { name: 'Start restore' }));
    await waitFor(() => expect(engine.calls.find((c) => c.method === 'restore.start')?.req).toMatchObject({ snapshotId: point.id, mode: 'new-vm', to: '/restore/here', source: 'offsite' }));
  });

  it('browses files of an offsite point through the offsite copy (every file call carries the source)', async () => {
    const engine = engineWithOffsiteOnly();
    renderWithServices(<RestorePage />, engine);
    fireEvent.click(await screen.findByRole('radio', { name: /Offsite copy/ }));
    fireEvent.click(await screen.findByRole('radio', { name: /Mail/ }));
    next();
    fireEvent.click(await screen.findByRole('radio', { name: /clean twin/ }));
    next();
    fireEvent.click(screen.getByRole('radio', { name: /Individual files/ }));
    next();
    await waitFor(() => expect(engine.calls.some((c) => c.method === 'files.list')).toBe(true));
    expect(engine.calls.filter((c) => c.method === 'files.list').every((c) => (c.req as { source?: string }).source === 'offsite')).toBe(true);
    expect(screen.getByTestId('restore-from-offsite').textContent).toContain('only the pieces it needs');
  });

  it('an encrypted offsite copy with no password on this computer: asks for it, says a wrong one in words, unlocks (remembered) and lists its points', async () => {
    let unlocked = false;
    const engine = fakeEngine({
      'snapshots.list': async (req) => {
        if (req.source !== 'offsite') throw new AppError('REPO_NOT_FOUND', "'/mnt/usb/repo' holds no twinsnap repository");
        if (!unlocked) throw new AppError('REPO_PASSWORD_REQUIRED', "repository 's3://office-backups/site-a' is encrypted: a password is needed");
        return [point];
      },
      'offsite.status': async () => offsite,
      'repository.unlock': async (req) => {
        if (req.password !== 'office password') throw new AppError('REPO_PASSWORD_WRONG', "wrong password for repository 's3://office-backups/site-a'");
        unlocked = true;
        return { encrypted: true, cipher: 'AES-256-GCM', locked: false } as never;
      },
    });
    renderWithServices(<RestorePage />, engine);
    fireEvent.click(await screen.findByRole('radio', { name: /Offsite copy/ }));
    const form = await screen.findByTestId('offsite-unlock');
    expect(form.textContent).toContain('The offsite copy is encrypted');
    expect(form.textContent).toContain('this computer has no password for it');
    const unlock = screen.getByRole('button', { name: 'Unlock' });
    expect(unlock).toHaveProperty('disabled', true);
    const field = screen.getByLabelText('Password or recovery key');
    fireEvent.change(field, { target: { value: 'old password' } });
    fireEvent.click(unlock);
    await waitFor(() => expect(screen.getByTestId('offsite-unlock').textContent).toContain('Wrong password for the offsite copy'));
    expect(screen.queryByRole('radio', { name: /Mail/ })).toBeNull();
    fireEvent.change(field, { target: { value: 'office password' } });
    fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    fireEvent.click(await screen.findByRole('radio', { name: /Mail \(1 restore point\)/ }));
    expect(screen.queryByTestId('offsite-unlock')).toBeNull();
    expect(engine.calls.filter((c) => c.method === 'repository.unlock').map((c) => c.req)).toEqual([
      { password: 'old password', remember: true, source: 'offsite' },
      { password: 'office password', remember: true, source: 'offsite' },
    ]);
  });

  it('without an offsite copy the wizard is unchanged: no source choice', async () => {
    const engine = fakeEngine({ 'snapshots.list': async () => [point], 'offsite.status': async () => ({ configured: false, snapshots: [], lagSnapshots: 0 }) });
    const { store } = renderWithServices(<RestorePage />, engine);
    await store.getState().refreshSnapshots();
    await screen.findByRole('radio', { name: /Mail/ });
    expect(screen.queryByTestId('restore-source')).toBeNull();
  });
});

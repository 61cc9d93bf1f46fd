import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { OffsiteOverview } from '../../../../shared/domain/engine.js';
import { fakeEngine, makeJob } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { OffsiteSection } from './OffsiteSection.js';
import { destinationOf, formFrom, formProblem } from './offsite-form.js';

const none: OffsiteOverview = { configured: false, snapshots: [], lagSnapshots: 0, dailyAt: '03:30' };
const saved: OffsiteOverview = {
  configured: true,
  destination: 's3://office-backups/site-a at http://127.0.0.1:7480',
  objectLock: true,
  snapshots: [{ id: '20261207T193602Z-29d5e5', local: true, offsite: true, protectedUntil: '2027-01-06T19:40:00.000Z' }],
  lagSnapshots: 0,
  dailyAt: '02:15',
  settings: { to: 's3://office-backups/site-a', endpoint: 'http://127.0.0.1:7480', pathStyle: true, lockDays: 30, lockMode: 'COMPLIANCE', keysStored: true },
};

const type = (label: string | RegExp, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe('Repository → Offsite: the destination form', () => {
  it('Test connection sends what was typed and shows the typed error in words, naming the destination', async () => {
    const engine = fakeEngine({
      'offsite.status': async () => none,
      'offsite.test': async () => {
        throw new AppError('OFFSITE_AUTH_FAILED', 's3://office-backups/site-a at http://127.0.0.1:7480: the access key or secret key was refused (SignatureDoesNotMatch)');
      },
    });
    renderWithServices(<OffsiteSection />, engine);
    await screen.findByTestId('offsite-none');
    const test = screen.getByRole('button', { name: 'Test connection' });
    expect(test).toHaveProperty('disabled', true); // nothing entered yet
    type('Destination', 's3://office-backups/site-a');
    type('Endpoint URL', 'http://127.0.0.1:7480');
    type('Access key ID', 'AKIA1');
    type('Secret access key', 'wrong-secret');
    fireEvent.click(test);
    await screen.findByText(/The storage service refused the keys/);
    expect(screen.getByTestId('engine-error').textContent).toContain('s3://office-backups/site-a at http://127.0.0.1:7480');
    expect(engine.calls.find((c) => c.method === 'offsite.test')?.req).toEqual({
      destination: { to: 's3://office-backups/site-a', endpoint: 'http://127.0.0.1:7480', pathStyle: true, accessKeyId: 'AKIA1', secretAccessKey: 'wrong-secret', lockDays: 30 },
    });
    expect(engine.calls.some((c) => c.method === 'offsite.configure')).toBe(false);
  });

  it('Save stores the setup; afterwards the page says "keys stored", never the keys, and offers Copy now with its progress', async () => {
    const engine = fakeEngine({
      'offsite.status': async () => none,
      'offsite.configure': async () => saved,
      'offsite.copyNow': async () => ({ jobId: 'j1' }),
      'jobs.list': async () => [makeJob({ id: 'j1', kind: 'offsite', bytesDone: 5 << 20, bytesTotal: 10 << 20 })],
    });
    const { store } = renderWithServices(<OffsiteSection />, engine);
    await screen.findByTestId('offsite-none');
    type('Destination', 's3://office-backups/site-a');
    type('Access key ID', 'AKIA1');
    type('Secret access key', 'top-secret');
    type('Days each copy stays locked', '400');
    type('Daily at', '02:15');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    const facts = await screen.findByTestId('offsite-facts');
    expect(engine.calls.find((c) => c.method === 'offsite.configure')?.req).toEqual({
      destination: { to: 's3://office-backups/site-a', accessKeyId: 'AKIA1', secretAccessKey: 'top-secret', lockDays: 400 },
      dailyAt: '02:15',
    });
    expect(facts.textContent).toContain('keys stored');
    expect(facts.textContent).toContain('at 02:15');
    expect(document.body.textContent).not.toContain('top-secret');
    fireEvent.click(screen.getByRole('button', { name: 'Copy now' }));
    await waitFor(() => expect(store.getState().jobs.data?.[0]?.id).toBe('j1'));
    expect((await screen.findByTestId('job-progress')).textContent).toContain('5.24 MB / 10.5 MB');
  });

  it('Remove asks first, then forgets the destination (the bucket is left as it is)', async () => {
    const engine = fakeEngine({ 'offsite.status': async () => saved, 'offsite.remove': async () => none });
    renderWithServices(<OffsiteSection />, engine);
    fireEvent.click(await screen.findByRole('button', { name: 'Remove…' }));
    expect(screen.getByText(/copies already in the bucket stay there/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    await screen.findByTestId('offsite-none');
    expect(engine.calls.filter((c) => c.method === 'offsite.remove')).toHaveLength(1);
  });
});

describe('offsite form model', () => {
  it('keys: both or neither, neither only when some are stored; empty fields keep the stored ones', () => {
    const f = { ...formFrom(saved) };
    expect(f).toMatchObject({ to: 's3://office-backups/site-a', accessKeyId: '', secretAccessKey: '', objectLock: true, lockDays: '30', dailyAt: '02:15' });
    expect(formProblem(f, true)).toBeNull();
    expect(destinationOf(f)).not.toHaveProperty('accessKeyId');
    expect(formProblem(f, false)).toMatch(/access key ID and secret access key/);
    expect(formProblem({ ...f, accessKeyId: 'A' }, true)).toMatch(/both/);
    expect(formProblem({ ...f, to: 'https://bucket' }, true)).toMatch(/s3:\/\/BUCKET\/PREFIX/);
    expect(formProblem({ ...f, lockDays: '0' }, true)).toMatch(/1 to 36500/);
    expect(destinationOf({ ...f, objectLock: false })).not.toHaveProperty('lockDays');
    expect(destinationOf(f)).not.toHaveProperty('lockMode'); // COMPLIANCE: the engine's default
    expect(destinationOf({ ...f, lockMode: 'GOVERNANCE' })).toMatchObject({ lockDays: 30, lockMode: 'GOVERNANCE' });
    expect(destinationOf({ ...f, endpoint: '' })).not.toHaveProperty('pathStyle');
  });
});

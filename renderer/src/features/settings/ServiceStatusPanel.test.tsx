import { describe, expect, it } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import type { ServiceStatus } from '../../../../shared/domain/engine.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { ServiceStatusPanel, serviceSentence } from './ServiceStatusPanel.js';

const holder = { pid: 4242, host: 'office-pc', role: 'daemon', startedAt: '2026-11-22T08:00:00.000Z', alive: true };

describe('background service status', () => {
  it('words each state for an admin', () => {
    expect(serviceSentence({ owner: 'other', repository: '/r', holder })).toMatchObject({ severity: 'success', text: expect.stringMatching(/background service \(process 4242 on office-pc.*after a reboot/) });
    expect(serviceSentence({ owner: 'this', repository: '/r' }).text).toMatch(/stop when it exits/);
    expect(serviceSentence({ owner: 'none', repository: '/r', holder: { ...holder, alive: false } })).toMatchObject({ severity: 'warning', text: expect.stringMatching(/stale lock/) });
    expect(serviceSentence({ owner: 'none', repository: '/r' }).text).toMatch(/Nobody runs scheduled backups/);
  });

  it('shows what service.status answers', async () => {
    const st: ServiceStatus = { owner: 'other', repository: '/r', holder };
    renderWithServices(<ServiceStatusPanel />, fakeEngine({ 'service.status': async () => st }));
    await waitFor(() => expect(screen.getByTestId('service-status').dataset.owner).toBe('other'));
    expect(screen.getByRole('status').textContent).toMatch(/process 4242/);
    expect(screen.queryByText(/twinsnap service install/)).toBeNull();
  });
});

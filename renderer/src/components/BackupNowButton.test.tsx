import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { Guest } from '../../../shared/domain/guest.js';
import type { EngineResponses } from '../../../shared/ipc/contract.js';
import { createAppStore } from '../stores/app-store.js';
import { fakeEngine } from '../test/fakes.js';
import { renderWithServices } from '../test/render.js';
import { BackupNowButton } from './BackupNowButton.js';
import type { GuestId } from '../../../shared/domain/guest-id.js';

const guest = (name: string): Guest => ({ id: `vmware:/vms/${name}.vmx` as GuestId, name, hypervisor: 'vmware', state: 'running', disks: [], warnings: [] });

describe('the top bar Back up now', () => {
  it('says what it does, lists the guests before anything starts, and waits visibly for the engine', async () => {
    let answer: (v: EngineResponses['jobs.backupNow']) => void = () => {};
    const engine = fakeEngine({ 'jobs.backupNow': () => new Promise((r) => (answer = r)), 'jobs.list': async () => [] });
    const store = createAppStore({ engine });
    store.setState({ guests: { data: [guest('Mail'), guest('Ledger'), guest('Web')], loading: false, error: undefined, loadedAt: 1 } });
    renderWithServices(<BackupNowButton />, engine, store);
    const button = screen.getByTestId('backup-now-all');
    expect(button.textContent).toBe('Back up all 3 guests…');
    fireEvent.click(button);
    // nothing started yet: a confirmation listing every guest, all ticked
    expect(engine.calls.filter((c) => c.method === 'jobs.backupNow')).toEqual([]);
    const dialog = await screen.findByRole('dialog', { name: 'Back up all 3 guests?' });
    for (const n of ['Mail', 'Ledger', 'Web']) expect((within(dialog).getByRole('checkbox', { name: new RegExp(n) }) as HTMLInputElement).checked).toBe(true);
    // untick one: only the others are backed up
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /Web/ }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Back up 2 guests' }));
    expect(engine.calls.filter((c) => c.method === 'jobs.backupNow').map((c) => c.req)).toEqual([{ guests: ['vmware:/vms/Mail.vmx', 'vmware:/vms/Ledger.vmx'] }]);
    // instant feedback while the engine resolves the guests: disabled, with a spinner
    await waitFor(() => expect((within(dialog).getByRole('button', { name: 'Back up 2 guests' }) as HTMLButtonElement).disabled).toBe(true));
    expect((screen.getByTestId('backup-now-all') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('backup-now-all').textContent).toBe('Starting…');
    answer({ jobIds: ['j1', 'j2'] });
    await waitFor(() => expect(screen.getByTestId('backup-now-all').textContent).toBe('Back up all 3 guests…'));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('Cancel starts nothing', async () => {
    const engine = fakeEngine({ 'jobs.list': async () => [] });
    const store = createAppStore({ engine });
    store.setState({ guests: { data: [guest('Mail')], loading: false, error: undefined, loadedAt: 1 } });
    renderWithServices(<BackupNowButton />, engine, store);
    expect(screen.getByTestId('backup-now-all').textContent).toBe('Back up Mail…');
    fireEvent.click(screen.getByTestId('backup-now-all'));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(engine.calls.filter((c) => c.method === 'jobs.backupNow')).toEqual([]);
  });
});

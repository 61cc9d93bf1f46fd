import { describe, expect, it } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import type { ServiceStatus } from '../../../../shared/domain/engine.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import type { BootServiceStatus } from '../../../../shared/ipc/service-status.js';
import { bootServiceWords } from './boot-service-text.js';
import { ServiceStatusPanel, serviceSentence } from './ServiceStatusPanel.js';

const holder = { pid: 4242, host: 'office-pc', role: 'daemon', startedAt: '2026-11-22T08:00:00.000Z', alive: true };

describe('background service status', () => {
  it('words each state for an admin', () => {
    expect(serviceSentence({ owner: 'other', repository: '/r', holder })).toMatchObject({
      severity: 'success',
      text: expect.stringMatching(/background service \(process 4242 on office-pc.*after a reboot/),
    });
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

  const unit = { manager: 'systemd', name: 'twinsnap.service' } as const;

  it('words the boot service: running, not installed (with the install command), stopped, not at boot, unknown', () => {
    expect(bootServiceWords({ ...unit, installed: true, enabled: true, active: true, pid: 812 })).toEqual({ severity: 'success', text: 'Installed, starts at boot, running now (pid 812).' });
    expect(bootServiceWords({ ...unit, installed: false, enabled: false, active: false })).toMatchObject({
      severity: 'warning',
      text: 'Not installed — scheduled backups only run while this app is open.',
      command: 'sudo twinsnap service install',
    });
    expect(bootServiceWords({ manager: 'task-scheduler', name: '\\TwinSnap\\Daemon', installed: false, enabled: false, active: false })).toMatchObject({
      hint: expect.stringMatching(/administrator/),
      command: 'twinsnap service install',
    });
    expect(bootServiceWords({ ...unit, installed: true, enabled: true, active: false, state: 'loaded / enabled / failed (failed)' })).toMatchObject({
      severity: 'warning',
      text: expect.stringMatching(/^Installed and starts at boot, but not running now \(loaded \/ enabled \/ failed/),
      command: 'sudo systemctl start twinsnap.service',
    });
    expect(bootServiceWords({ ...unit, installed: true, enabled: false, active: true, pid: 9 })).toMatchObject({
      text: 'Installed but does not start at boot, running now (pid 9).',
      command: 'sudo systemctl enable --now twinsnap.service',
    });
    expect(bootServiceWords({ ...unit, installed: false, enabled: false, active: false, error: 'Failed to connect to bus: Host is down' })).toMatchObject({
      severity: 'info',
      text: 'Unknown — systemd did not say whether it is installed.',
      hint: expect.stringMatching(/^systemd answered: “Failed to connect to bus: Host is down”\. /),
      command: 'twinsnap service status',
    });
    expect(bootServiceWords({ manager: 'none', name: 'twinsnap', installed: false, enabled: false, active: false }).command).toBe('twinsnap daemon');
  });

  it('shows the boot service the engine reports, with the install command when it is missing', async () => {
    const bootService: BootServiceStatus = { ...unit, installed: false, enabled: false, active: false, state: 'not-found / inactive (dead)' };
    renderWithServices(<ServiceStatusPanel />, fakeEngine({ 'service.status': async () => ({ owner: 'this', repository: '/r', bootService }) }));
    await waitFor(() => expect(screen.getByTestId('service-status').dataset.installed).toBe('false'));
    const box = screen.getByTestId('boot-service');
    expect(box.textContent).toMatch(/^Background service: Not installed — scheduled backups only run while this app is open\./);
    expect(box.querySelector('code')?.textContent).toBe('sudo twinsnap service install');
    expect(screen.getByTestId('scheduler-owner').textContent).toMatch(/run by this process/);
    expect(screen.getAllByRole('status')).toHaveLength(2); // both lines are polite live regions, not alerts
    // One refresh button (on the boot service line), not two.
    expect(screen.getAllByRole('button', { name: 'Refresh' })).toHaveLength(1);
  });

  it('running service: a success line with its pid and no command to run', async () => {
    const bootService: BootServiceStatus = { ...unit, installed: true, enabled: true, active: true, pid: 4242 };
    renderWithServices(<ServiceStatusPanel />, fakeEngine({ 'service.status': async () => ({ owner: 'other', repository: '/r', holder, bootService }) }));
    await waitFor(() => expect(screen.getByTestId('service-status').dataset.installed).toBe('true'));
    expect(screen.getByTestId('boot-service').textContent).toMatch(/^Background service: Installed, starts at boot, running now \(pid 4242\)\./);
    expect(screen.queryByText(/twinsnap service install/)).toBeNull();
  });
});

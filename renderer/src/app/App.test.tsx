import { describe, expect, it } from 'vitest';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { fakeBridge, fakeEngine } from '../test/fakes.js';
import { createAppStore } from '../stores/app-store.js';
import { connectEngineEvents } from '../stores/engine-events.js';
import { App } from './App.js';

const status = {
  version: '0.1.0',
  state: 'ready' as const,
  dataDir: '/data',
  repository: '/data/repository',
  logFile: '/data/logs/engine.log',
  hypervisors: [
    { kind: 'vmware' as const, available: true, toolPath: '/usr/bin/vmrun', version: '17.5' },
    { kind: 'hyperv' as const, available: false, problem: 'Hyper-V is a Windows feature' },
  ],
  runningJobs: 0,
  startedAt: '2026-11-22T10:00:00Z',
  schedulerOwner: 'this' as const,
};

describe('App frame', () => {
  it('shows live engine status, the navigation and the hypervisors in Settings', async () => {
    window.matchMedia ??= ((q: string) => ({
      matches: false,
      media: q,
      addEventListener() {},
      removeEventListener() {},
      addListener() {},
      removeListener() {},
      onchange: null,
      dispatchEvent: () => false,
    })) as never;
    const engine = fakeEngine({ 'engine.status': async () => status, 'guests.list': async () => [], 'snapshots.list': async () => [], 'jobs.list': async () => [] });
    const store = createAppStore({ engine });
    const fb = fakeBridge();
    connectEngineEvents(store, fb.bridge);
    render(<App services={{ store, engine }} />);
    expect(screen.getByTestId('engine-status').textContent).toMatch(/Connecting/);
    act(() => fb.setState('open'));
    await waitFor(() => expect(screen.getByTestId('engine-status').textContent).toBe('Engine ready'));
    fireEvent.click(screen.getByTestId('nav-settings'));
    expect(window.location.hash).toBe('#/settings');
    expect(screen.getByTestId('hypervisor-vmware').textContent).toMatch(/found · 17.5/);
    expect(screen.getByTestId('hypervisor-hyperv').textContent).toMatch(/Hyper-V is a Windows feature/);
    act(() => fb.setState('closed'));
    expect(screen.getByTestId('engine-status').textContent).toBe('Engine unreachable');
    act(() => fb.emit('engine.status', { ...status, state: 'degraded' }));
    act(() => fb.setState('open'));
    await waitFor(() => expect(screen.getByTestId('engine-status').textContent).toMatch(/Engine/));
  });
});

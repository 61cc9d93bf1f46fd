import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { EngineResponses } from '../../../../shared/ipc/contract.js';
import { fakeEngine, makeJob } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { createAppStore } from '../../stores/app-store.js';
import { RestoreProgress } from './RestoreProgress.js';
import type { RestoreDraft } from './restore-model.js';

const draft: RestoreDraft = { guest: 'Accounting', snapshotId: 's1', what: 'new-vm', to: '/vms/Accounting copy', newName: 'Accounting copy', format: 'original', confirmName: '' };

function renderResult(engine: ReturnType<typeof fakeEngine>, status: 'succeeded' | 'warning' | 'running', d: RestoreDraft = draft) {
  const store = createAppStore({ engine });
  const job = makeJob({
    id: 'j1',
    kind: 'restore',
    status,
    steps: [{ id: 'restore', label: 'Restore VM folder', status: status === 'running' ? 'running' : 'done', detail: `VM folder restored to '${d.to}'.` }],
  });
  store.setState({ jobs: { data: [job], loading: false, error: undefined, loadedAt: 1 } });
  return renderWithServices(<RestoreProgress jobId="j1" d={d} />, engine, store);
}

describe('Start it now (restore result page)', () => {
  it('starts the restored VM through the contract and says where it runs', async () => {
    let release: (v: EngineResponses['restore.startVm']) => void = () => {};
    const engine = fakeEngine({ 'restore.startVm': () => new Promise((r) => (release = r)) });
    renderResult(engine, 'succeeded');
    fireEvent.click(screen.getByRole('button', { name: 'Start it now' }));
    // progress while the hypervisor works
    await waitFor(() => expect((screen.getByRole('button', { name: /Starting/ }) as HTMLButtonElement).disabled).toBe(true));
    expect(engine.calls.filter((c) => c.method === 'restore.startVm')).toEqual([{ method: 'restore.startVm', req: { to: '/vms/Accounting copy' } }]);
    release({ vmId: '/vms/Accounting copy/Accounting.vmx', name: 'Accounting copy', hypervisor: 'vmware' });
    await waitFor(() => expect(screen.getByTestId('start-restored-vm').dataset.state).toBe('started'));
    expect(screen.getByText(/Accounting copy is running in VMware Workstation/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Start it now/ })).toBeNull();
  });

  it('shows a failure in plain words with the fix, and lets the user try again', async () => {
    let fail = true;
    const engine = fakeEngine({
      'restore.startVm': async () => {
        if (fail) throw new AppError('HV_NOT_INSTALLED', 'vmware workstation (vmrun) is not available');
        return { vmId: 'id-1', name: 'Accounting copy', hypervisor: 'hyperv' };
      },
    });
    renderResult(engine, 'succeeded');
    fireEvent.click(screen.getByRole('button', { name: 'Start it now' }));
    await waitFor(() => expect(screen.getByTestId('start-restored-vm').dataset.state).toBe('failed'));
    expect(screen.getByText(/The restored VM did not start/)).toBeTruthy();
    expect(screen.getByText(/Vmware workstation \(vmrun\) is not available\./)).toBeTruthy();
    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(screen.getByText(/Accounting copy is running in Hyper-V/)).toBeTruthy());
  });

  it('is offered only for a finished, clean restore of a whole VM as a new VM', () => {
    const engine = fakeEngine();
    const { unmount } = renderResult(engine, 'running');
    expect(screen.queryByRole('button', { name: 'Start it now' })).toBeNull();
    unmount();
    // registration failed (warning): the copy still has the original's identity, no one-click start
    renderResult(engine, 'warning').unmount();
    expect(screen.queryByRole('button', { name: 'Start it now' })).toBeNull();
    renderResult(engine, 'succeeded', { ...draft, what: 'disks' });
    expect(screen.queryByRole('button', { name: 'Start it now' })).toBeNull();
  });
});

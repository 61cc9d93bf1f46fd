import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { WhereStep } from './WhereStep.js';
import { blockedAt, networkLabel, startRequest, type RestoreDraft } from './restore-model.js';

const base: RestoreDraft = { guest: 'Accounting', snapshotId: 's1', what: 'new-vm', to: '/vms/copy', newName: 'Accounting copy', format: 'original', confirmName: '' };

/** The where-step with the wizard's draft state, exposing the draft to the test. */
function renderStep(engine: ReturnType<typeof fakeEngine>, initial: RestoreDraft) {
  const seen: { d: RestoreDraft } = { d: initial };
  function Harness() {
    const [d, setD] = useState(initial);
    seen.d = d;
    return <WhereStep d={d} set={(p) => setD((x) => ({ ...x, ...p }))} />;
  }
  renderWithServices(<Harness />, engine);
  return seen;
}

const hostNetworks = async () => ({
  hypervisor: 'hyperv' as const,
  networks: [
    { name: 'Office LAN', kind: 'External', detail: 'Intel(R) Ethernet I219-LM' },
    { name: 'Lab', kind: 'Private' },
  ],
});

describe('the where-step Network choice', () => {
  it('leaves a new VM disconnected by default, and connects it to a host network the user picks', async () => {
    const engine = fakeEngine({ 'restore.networks': hostNetworks });
    const seen = renderStep(engine, base);
    const group = screen.getByRole('radiogroup', { name: 'Network' });
    expect((within(group).getByLabelText('Leave disconnected (recommended while the original runs)') as HTMLInputElement).checked).toBe(true);
    expect(within(group).queryByLabelText("The original's networks")).toBeNull();
    expect(engine.calls.filter((c) => c.method === 'restore.networks')).toEqual([{ method: 'restore.networks', req: { snapshotId: 's1' } }]);
    expect(startRequest(seen.d).network).toEqual({ kind: 'disconnected' });
    expect(networkLabel(seen.d)).toBe('left disconnected');

    // the host's networks, as the engine lists them
    await waitFor(() => expect((within(group).getByLabelText('Connect to:') as HTMLInputElement).disabled).toBe(false));
    fireEvent.click(within(group).getByLabelText('Connect to:'));
    expect(blockedAt(3, seen.d)).toMatch(/choose the network/);
    fireEvent.mouseDown(screen.getByRole('combobox', { name: 'Host network' }));
    const options = screen.getAllByRole('option').map((o) => o.textContent);
    expect(options).toEqual(['Office LAN (Intel(R) Ethernet I219-LM)', 'Lab (Private)']);
    fireEvent.click(screen.getByRole('option', { name: /Office LAN/ }));
    await waitFor(() => expect(seen.d.networkName).toBe('Office LAN'));
    expect((within(group).getByLabelText('Connect to:') as HTMLInputElement).checked).toBe(true);
    expect(blockedAt(3, seen.d)).toBeUndefined();
    expect(startRequest(seen.d).network).toEqual({ kind: 'network', name: 'Office LAN' });
    expect(networkLabel(seen.d)).toBe('connected to Office LAN');
  });

  it("keeps the original's networks when replacing, and says why no network can be picked when the host lists none", async () => {
    const engine = fakeEngine({ 'restore.networks': async () => ({ hypervisor: 'hyperv' as const, networks: [], problem: 'Hyper-V is not set up in twinsnap, so its networks cannot be listed' }) });
    const seen = renderStep(engine, { ...base, what: 'replace', confirmName: 'Accounting' });
    const group = screen.getByRole('radiogroup', { name: 'Network' });
    expect((within(group).getByLabelText("The original's networks") as HTMLInputElement).checked).toBe(true);
    await waitFor(() => expect(screen.getByText(/networks cannot be listed/)).toBeTruthy());
    expect((within(group).getByLabelText('Connect to:') as HTMLInputElement).disabled).toBe(true);
    fireEvent.click(within(group).getByLabelText('Leave disconnected (recommended while the original runs)'));
    expect(startRequest(seen.d).network).toEqual({ kind: 'disconnected' });
  });

  it('offers no network choice for disks only', () => {
    const engine = fakeEngine({ 'restore.networks': hostNetworks });
    renderStep(engine, { ...base, what: 'disks' });
    expect(screen.queryByRole('radiogroup', { name: 'Network' })).toBeNull();
    expect(engine.calls).toEqual([]);
  });
});

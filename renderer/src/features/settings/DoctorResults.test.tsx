import { describe, expect, it } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import type { DoctorReport } from '../../../../shared/domain/doctor.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { DoctorResults, doctorSentence } from './DoctorResults.js';

const report = (over: Partial<DoctorReport> = {}): DoctorReport => ({
  ok: true,
  hypervisor: 'vmware',
  vm: 'scratch',
  vmId: '/vms/scratch/scratch.vmx',
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:01:00.000Z',
  checks: [
    { name: 'tool', ok: true, detail: 'vmrun 17' },
    { name: 'twin-isolated', ok: true, detail: 'verified' },
  ],
  durations: { freeze: 1200 },
  ...over,
});

describe('Settings → last doctor result per hypervisor', () => {
  it('words a pass, a failure (with the failed checks) and a hypervisor doctor never ran on', () => {
    expect(doctorSentence('vmware', report())).toMatchObject({ severity: 'success', text: expect.stringMatching(/^VMware .*every check held \(2\).*'scratch'/) });
    const bad = doctorSentence(
      'hyperv',
      report({
        ok: false,
        hypervisor: 'hyperv',
        checks: [
          { name: 'twin-isolated', ok: false, detail: 'isolation unproven' },
          { name: 'tool', ok: true, detail: '' },
        ],
      }),
    );
    expect(bad).toMatchObject({ severity: 'error', text: expect.stringMatching(/1 of 2 checks failed.*Do not back up production/), failed: ['twin-isolated: isolation unproven'] });
    expect(doctorSentence('hyperv', undefined)).toMatchObject({ severity: 'info', text: expect.stringContaining('has not run') });
  });

  it('shows what doctor.last answers for each hypervisor', async () => {
    const engine = fakeEngine({ 'doctor.last': async () => ({ vmware: report({ ok: false, checks: [{ name: 'nothing-left', ok: false, detail: 'left behind: snapshot twinsnap-1' }] }) }) });
    renderWithServices(<DoctorResults />, engine);
    await waitFor(() => expect(screen.getByTestId('doctor-vmware').dataset.ok).toBe('false'));
    expect(screen.getByTestId('doctor-vmware').textContent).toContain('nothing-left: left behind: snapshot twinsnap-1');
    expect(screen.getByTestId('doctor-hyperv').textContent).toContain('has not run');
    expect(engine.calls.map((c) => c.method)).toEqual(['doctor.last']);
  });
});

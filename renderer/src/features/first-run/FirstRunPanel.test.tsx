import { describe, expect, it } from 'vitest';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { EngineStatus } from '../../../../shared/domain/engine.js';
import type { Guest } from '../../../../shared/domain/guest.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { FirstRunPanel } from './FirstRunPanel.js';
import { suggestSchedules } from './suggest-schedules.js';
import type { GuestId } from '../../../../shared/domain/guest-id.js';

const guest = (name: string): Guest => ({ id: `vmware:${name}` as GuestId, name, hypervisor: 'vmware', state: 'running', disks: [], warnings: [] }) as Guest;
const status = {
  version: 't',
  state: 'ready',
  dataDir: '/d',
  repository: '/d/repository',
  logFile: '/d/log',
  hypervisors: [{ kind: 'vmware', available: true }],
  runningJobs: 0,
  startedAt: '',
  schedulerOwner: 'this',
} as EngineStatus;

describe('first-run schedule suggestions', () => {
  it('staggers guests by 15 minutes from 12:00 and 23:00, skipping scheduled ones and wrapping midnight', () => {
    expect(suggestSchedules(['A', 'B', 'C'], new Set(['B'])).map((s) => [s.guest, s.schedule.times])).toEqual([
      ['A', ['12:00', '23:00']],
      ['C', ['12:15', '23:15']],
    ]);
    const many = suggestSchedules(Array.from({ length: 6 }, (_, i) => `g${i}`));
    expect(many[5]!.schedule.times).toEqual(['13:15', '00:15'].sort());
  });

  it('shows the suggestions and creates them on confirm', async () => {
    const set: unknown[] = [];
    const engine = fakeEngine({
      'schedules.set': async (req) => (set.push(req), { ...req, nextRuns: [] }) as never,
      'schedules.list': async () => [],
    });
    renderWithServices(<FirstRunPanel status={status} guests={[guest('Accounting'), guest('Mail')]} />, engine);
    const list = screen.getByRole('list', { name: 'Suggested schedules' });
    expect(
      within(list)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual([expect.stringMatching(/Accounting.*12:00.*23:00/), expect.stringMatching(/Mail.*12:15.*23:15/)]);
    expect(set).toEqual([]);
    await act(async () => void fireEvent.click(screen.getByRole('button', { name: 'Create these schedules' })));
    await waitFor(() => expect(set).toHaveLength(2));
    expect(set).toEqual([
      { guest: 'vmware:Accounting', schedule: { kind: 'times', times: ['12:00', '23:00'] } },
      { guest: 'vmware:Mail', schedule: { kind: 'times', times: ['12:15', '23:15'] } },
    ]);
  });
});

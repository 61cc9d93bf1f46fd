import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import type { Guest } from '../../../../shared/domain/guest.js';
import type { GuestId } from '../../../../shared/domain/guest-id.js';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { formatDateTime } from '../../lib/format.js';
import { fakeEngine, makeJob } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { GuestTable } from './GuestTable.js';

const A = 'vmware:564def2d3fd414e22e04c5343aecee65' as GuestId;
const B = 'vmware:56a1b2c3d4e5f60718293a4b5c6d7e8f' as GuestId;
const C = 'hyperv:0f8fad5b-d9cb-469f-a165-70867728950e' as GuestId;
const guest = (id: GuestId, name: string, folder: string): Guest => ({ id, name, folder, hypervisor: 'vmware', state: 'running', disks: [], warnings: [] });
const snap = (id: string, guestId: GuestId, guestName: string, time: string): SnapshotSummary => ({ id, guestId, guest: guestName, time, consistency: 'clean-twin', disks: [], logicalBytes: 1 });

describe('the Guests table', () => {
  it("shows each guest's own last result and next run, found by id — two guests with one name never share them, and are told apart by folder", async () => {
    const guests = [guest(A, 'Windows 10 x64', '/vms/office'), guest(B, 'Windows 10 x64', '/vms/lab'), { ...guest(C, 'Ledger', 'D:\\Hyper-V\\Ledger'), hypervisor: 'hyperv' as const }];
    const engine = fakeEngine({
      // A has a clean backup; B's last backup failed after an older snapshot; C was renamed (its snapshot carries the old name)
      'snapshots.list': async () => [
        snap('s1', A, 'Windows 10 x64', '2026-11-20T10:00:00.000Z'),
        snap('s2', B, 'Windows 10 x64', '2026-11-18T10:00:00.000Z'),
        snap('s3', C, 'Old ledger', '2026-11-19T10:00:00.000Z'),
      ],
      'jobs.list': async () => [makeJob({ id: 'j1', guest: 'Windows 10 x64', guestId: B, status: 'failed', finishedAt: '2026-11-21T08:00:00.000Z' })],
      'schedules.list': async () => [
        { guestId: A, guest: 'Windows 10 x64', schedule: { kind: 'times', times: ['02:00'] }, nextRuns: ['2026-11-23T02:00:00.000Z'] },
        { guestId: C, guest: 'Old ledger', schedule: { kind: 'times', times: ['03:00'] }, nextRuns: ['2026-11-23T03:00:00.000Z'] },
      ],
    });
    const { store } = renderWithServices(<GuestTable guests={guests} />, engine);
    await Promise.all([store.getState().refreshSnapshots(), store.getState().refreshJobs(), store.getState().refreshSchedules()]);
    const rows = await screen.findAllByTestId('guest-row');
    const cells = (i: number) => ({
      folder: within(rows[i]!).queryByTestId('guest-folder')?.textContent,
      last: within(rows[i]!).getByTestId('guest-last-result').textContent,
      next: within(rows[i]!).getByTestId('guest-next-run').textContent,
    });
    await screen.findAllByText(/clean twin/);
    expect([cells(0), cells(1), cells(2)]).toEqual([
      { folder: '/vms/office', last: expect.stringMatching(/^clean twin · /), next: formatDateTime('2026-11-23T02:00:00.000Z') },
      { folder: '/vms/lab', last: expect.stringMatching(/^failed · /), next: 'not scheduled' },
      { folder: undefined, last: expect.stringMatching(/^clean twin · /), next: formatDateTime('2026-11-23T03:00:00.000Z') },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { fireEvent, screen, within } from '@testing-library/react';
import type { Guest } from '../../../shared/domain/guest.js';
import type { GuestId } from '../../../shared/domain/guest-id.js';
import type { SnapshotSummary } from '../../../shared/domain/snapshot.js';
import type { EngineClient } from '../../../shared/ipc/contract.js';
import { SnapshotDetails } from '../features/calendar/SnapshotDetails.js';
import { FileBrowser } from '../features/files/FileBrowser.js';
import { GuestsPage } from '../features/guests/GuestsPage.js';
import { JobDetail } from '../features/jobs/JobDetail.js';
import { ForgetSnapshotDialog } from '../features/calendar/ForgetSnapshotDialog.js';
import { RepositoryPage } from '../features/repository/RepositoryPage.js';
import { PointPicker } from '../features/restore/PointPicker.js';
import { RestorePage } from '../features/restore/RestorePage.js';
import { RestoreProgress } from '../features/restore/RestoreProgress.js';
import { fakeEngine, makeJob } from '../test/fakes.js';
import { renderWithServices } from '../test/render.js';

// Two VMware guests with one display name, in two folders: every place that names one of them
// must say which (the folder after the name), or an admin forgets or restores the wrong one.
const OFFICE = 'vmware:564def2d3fd414e22e04c5343aecee65' as GuestId;
const LAB = 'vmware:56a1b2c3d4e5f60718293a4b5c6d7e8f' as GuestId;
const NAME = 'Windows 10 x64';
const guest = (id: GuestId, folder: string): Guest => ({ id, name: NAME, folder, configPath: `${folder}/${NAME}.vmx`, hypervisor: 'vmware', state: 'running', disks: [], warnings: [] });
const GUESTS = [guest(OFFICE, '/vms/office'), guest(LAB, '/vms/lab')];
const snap = (id: string, guestId: GuestId, damaged = false): SnapshotSummary => ({
  id,
  guestId,
  guest: NAME,
  time: '2026-11-20T10:00:00.000Z',
  consistency: 'clean-twin',
  disks: [],
  logicalBytes: 1,
  ...(damaged ? { verify: { ok: false, at: '2026-11-21T10:00:00.000Z' } } : {}),
});
// the lab guest's point is damaged; the office guest's is fine
const SNAPS = [snap('s-office', OFFICE), snap('s-lab', LAB, true)];

async function render(ui: React.ReactElement, overrides: Partial<EngineClient> = {}) {
  const engine = fakeEngine({
    'guests.list': async () => GUESTS,
    'snapshots.list': async () => SNAPS,
    'jobs.list': async () => [],
    'jobs.log': async () => [],
    'snapshots.verify': async () => ({ ok: false, damaged: ['s-lab'], damagedPoints: [{ snapshotId: 's-lab', guestId: LAB, guest: NAME, time: SNAPS[1]!.time }] }),
    'repository.verify': async () => ({ ok: false, damaged: ['s-lab'], damagedPoints: [{ snapshotId: 's-lab', guestId: LAB, guest: NAME, time: SNAPS[1]!.time }], checkedChunks: 3 }),
    'repository.stats': async () => {
      throw new Error('not needed');
    },
    ...overrides,
  });
  const r = renderWithServices(ui, engine);
  await Promise.all([r.store.getState().refreshGuests(), r.store.getState().refreshSnapshots(), r.store.getState().refreshJobs()]);
  return { ...r, engine };
}

const LAB_LABEL = `${NAME} — /vms/lab`;

describe('two guests with one name in different folders are told apart', () => {
  it("in the job detail's header", async () => {
    await render(<JobDetail job={makeJob({ id: 'j1', guest: NAME, guestId: LAB, status: 'succeeded' })} />);
    expect((await screen.findByRole('heading', { level: 2 })).textContent).toContain(`${LAB_LABEL} — `);
  });

  it('in the file browser\'s "Browsing …" line (from the wizard\'s point, and from the snapshot list alone)', async () => {
    const { unmount } = await render(<FileBrowser snapshotId="s-lab" point={SNAPS[1]} />, { 'files.list': async ({ path }) => ({ path, entries: [], warnings: [] }) });
    expect((await screen.findByTestId('browsing-point')).textContent).toContain(`Browsing ${LAB_LABEL} as of`);
    unmount();
    await render(<FileBrowser snapshotId="s-office" />, { 'files.list': async ({ path }) => ({ path, entries: [], warnings: [] }) });
    expect((await screen.findByTestId('browsing-point')).textContent).toContain(`Browsing ${NAME} — /vms/office as of`);
  });

  it("in the calendar drawer's damaged-point alert, its Back up button and its verify result", async () => {
    await render(<SnapshotDetails s={SNAPS[1]!} onRetention={() => undefined} />);
    const alert = await screen.findByTestId('damaged-point');
    expect(alert.textContent).toContain(`Damaged restore point: ${LAB_LABEL} at`);
    expect(screen.getByRole('button', { name: `Back up ${LAB_LABEL} now` })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: /verify/i }));
    expect((await screen.findByText(/^Damaged: /)).textContent).toContain(`Damaged: ${LAB_LABEL} at`);
  });

  it("in the restore wizard's damaged-point alert", async () => {
    await render(<PointPicker points={[SNAPS[1]!]} value="s-lab" onChange={() => undefined} />);
    expect((await screen.findByTestId('damaged-point')).textContent).toContain(`Damaged restore point: ${LAB_LABEL} at`);
  });

  it("in the Guests page's list of damaged points", async () => {
    await render(<GuestsPage />);
    const list = await screen.findByTestId('guests-damaged');
    expect(list.querySelectorAll('li')).toHaveLength(1);
    expect(list.querySelector('li')!.textContent).toContain(`${LAB_LABEL} at`);
  });

  it("in the Repository page's verify result", async () => {
    await render(<RepositoryPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Verify' }));
    expect((await screen.findByText(/^Damaged: /)).textContent).toContain(`Damaged: ${LAB_LABEL} at`);
  });

  it("in the restore wizard's replace step, its review and its Replace button", async () => {
    const { store } = await render(<RestorePage />);
    store.getState().navigate('restore', { guest: LAB, snapshot: 's-lab' });
    fireEvent.click(await screen.findByText('Replace the original'));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect((await screen.findByText(/Replacing puts the guest/)).textContent).toContain(`Replacing puts the guest ${LAB_LABEL} back`);
    fireEvent.change(screen.getByLabelText(/Type the guest's name/), { target: { value: NAME } });
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(within(await screen.findByTestId('restore-review')).getByText(LAB_LABEL)).toBeTruthy();
    expect(screen.getByRole('button', { name: `Replace ${LAB_LABEL}` })).toBeTruthy();
  });

  it("in the replace result, whose Start it now starts the replaced guest's own folder, not its namesake's", async () => {
    const { store, engine } = await render(
      <RestoreProgress jobId="j1" d={{ guest: NAME, guestId: LAB, snapshotId: 's-lab', what: 'replace', to: '', newName: '', format: 'original', confirmName: NAME }} />,
      {
        'restore.startVm': async ({ to }) => ({ vmId: `${to}/x.vmx`, name: NAME, hypervisor: 'vmware' }),
      },
    );
    store.setState({ jobs: { data: [makeJob({ id: 'j1', kind: 'restore', status: 'succeeded' })], loading: false, error: undefined, loadedAt: 1 } });
    expect((await screen.findByTestId('restore-result')).textContent).toContain(`${LAB_LABEL} was replaced by the restore point.`);
    fireEvent.click(screen.getByRole('button', { name: 'Start it now' }));
    await screen.findByText(/is running again in VMware Workstation/);
    expect(engine.calls.filter((c) => c.method === 'restore.startVm').map((c) => c.req)).toEqual([{ to: '/vms/lab' }]);
  });

  it('in the Forget dialog', async () => {
    await render(<ForgetSnapshotDialog snapshot={SNAPS[1]!} onClose={() => undefined} onForgotten={() => undefined} />);
    expect((await screen.findByText(/The restore point of/)).textContent).toContain(`The restore point of ${LAB_LABEL} from`);
  });
});

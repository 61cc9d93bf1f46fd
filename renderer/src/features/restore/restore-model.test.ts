import { describe, expect, it } from 'vitest';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { blockedAt, nearestEarlier, startRequest, type RestoreDraft } from './restore-model.js';
import type { GuestId } from '../../../../shared/domain/guest-id.js';

const p = (id: string, time: string): SnapshotSummary => ({ id, guestId: 'name:A' as GuestId, guest: 'A', time, consistency: 'clean-twin', disks: [], logicalBytes: 0 });

describe('restore wizard model', () => {
  const points = [p('a', '2026-11-20T02:00:00Z'), p('b', '2026-11-21T02:00:00Z'), p('c', '2026-11-22T02:00:00Z')];
  it('finds the nearest earlier point and how far back it is', () => {
    expect(nearestEarlier(points, '2026-11-21T14:30:00Z')).toEqual({ point: points[1], beforeMs: 12.5 * 3600_000 });
    expect(nearestEarlier(points, '2026-11-22T02:00:00Z')?.point.id).toBe('c');
    expect(nearestEarlier(points, '2026-11-19T00:00:00Z')).toBeUndefined();
    expect(nearestEarlier(points, 'garbage')).toBeUndefined();
  });
  it('blocks steps until the needed choices are made', () => {
    const d: RestoreDraft = { to: '', newName: '', format: 'original', confirmName: '' };
    expect(blockedAt(0, d)).toMatch(/guest/);
    expect(blockedAt(3, { ...d, guest: 'A', what: 'replace', confirmName: 'a' })).toMatch(/type the guest's name/);
    expect(blockedAt(3, { ...d, guest: 'A', what: 'replace', confirmName: 'A' })).toBeUndefined();
    expect(blockedAt(3, { ...d, what: 'new-vm', to: '/r' })).toMatch(/name/);
    expect(blockedAt(3, { ...d, what: 'new-vm', to: '/r', newName: 'x', network: 'connect' })).toMatch(/choose the network/);
    expect(blockedAt(3, { ...d, what: 'new-vm', to: '/r', newName: 'x', network: 'connect', networkName: 'nat' })).toBeUndefined();
  });
  it('builds the restore.start request per mode', () => {
    const d: RestoreDraft = { guest: 'A', snapshotId: 's', what: 'disks', to: ' /out ', newName: '', format: 'qcow2', confirmName: '' };
    expect(startRequest(d)).toEqual({ snapshotId: 's', mode: 'disks', to: '/out', format: 'qcow2' });
    // a new VM is left disconnected unless the user picks a network; replace keeps the original's
    expect(startRequest({ ...d, what: 'new-vm', newName: 'A-restored' })).toEqual({ snapshotId: 's', mode: 'new-vm', to: '/out', newName: 'A-restored', network: { kind: 'disconnected' } });
    expect(startRequest({ ...d, what: 'new-vm', newName: 'A-restored', network: 'connect', networkName: 'Office LAN' }).network).toEqual({ kind: 'network', name: 'Office LAN' });
    expect(startRequest({ ...d, what: 'replace', confirmName: 'A' })).toEqual({ snapshotId: 's', mode: 'replace', to: '/out', confirmName: 'A', network: { kind: 'original' } });
    expect(() => startRequest({ ...d, what: 'files' })).toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import type { VmInfo } from '../hypervisor/hypervisor.js';
import { DEFAULT_MARGINS, guestRoleCheck, hostSpaceCheck, type HostProbe } from './preflight.js';

const MiB = 1024 * 1024;
const vm: VmInfo = {
  id: 'v',
  name: 'Ledger',
  state: 'running',
  memoryMiB: 1024,
  disks: [{ slot: 'SCSI 0 0', path: 'C:/vms/ledger/disk.vhdx' }],
  configPath: 'C:/vms/ledger',
  toolsRunning: true,
  encrypted: false,
  nics: [],
};
const needs = [{ path: 'D:/twins', bytes: 40_000 * MiB, what: 'the export' }];
const probe = (free: Record<string, number>): HostProbe => ({ freeMemoryBytes: () => 0, freeDiskBytes: (p) => free[p.slice(0, 2)], volumeOf: (p) => p.slice(0, 2) });

describe('hostSpaceCheck', () => {
  it('adds up the writes that share a volume and names each part when they do not fit', () => {
    // D: holds the export, the twin's own writes (1 GiB) and the repository (2 GiB)
    const needD = 40_000 * MiB + 1024 * MiB + 2048 * MiB;
    const repository = { path: 'D:/repo', neededBytes: 2048 * MiB };
    const fits = hostSpaceCheck({ vm, needs, repository, probe: probe({ 'C:': 10_000 * MiB, 'D:': needD }), margins: DEFAULT_MARGINS });
    expect(fits).toMatchObject({ id: 'host-space', ok: true });
    const short = hostSpaceCheck({ vm, needs, repository, probe: probe({ 'C:': 10_000 * MiB, 'D:': needD - 1 }), margins: DEFAULT_MARGINS });
    expect(short).toMatchObject({ id: 'host-space', ok: false, code: 'DISK_FULL' });
    expect(short.message).toMatch(/43072 MiB on the volume of 'D:\/twins' — the export, the twin's own writes .*, the repository's new data .* but only 43071 MiB are free/);
    // production's checkpoint on C: needs memory + margin
    const cShort = hostSpaceCheck({ vm, needs, repository, probe: probe({ 'C:': 2047 * MiB, 'D:': needD }), margins: DEFAULT_MARGINS });
    expect(cShort.message).toMatch(/2048 MiB on the volume of 'C:\/vms' — the checkpoint's memory state/);
  });

  it('passes with a note when a volume cannot be measured', () => {
    expect(hostSpaceCheck({ vm, needs, probe: { freeMemoryBytes: () => 0, freeDiskBytes: () => undefined }, margins: DEFAULT_MARGINS })).toMatchObject({
      ok: true,
      message: expect.stringMatching(/could not be measured/),
    });
  });
});

describe('guestRoleCheck', () => {
  const dc = { domainController: true, evidence: 'ProductType 2' };
  it('refuses a domain controller under require-clean, warns under allow-crash, passes unknown and non-DC roles', () => {
    expect(guestRoleCheck(vm, dc, 'require-clean')).toMatchObject({ ok: false, code: 'HV_DOMAIN_CONTROLLER', message: expect.stringMatching(/production checkpoints/) });
    expect(guestRoleCheck(vm, dc, 'allow-crash')).toMatchObject({ ok: true, warn: true });
    expect(guestRoleCheck(vm, { evidence: 'no kvp' }, 'require-clean')).toMatchObject({ ok: true, message: 'role unknown: no kvp' });
    expect(guestRoleCheck(vm, { domainController: false, evidence: 'ProductType 3' }, 'require-clean')).toMatchObject({ ok: true });
  });
});

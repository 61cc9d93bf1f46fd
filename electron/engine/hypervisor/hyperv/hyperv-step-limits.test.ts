import { describe, expect, it } from 'vitest';
import { hypervStepLimits } from './hyperv-step-limits.js';

const vm = (memoryMiB: number) => ({ id: 'x', name: 'x', state: 'running' as const, memoryMiB, disks: [], toolsRunning: true, encrypted: false, nics: [] });

describe('Hyper-V step limits scale with the VM', () => {
  it('an export of 100 GB of disks gets well over an hour; memory scales the checkpoint and the twin start', () => {
    const l = hypervStepLimits(vm(16 * 1024), 100e9);
    expect(l['copy-config']).toBe(600_000 + 5_000_000);
    expect(l.cleanup).toBe(l['copy-config']);
    expect(l.freeze).toBe(Math.round(120_000 + (16 * 2 ** 30 / 50e6) * 1000));
    expect(l['boot-twin']).toBe(300_000 + l.freeze!);
  });

  it('a small VM stays near the workflow defaults, and unreadable disk files count as empty', () => {
    const l = hypervStepLimits({ ...vm(256), disks: [{ slot: 'SCSI 0 0', path: '/no/such/disk.vhdx' }] });
    expect(l['copy-config']).toBe(600_000);
  });
});

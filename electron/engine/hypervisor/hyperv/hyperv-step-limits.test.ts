import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.js';
import { nullLogger } from '../../core/logger.js';
import type { VmInfo } from '../hypervisor.js';
import { HyperVHypervisor } from './hyperv-hypervisor.js';

describe('HyperVHypervisor.stepLimits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twinsnap-hv-limits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const hv = new HyperVHypervisor({ logger: nullLogger, clock: systemClock, powershellPath: '/nonexistent' });
  const vm = (disks: string[], memoryMiB = 1024): VmInfo => ({
    id: 'x',
    name: 'x',
    state: 'running',
    memoryMiB,
    disks: disks.map((path, i) => ({ slot: `SCSI 0 ${i}`, path })),
    toolsRunning: true,
    encrypted: false,
    nics: [],
  });

  it('grows the export and merge limits with the disks’ bytes and the memory limits with the memory size', () => {
    const small = join(dir, 'small.vhdx');
    const big = join(dir, 'big.vhdx');
    writeFileSync(small, '');
    writeFileSync(big, '');
    truncateSync(big, 100 * 2 ** 30); // 100 GiB (sparse)
    const a = hv.stepLimits(vm([small]));
    const b = hv.stepLimits(vm([small, big], 8192));
    // 100 GiB at 40 MiB/s ≈ 43 min on top of the base
    expect(b['copy-config']! - a['copy-config']!).toBe(Math.ceil(((100 * 2 ** 30) / (40 * 2 ** 20)) * 1000));
    expect(b.cleanup! - a.cleanup!).toBe(b['copy-config']! - a['copy-config']!);
    expect(b.freeze!).toBeGreaterThan(a.freeze!);
    expect(b['boot-twin']!).toBeGreaterThan(a['boot-twin']!);
    // an unreadable disk counts as empty: the base limits
    expect(hv.stepLimits(vm([join(dir, 'missing.vhdx')]))).toEqual(a);
  });
});

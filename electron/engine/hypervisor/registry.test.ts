import { describe, it, expect } from 'vitest';
import { defaultHypervisors } from './registry.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { parseVmrunList, vmxPathKey } from './vmware/vmrun-runner.js';

const quiet: Logger = { log() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

describe('defaultHypervisors', () => {
  it('returns the vmware and hyper-v adapters whose detect() never throws and is cheap without the tools', async () => {
    const hvs = defaultHypervisors({ vmrunPath: '/nonexistent/vmrun', powershellPath: '/nonexistent/powershell', vmFolders: [], logger: quiet, clock: systemClock });
    expect(hvs.map((h) => h.kind)).toEqual(['vmware', 'hyperv']);
    const t0 = performance.now();
    const infos = await Promise.all(hvs.map((h) => h.detect()));
    expect(performance.now() - t0).toBeLessThan(500);
    expect(infos).toEqual([
      expect.objectContaining({ kind: 'vmware', available: false, problem: expect.stringMatching(/vmrun.*does not exist/) }),
      expect.objectContaining({ kind: 'hyperv', available: false, problem: expect.stringMatching(/not found/) }),
    ]);
    await expect(hvs[0]!.listVms()).rejects.toMatchObject({ code: 'HV_NOT_INSTALLED' });
  });
});

describe('vmrun list output', () => {
  it('parses CRLF output and skips the count line', () => {
    expect(parseVmrunList('Total running VMs: 2\r\nC:\\VMs\\a b\\a b.vmx\r\n/vms/x.vmx\r\n')).toEqual(['C:\\VMs\\a b\\a b.vmx', '/vms/x.vmx']);
    expect(parseVmrunList('Total running VMs: 0\n')).toEqual([]);
  });

  it('compares windows paths case-insensitively with either slash, posix paths exactly', () => {
    expect(vmxPathKey('C:\\VMs\\A.vmx', 'win32')).toBe(vmxPathKey('c:/vms/a.vmx', 'win32'));
    expect(vmxPathKey('/vms/A.vmx', 'linux')).not.toBe(vmxPathKey('/vms/a.vmx', 'linux'));
  });
});

import { describe, expect, it } from 'vitest';
import { formatGuestId, hypervGuestId, isGuestId, nameGuestId, parseGuestId, vmwareGuestId, vmwarePathGuestId } from './guest-id.js';

describe('guest ids', () => {
  it('are built from what each hypervisor keeps: the Hyper-V VM id, the VMware uuid.bios as written in the .vmx', () => {
    expect(hypervGuestId('{5A3C9E2B-0000-4000-8000-000000000001}')).toBe('hyperv:5a3c9e2b-0000-4000-8000-000000000001');
    expect(vmwareGuestId('56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65')).toBe('vmware:564def2d3fd414e22e04c5343aecee65');
    expect(vmwareGuestId('56 4d ef')).toBeUndefined();
    expect(vmwarePathGuestId('AB'.repeat(32))).toBe(`vmware:path-${'ab'.repeat(12)}`);
    expect(nameGuestId('Windows 10 x64')).toBe('name:Windows 10 x64');
  });

  it('parse back to their parts, and anything else is not a guest id', () => {
    for (const id of ['hyperv:5a3c9e2b-0000-4000-8000-000000000001', 'vmware:564def2d3fd414e22e04c5343aecee65', `vmware:path-${'0'.repeat(24)}`, 'name:a:b']) {
      expect(formatGuestId(parseGuestId(id)!)).toBe(id);
    }
    for (const bad of ['', 'Windows 10 x64', 'vmware:/vms/a.vmx', 'vmware:564DEF2D3FD414E22E04C5343AECEE65', 'hyperv:not-a-guid', 'name:', `name:${'x'.repeat(513)}`, 'esx:1', 42, null]) {
      expect(isGuestId(bad)).toBe(false);
    }
    expect(() => hypervGuestId('/vms/x.vmx')).toThrow(TypeError);
  });
});

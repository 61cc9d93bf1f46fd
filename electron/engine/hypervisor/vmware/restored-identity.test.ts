import { describe, expect, it } from 'vitest';
import { VmxFile } from './vmx-file.js';
import { restoredVmIdentity } from './restored-identity.js';

const ORIGINAL = [
  '.encoding = "UTF-8"',
  'config.version = "8"',
  'displayName = "Accounting"',
  'uuid.bios = "56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65"',
  'uuid.location = "56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65"',
  'ethernet0.present = "TRUE"',
  'ethernet0.addressType = "generated"',
  'ethernet0.generatedAddress = "00:0c:29:ec:ee:65"',
  'ethernet0.generatedAddressOffset = "0"',
  'ethernet1.present = "TRUE"',
  'ethernet1.addressType = "static"',
  'ethernet1.address = "00:50:56:00:00:01"',
  'ethernet1.connectionType = "nat"',
  'checkpoint.vmState = "Accounting.vmss"',
  'scsi0:0.fileName = "Accounting.vmdk"',
].join('\n');

describe('restoredVmIdentity', () => {
  it('gives the copy a new name, a new BIOS UUID and no fixed MAC, and keeps the rest', () => {
    const before = VmxFile.parse(ORIGINAL);
    const after = restoredVmIdentity(before, 'Accounting (restored)');
    expect(after.get('displayName')).toBe('Accounting (restored)');
    expect(after.get('uuid.bios')).toMatch(/^([0-9a-f]{2} ){7}[0-9a-f]{2}-([0-9a-f]{2} ){7}[0-9a-f]{2}$/);
    expect(after.get('uuid.bios')).not.toBe(before.get('uuid.bios'));
    expect(after.has('uuid.location')).toBe(false);
    expect(after.get('uuid.action')).toBe('create');
    for (const k of ['ethernet0.generatedAddress', 'ethernet0.generatedAddressOffset', 'ethernet1.address', 'checkpoint.vmState']) expect(after.has(k)).toBe(false);
    expect(after.get('ethernet0.addressType')).toBe('generated');
    expect(after.get('ethernet1.addressType')).toBe('generated');
    expect(after.get('ethernet1.connectionType')).toBe('nat');
    expect(after.get('scsi0:0.fileName')).toBe('Accounting.vmdk');
    // the input is not modified
    expect(before.get('ethernet1.address')).toBe('00:50:56:00:00:01');
    // two restores of the same point get different identities
    expect(restoredVmIdentity(before, 'x').get('uuid.bios')).not.toBe(after.get('uuid.bios'));
  });
});

import { describe, expect, it } from 'vitest';
import { VmxFile } from './vmx-file.js';
import { planRestoredVmwareFolder, restoredVmIdentity } from './restored-identity.js';

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

describe('planRestoredVmwareFolder', () => {
  const vmx = (lines: string[]) => Buffer.from(['.encoding = "UTF-8"', 'displayName = "Accounting"', ...lines].join('\n'));
  it('names the .vmx after the VM and points every slot at its restored disk, wherever the original kept it', () => {
    const plan = planRestoredVmwareFolder(
      {
        configFiles: [
          {
            name: 'production.vmx',
            data: vmx([
              'scsi0:0.fileName = "D:\\\\VMs\\\\Accounting\\\\Accounting.vmdk"',
              'scsi0:1.fileName = "Accounting-data.vmdk"',
              'ide1:0.fileName = "setup.iso"',
              'ide1:0.deviceType = "cdrom-image"',
            ]),
          },
        ],
        disks: [
          { name: 'scsi0-1', fileName: 'scsi0-1.vmdk', format: 'vmdk' },
          { name: 'scsi0-0', fileName: 'scsi0-0.vmdk', format: 'vmdk' },
        ],
      },
      'Accounting: March',
    );
    expect(plan.configFiles.map((c) => c.name)).toEqual(['Accounting_ March.vmx']);
    expect(plan.disks).toEqual([
      { name: 'scsi0-1', fileName: 'Accounting-data.vmdk', format: 'vmdk' },
      { name: 'scsi0-0', fileName: 'Accounting.vmdk', format: 'vmdk' },
    ]);
    const out = VmxFile.parse(plan.configFiles[0]!.data);
    expect(out.get('scsi0:0.fileName')).toBe('Accounting.vmdk');
    expect(out.get('scsi0:1.fileName')).toBe('Accounting-data.vmdk');
    expect(out.get('ide1:0.fileName')).toBe('setup.iso');
    expect(out.get('displayName')).toBe('Accounting: March');
  });

  it('refuses disks VMware cannot open and a slot the restore point has no disk for', () => {
    const configFiles = [{ name: 'production.vmx', data: vmx(['scsi0:0.fileName = "a.vmdk"', 'scsi0:1.fileName = "b.vmdk"']) }];
    expect(() => planRestoredVmwareFolder({ configFiles, disks: [{ name: 'scsi0-0', fileName: 'a.qcow2', format: 'qcow2' }] }, 'x')).toThrow(expect.objectContaining({ code: 'DISK_UNSUPPORTED' }));
    expect(() => planRestoredVmwareFolder({ configFiles, disks: [{ name: 'scsi0-0', fileName: 'a.vmdk', format: 'vmdk' }] }, 'x')).toThrow(
      expect.objectContaining({ code: 'MANIFEST_CORRUPT', message: expect.stringContaining('scsi0:1') }),
    );
  });

  it('leaves a folder without a .vmx as it is', () => {
    const input = { configFiles: [], disks: [{ name: 'disk', fileName: 'disk.vhdx', format: 'vhdx' }] };
    expect(planRestoredVmwareFolder(input, 'x')).toBe(input);
  });
});

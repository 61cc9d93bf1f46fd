import { describe, it, expect } from 'vitest';
import { VmxFile } from './vmx-file.js';
import { buildTwinVmx, randomUuidBios } from './twin-config.js';
import { vmxDisks } from './vmx-facts.js';

const PROD = [
  '.encoding = "UTF-8"',
  'config.version = "8"',
  'virtualHW.version = "19"',
  'displayName = "Accounting"',
  'memsize = "2048"',
  'uuid.bios = "56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65"',
  'uuid.location = "56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65"',
  'scsi0:0.present = "TRUE"',
  'scsi0:0.fileName = "Accounting.vmdk"',
  'sata0:1.present = "TRUE"',
  'sata0:1.fileName = "/data/other disk.vmdk"',
  'sata0:2.present = "TRUE"',
  'sata0:2.deviceType = "cdrom-image"',
  'sata0:2.fileName = "/iso/debian.iso"',
  'nvme0:0.present = "FALSE"',
  'nvme0:0.fileName = "gone.vmdk"',
  'ethernet0.present = "TRUE"',
  'ethernet0.startConnected = "TRUE"',
  'ethernet0.generatedAddress = "00:0c:29:aa:bb:cc"',
  'ethernet1.present = "TRUE"',
  'ethernet2.present = "FALSE"',
  'checkpoint.vmState = "Accounting.vmss"',
  'workingDir = "D:\\\\fast"',
  'nvram = "Accounting.nvram"',
  'unknown.vendor.key = "kept"',
  '',
].join('\n');

describe('buildTwinVmx (copy-config)', () => {
  const prod = VmxFile.parse(Buffer.from(PROD));
  const { vmx, disks } = buildTwinVmx({
    production: prod,
    productionVmxPath: '/vms/Accounting/Accounting.vmx',
    displayName: 'Accounting — twin',
    vmssFileName: 'twin.vmss',
    nvramFileName: 'twin.nvram',
    baseName: 'twin',
  });

  it('points every present hard disk at a child in the twin folder and leaves CDs and absent slots alone', () => {
    expect(disks).toEqual([
      { slot: 'scsi0:0', childFileName: 'scsi0-0.vmdk', parentPath: '/vms/Accounting/Accounting.vmdk' },
      { slot: 'sata0:1', childFileName: 'sata0-1.vmdk', parentPath: '/data/other disk.vmdk' },
    ]);
    expect(vmx.get('scsi0:0.fileName')).toBe('scsi0-0.vmdk');
    expect(vmx.get('sata0:2.fileName')).toBe('/iso/debian.iso');
    expect(vmxDisks(vmx, '/twins/t/twin.vmx').map((d) => d.path)).toEqual(['/twins/t/scsi0-0.vmdk', '/twins/t/sata0-1.vmdk']);
  });

  it('gives the twin a new identity, disconnected nics and its own suspend state', () => {
    expect(vmx.get('displayName')).toBe('Accounting — twin');
    expect(vmx.has('uuid.location')).toBe(false);
    expect(vmx.get('uuid.bios')).not.toBe(prod.get('uuid.bios'));
    expect(vmx.get('uuid.bios')).toMatch(/^([0-9a-f]{2} ){7}[0-9a-f]{2}-([0-9a-f]{2} ){7}[0-9a-f]{2}$/);
    expect(vmx.get('uuid.action')).toBe('create');
    expect(vmx.get('msg.autoAnswer')).toBe('TRUE');
    expect(vmx.get('ethernet0.startConnected')).toBe('FALSE');
    expect(vmx.get('ethernet1.startConnected')).toBe('FALSE');
    expect(vmx.get('ethernet0.present')).toBe('TRUE');
    expect(vmx.has('ethernet2.startConnected')).toBe(false);
    expect(vmx.get('checkpoint.vmState')).toBe('twin.vmss');
    expect(vmx.has('workingDir')).toBe(false);
    expect(vmx.get('nvram')).toBe('twin.nvram');
    expect(vmx.get('unknown.vendor.key')).toBe('kept');
  });

  it('drops the suspend state keys for a cold boot', () => {
    const cold = buildTwinVmx({ production: prod, productionVmxPath: '/vms/a/a.vmx', displayName: 'c', baseName: 'twin' }).vmx;
    expect(cold.has('checkpoint.vmState')).toBe(false);
    expect(cold.has('nvram')).toBe(false);
  });

  it('never touches the production config object', () => {
    expect(prod.get('displayName')).toBe('Accounting');
    expect(randomUuidBios()).not.toBe(randomUuidBios());
  });
});

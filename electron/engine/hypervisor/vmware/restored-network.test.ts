import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VmxFile } from './vmx-file.js';
import { applyVmxNetwork, vmwareHostNetworks } from './restored-network.js';
import { pickNetwork } from '../host-networks.js';

const VMX = [
  'ethernet0.present = "TRUE"',
  'ethernet0.connectionType = "pvn"',
  'ethernet0.pvnID = "52 00 00 00 00 00 00 01-00 00 00 00 00 00 00 02"',
  'ethernet1.present = "TRUE"',
  'ethernet1.connectionType = "bridged"',
  'ethernet2.present = "FALSE"',
  '',
].join('\n');

describe('the network of a restored VMware VM', () => {
  it("lists the host's custom vmnets (networking file) and LAN segments (preferences) after the three kinds, named as the host spells them", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsnap-vmnet-'));
    const networking = join(dir, 'networking');
    writeFileSync(networking, 'VERSION=1,0\nanswer VNET_1_HOSTONLY_SUBNET 192.168.10.0\nanswer VNET_3_NAT yes\nanswer VNET_12_DHCP no\nanswer VNET_8_NAT yes\n');
    const prefs = join(dir, 'preferences');
    writeFileSync(prefs, 'pref.namedPVNs0.name = "Lab"\npref.namedPVNs0.pvnID = "52 aa"\npref.namedPVNs1.name = "no id"\n');
    const linux = await vmwareHostNetworks({ networkingFiles: [networking, join(dir, 'missing')], preferencesFiles: [prefs], platform: 'linux' });
    expect(linux.map((n) => `${n.name}:${n.kind}`)).toEqual(['bridged:bridged', 'nat:nat', 'hostonly:hostonly', 'vmnet3:custom', 'vmnet12:custom', 'Lab:lan-segment']);
    expect(linux.find((n) => n.name === 'Lab')?.id).toBe('52 aa');
    const windows = await vmwareHostNetworks({ networkingFiles: [networking], preferencesFiles: [], platform: 'win32' });
    expect(windows.map((n) => n.name)).toContain('VMnet3');
    // no networking file (Windows, or Workstation not installed): the three kinds
    expect((await vmwareHostNetworks({ networkingFiles: [], preferencesFiles: [], platform: 'linux' })).map((n) => n.name)).toEqual(['bridged', 'nat', 'hostonly']);
    expect(() => pickNetwork(linux, 'Office')).toThrow(expect.objectContaining({ code: 'HV_NETWORK_NOT_FOUND', message: expect.stringContaining("'vmnet3'") }));
    expect(pickNetwork(linux, 'VMNET3').name).toBe('vmnet3');
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes each present adapter: disconnected at power-on keeping its backing, on a custom vmnet or a kind, or left as it was', () => {
    const off = applyVmxNetwork(VmxFile.parse(VMX), { kind: 'disconnected' });
    expect([off.get('ethernet0.connectionType'), off.get('ethernet0.startConnected'), off.get('ethernet1.startConnected'), off.has('ethernet2.startConnected')]).toEqual([
      'pvn',
      'FALSE',
      'FALSE',
      false,
    ]);

    const custom = applyVmxNetwork(VmxFile.parse(VMX), { kind: 'network', name: 'vmnet3' }, { name: 'vmnet3', kind: 'custom' });
    expect([custom.get('ethernet0.connectionType'), custom.get('ethernet0.vnet'), custom.has('ethernet0.pvnID'), custom.get('ethernet0.startConnected')]).toEqual(['custom', 'vmnet3', false, 'TRUE']);
    expect([custom.get('ethernet1.connectionType'), custom.get('ethernet1.vnet')]).toEqual(['custom', 'vmnet3']);

    const nat = applyVmxNetwork(VmxFile.parse(VMX), { kind: 'network', name: 'nat' }, { name: 'nat', kind: 'nat' });
    expect([nat.get('ethernet0.connectionType'), nat.has('ethernet0.pvnID'), nat.has('ethernet0.vnet'), nat.get('ethernet1.connectionType')]).toEqual(['nat', false, false, 'nat']);

    expect(applyVmxNetwork(VmxFile.parse(VMX), { kind: 'original' }).toString()).toBe(VmxFile.parse(VMX).toString());
  });
});

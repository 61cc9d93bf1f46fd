import { describe, it, expect } from 'vitest';
import { VmxFile } from './vmx-file.js';
import { expectedSegments, isolateNics, isolationProblems, normalPvnId, pvnIdsIn, randomPvnId } from './twin-isolation.js';

const VMX = [
  'ethernet0.present = "TRUE"',
  'ethernet0.connectionType = "custom"',
  'ethernet0.vnet = "VMnet8"',
  'ethernet0.startConnected = "TRUE"',
  'ethernet1.present = "TRUE"',
  'ethernet1.connectionType = "pvn"',
  'ethernet1.pvnID = "52 aa aa aa aa aa aa aa-aa aa aa aa aa aa aa aa"',
  'ethernet2.present = "FALSE"',
  '',
].join('\n');

const dict = (nic: string, type: string, id?: string) =>
  [`2026-12-07T10:00:00.000Z| vmx| I005: DICT ${nic}.connectionType = "${type}"`, ...(id ? [`2026-12-07T10:00:00.000Z| vmx| I005: DICT ${nic}.pvnID = "${id}"`] : [])].join('\n');

describe('twin isolation (vmware)', () => {
  it('moves every present nic to a lan segment of its own, never one production or the host preferences use', () => {
    const vmx = VmxFile.parse(VMX);
    const prefs = VmxFile.parse('pref.namedPVNs0.name = "lab"\npref.namedPVNs0.pvnID = "52 bb bb bb bb bb bb bb-bb bb bb bb bb bb bb bb"\n');
    const taken = new Set([...pvnIdsIn(vmx), ...pvnIdsIn(prefs)]);
    expect(taken.size).toBe(2);
    const seg = isolateNics(vmx, taken);
    expect(Object.keys(seg)).toEqual(['ethernet0', 'ethernet1']);
    for (const [nic, id] of Object.entries(seg)) {
      expect(id).toMatch(/^52( [0-9a-f]{2}){7}-[0-9a-f]{2}( [0-9a-f]{2}){7}$/);
      expect(taken.has(normalPvnId(id))).toBe(false);
      expect(vmx.get(`${nic}.connectionType`)).toBe('pvn');
      expect(vmx.get(`${nic}.pvnID`)).toBe(id);
      expect(vmx.get(`${nic}.startConnected`)).toBe('FALSE');
    }
    expect(seg.ethernet0).not.toBe(seg.ethernet1);
    expect(vmx.has('ethernet0.vnet')).toBe(false);
    expect(vmx.has('ethernet2.connectionType')).toBe(false);
    expect(expectedSegments(vmx)).toEqual(seg);
  });

  it('a fresh id avoids the taken ones', () => {
    const first = randomPvnId();
    expect(normalPvnId(first)).toHaveLength(32);
    expect(randomPvnId(new Set([normalPvnId(first)]))).not.toBe(first);
  });

  it('passes only a log that shows every nic on exactly its own segment and nowhere else', () => {
    const id0 = '52 01 02 03 04 05 06 07-08 09 0a 0b 0c 0d 0e 0f';
    const exp = { ethernet0: id0 };
    expect(isolationProblems(dict('ethernet0', 'pvn', id0.toUpperCase()), exp)).toEqual([]);
    // fails closed: nothing logged, another network, another segment, a VNET line naming a vmnet
    expect(isolationProblems('', exp)).toEqual(["vmware.log does not show ethernet0's connection type"]);
    expect(isolationProblems(dict('ethernet0', 'nat'), exp)[0]).toMatch(/on 'nat', not on its private lan segment/);
    expect(isolationProblems(dict('ethernet0', 'pvn', '52 ff ff ff ff ff ff ff-ff ff ff ff ff ff ff ff'), exp)[0]).toMatch(/on lan segment 52 ff/);
    expect(isolationProblems(dict('ethernet0', 'pvn'), exp)[0]).toMatch(/lan segment id/);
    const bridged = `${dict('ethernet0', 'pvn', id0)}\n2026-12-07T10:00:01.000Z| vmx| I005: VNET: MACVNetPort_Connect: Ethernet0: connected to vmnet0`;
    expect(isolationProblems(bridged, exp)[0]).toMatch(/on another network: .*vmnet0/);
    // a nic the configuration does not put on a segment is never accepted
    expect(isolationProblems(dict('ethernet0', 'pvn', id0), { ethernet0: undefined })[0]).toMatch(/not on a private lan segment/);
  });
});

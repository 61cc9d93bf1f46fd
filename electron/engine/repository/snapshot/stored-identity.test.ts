import { describe, expect, it } from 'vitest';
import { identityFromConfig, recoverGuestIds, type StoredIdentity } from './stored-identity.js';

const vmx = (text: string) => ({ name: 'production.vmx', data: Buffer.from(text) });
const U = '56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65';
const HEX = '564def2d3fd414e22e04c5343aecee65';

describe('the identity a stored configuration gives', () => {
  it('VMware: uuid.bios (keys in any case, the last one wins) with uuid.location; nothing from a missing or malformed uuid or from two .vmx files', () => {
    expect(identityFromConfig([vmx(`displayName = "a"\nUUID.BIOS = "00 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00"\nuuid.bios = "${U}"\nuuid.location = "56 4d 11-22"\n`)])).toEqual({
      id: `vmware:${HEX}`,
      location: '564d1122',
    });
    expect(identityFromConfig([vmx('displayName = "never powered on"\n')])).toEqual({});
    expect(identityFromConfig([vmx('uuid.bios = "56 4d zz"\n')])).toEqual({});
    expect(identityFromConfig([vmx(`uuid.bios = "${U}"\n`), { name: 'other.vmx', data: Buffer.from(`uuid.bios = "${U}"\n`) }])).toEqual({});
    expect(identityFromConfig([])).toEqual({});
  });

  it('Hyper-V: the VM id an exported .vmcx (or .xml) is named by, lower case', () => {
    expect(identityFromConfig([{ name: '0F8FAD5B-D9CB-469F-A165-70867728950E.vmgs' }, { name: '0F8FAD5B-D9CB-469F-A165-70867728950E.vmcx' }])).toEqual({
      id: 'hyperv:0f8fad5b-d9cb-469f-a165-70867728950e',
    });
    expect(identityFromConfig([{ name: 'Accounting.vmcx' }])).toEqual({});
  });
});

describe('the copied-VM rule', () => {
  const p = (snapshotId: string, time: number, location?: string): StoredIdentity => ({ snapshotId, guest: 'g', time, id: `vmware:${HEX}` as StoredIdentity['id'], ...(location ? { location } : {}) });
  it('one uuid under locations one after the other (a move) recovers it for every point', () => {
    expect([...recoverGuestIds([p('a', 1, 'l1'), p('b', 2, 'l1'), p('c', 3, 'l2'), p('d', 4, 'l2')]).keys()]).toEqual(['a', 'b', 'c', 'd']);
  });
  it('one uuid under locations whose times interleave (a copy that kept it) recovers nothing', () => {
    expect(recoverGuestIds([p('a', 1, 'l1'), p('b', 2, 'l2'), p('c', 3, 'l1')]).size).toBe(0);
    // a span inside an earlier, longer one interleaves too
    expect(recoverGuestIds([p('a', 1, 'l1'), p('b', 5, 'l1'), p('c', 2, 'l2'), p('d', 3, 'l3')]).size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { looksLikeDescriptor, normalizeCid, parseDescriptor, renderDescriptor } from './vmdk-descriptor.js';

const WORKSTATION = [
  '# Disk DescriptorFile',
  'version=1',
  'encoding="windows-1252"',
  'CID=D9C73E0A',
  'parentCID=29441754',
  'createType="twoGbMaxExtentSparse"',
  'parentFileNameHint="C:\\VMs\\Win10\\Win10.vmdk"',
  '',
  '# Extent description',
  'RW 8323072 SPARSE "Win10-000001-s001.vmdk"',
  'RDONLY 4192256 FLAT "Win10-f002.vmdk" 0',
  'NOACCESS 2048 ZERO',
  '',
  '#DDB',
  'ddb.longContentID = "29441754bee7ae3d9cc80a26d9c73e0a"',
].join('\r\n');

describe('vmdk descriptor parsing', () => {
  it('reads keys case-insensitively, CRLF lines, Windows hints and every access mode', () => {
    const d = parseDescriptor(WORKSTATION, 'x.vmdk');
    expect(d).toMatchObject({ cid: 'd9c73e0a', parentCid: '29441754', createType: 'twoGbMaxExtentSparse', parentFileNameHint: 'C:\\VMs\\Win10\\Win10.vmdk' });
    expect(d.extents).toEqual([
      { access: 'RW', sectors: 8323072, type: 'SPARSE', file: 'Win10-000001-s001.vmdk', offset: 0 },
      { access: 'RDONLY', sectors: 4192256, type: 'FLAT', file: 'Win10-f002.vmdk', offset: 0 },
      { access: 'NOACCESS', sectors: 2048, type: 'ZERO', file: undefined, offset: 0 },
    ]);
    expect(d.fields['ddb.longcontentid']).toBe('29441754bee7ae3d9cc80a26d9c73e0a');
  });

  it('stops at the NUL padding of an embedded descriptor', () => {
    const d = parseDescriptor('# Disk DescriptorFile\nCID=1\nRW 8 SPARSE "a.vmdk"\n\0\0garbage RW 9 FLAT "b" 0', 'x');
    expect(d.extents).toHaveLength(1);
  });

  it('round-trips what it renders and tells descriptors from other text', () => {
    const text = renderDescriptor({ cid: 'abcdef01', createType: 'monolithicSparse', sectors: 2048, extents: [{ sectors: 2048, type: 'SPARSE', file: 'd.vmdk' }] });
    expect(looksLikeDescriptor(text)).toBe(true);
    expect(looksLikeDescriptor('hello world\nnot a disk')).toBe(false);
    expect(parseDescriptor(text, 'd.vmdk')).toMatchObject({ cid: 'abcdef01', parentCid: 'ffffffff', extents: [{ sectors: 2048, type: 'SPARSE', file: 'd.vmdk' }] });
  });
});

describe('vmdk content ids', () => {
  it('compare equal whatever the zero padding (qemu writes b6aae7, vmware 00b6aae7)', () => {
    const parent = parseDescriptor('# Disk DescriptorFile\nversion=1\nCID=b6aae7\nparentCID=ffffffff\ncreateType="monolithicSparse"\n', 'p.vmdk');
    const child = parseDescriptor('# Disk DescriptorFile\nversion=1\nCID=1234abcd\nparentCID=00B6AAE7\ncreateType="monolithicSparse"\nparentFileNameHint="p.vmdk"\n', 'c.vmdk');
    expect(child.parentCid).toBe(parent.cid);
    expect(normalizeCid('fffffffe')).toBe('fffffffe');
    expect(normalizeCid(undefined)).toBe('ffffffff');
  });
});

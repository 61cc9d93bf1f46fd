import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../../../../shared/domain/files.js';
import { crumbs, fromBase64, imageType, looksLikeText, sortEntries } from './file-utils.js';

const f = (name: string, type: FileEntry['type'], size = 0, mtime?: string): FileEntry => ({ name, path: `d/p/${name}`, type, size, mtime });

describe('file browser helpers', () => {
  it('sorts folders first, names naturally, sizes and dates both ways', () => {
    const list = [f('file10.txt', 'file', 5), f('b', 'dir'), f('file9.txt', 'file', 50), f('A', 'dir')];
    expect(sortEntries(list, 'name', 'asc').map((e) => e.name)).toEqual(['A', 'b', 'file9.txt', 'file10.txt']);
    expect(sortEntries(list, 'size', 'desc').map((e) => e.name)).toEqual(['b', 'A', 'file9.txt', 'file10.txt']);
  });
  it('builds breadcrumbs and recognises previews', () => {
    expect(crumbs('disk0/p1/Users/bob')).toEqual([
      { label: 'disk0', path: 'disk0' },
      { label: 'p1', path: 'disk0/p1' },
      { label: 'Users', path: 'disk0/p1/Users' },
      { label: 'bob', path: 'disk0/p1/Users/bob' },
    ]);
    expect(imageType('a.PNG')).toBe('image/png');
    expect(imageType('a.txt')).toBeUndefined();
    expect(looksLikeText(fromBase64(btoa('hello\nworld')))).toBe(true);
    expect(looksLikeText(new Uint8Array([0x4d, 0x5a, 0, 1]))).toBe(false);
  });
});

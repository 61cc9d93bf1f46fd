import { describe, expect, it } from 'vitest';
import { globToRegExp, parseSnapshotPath } from './fs-path.js';

describe('snapshot paths and globs', () => {
  it('splits DISK/PART/inside and rejects relative components', () => {
    expect(parseSnapshotPath('disk0/p2/Users/a b/x.txt')).toEqual({ disk: 'disk0', part: 'p2', inside: ['Users', 'a b', 'x.txt'] });
    expect(parseSnapshotPath('/disk0//p0/')).toEqual({ disk: 'disk0', part: 'p0', inside: [] });
    expect(parseSnapshotPath('')).toEqual({ disk: undefined, part: undefined, inside: [] });
    expect(() => parseSnapshotPath('d/p1/../etc')).toThrow(/must not contain/);
  });

  it('compiles globs case-insensitively', () => {
    expect(globToRegExp('*.TXT').test('readme.txt')).toBe(true);
    expect(globToRegExp('*.txt').test('dir/readme.txt')).toBe(false);
    expect(globToRegExp('d/**/x?.log').test('d/a/b/x1.log')).toBe(true);
    expect(globToRegExp('d/**/x?.log').test('d/x1.log')).toBe(true);
    expect(globToRegExp('[ab]*').test('beta')).toBe(true);
    expect(globToRegExp('[!ab]*').test('beta')).toBe(false);
    expect(globToRegExp('a+b(c)').test('a+b(c)')).toBe(true);
  });
});

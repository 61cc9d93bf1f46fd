import { describe, it, expect } from 'vitest';
import { VmxFile, escapeValue, unescapeValue } from './vmx-file.js';

/** Names that must never execute anything and must come back exactly. */
export const HOSTILE_NAMES = [
  `a'; rm -rf / #$(touch /tmp/pwned)`,
  'back`tick` and $(whoami) and ${HOME}',
  'semi;colon && echo hi | cat > /tmp/x',
  'double "quoted" name',
  'pipe |22 literal and |7C',
  '\u2018curly\u2019 \u201Cquotes\u201D \u201Aand\u201B',
  '  spaces   around  ',
  'unicode ümlaut 名前 🚀',
  'x'.repeat(200),
];

const SAMPLE = [
  '#!/usr/bin/vmware',
  '.encoding = "UTF-8"',
  'config.version = "8"',
  'virtualHW.version = "19"',
  '# a comment that must survive',
  'displayName = "Accounting"',
  'annotation = "line one|0D|0Aline two"',
  'scsi0:0.fileName = "C:\\VMs\\Acc\\Acc.vmdk"',
  'SomeUnknown.Key = "keep me"',
  'ethernet0.present = "TRUE"',
  'ethernet0.startConnected = "TRUE"',
  '',
].join('\n');

describe('VmxFile', () => {
  it('reproduces an untouched file byte for byte', () => {
    expect(VmxFile.parse(Buffer.from(SAMPLE)).toBuffer().toString()).toBe(SAMPLE);
  });

  it('reads keys case-insensitively, decodes |XX escapes and keeps backslashes literal', () => {
    const v = VmxFile.parse(Buffer.from(SAMPLE));
    expect(v.get('DISPLAYNAME')).toBe('Accounting');
    expect(v.get('annotation')).toBe('line one\r\nline two');
    expect(v.get('scsi0:0.filename')).toBe('C:\\VMs\\Acc\\Acc.vmdk');
  });

  it('edits one key in place and leaves every other line, comment and order alone', () => {
    const v = VmxFile.parse(Buffer.from(SAMPLE));
    v.set('ethernet0.startConnected', 'FALSE').delete('annotation').set('uuid.action', 'create');
    const lines = v.toString().split('\n');
    expect(lines).toContain('ethernet0.startConnected = "FALSE"');
    expect(lines).toContain('# a comment that must survive');
    expect(lines).toContain('SomeUnknown.Key = "keep me"');
    expect(lines[0]).toBe('#!/usr/bin/vmware');
    expect(lines.indexOf('uuid.action = "create"')).toBe(lines.length - 2);
    expect(v.toString()).not.toMatch(/annotation/);
  });

  for (const name of HOSTILE_NAMES) {
    it(`round-trips the hostile display name ${JSON.stringify(name.slice(0, 40))}`, () => {
      const v = VmxFile.parse(Buffer.from(SAMPLE)).set('displayName', name);
      const text = v.toString();
      // one line per key: the value can never break out of its line or its quotes
      expect(text.split('\n').filter((l) => l.startsWith('displayName'))).toHaveLength(1);
      expect(/displayName = "([^"]*)"$/m.exec(text)?.[1]).toBe(escapeValue(name));
      expect(VmxFile.parse(v.toBuffer()).get('displayName')).toBe(name);
    });
  }

  it('escapes quotes, pipes and control characters and decodes them back', () => {
    const s = 'a"b|c\nd\te';
    expect(escapeValue(s)).toBe('a|22b|7Cc|0Ad|09e');
    expect(unescapeValue(escapeValue(s))).toBe(s);
  });

  it('decodes windows-1252 files and writes them back as UTF-8 when non-ASCII text was added', () => {
    const latin = Buffer.concat([Buffer.from('.encoding = "windows-1252"\ndisplayName = "Caf'), Buffer.from([0xe9]), Buffer.from('"\n')]);
    const v = VmxFile.parse(latin);
    expect(v.get('displayName')).toBe('Café');
    expect(v.toBuffer().equals(latin)).toBe(false);
    v.set('displayName', 'Café ✓');
    const out = v.toBuffer();
    expect(out.toString('utf8')).toMatch(/^\.encoding = "UTF-8"/);
    expect(VmxFile.parse(out).get('displayName')).toBe('Café ✓');
  });

  it('rejects binary input instead of mangling it', () => {
    expect(() => VmxFile.parse(Buffer.from([0x4b, 0x44, 0x4d, 0x56, 0, 0, 1]))).toThrow(/binary/);
  });
});

/**
 * Guest and file names printed to a terminal have their control characters escaped (ESC/CSI,
 * OSC, BEL, CR, newline, C1 controls, bidi overrides) in every human-readable CLI output, so a
 * hostile name can neither drive the terminal nor forge a line; `--json` keeps the exact names.
 * The file names come from a real ext4 image (mkfs.ext4 -d), the guest name from import-disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/index.js';
import { terminalSafe } from '../../electron/cli/terminal-text.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const tmp = makeTempDir('twinsnap-tty-');
const dataDir = join(tmp.path, 'data');
// sets the window title (OSC 0), clears the screen (CSI 2J), forges a line, hides text with RTL override, C1 CSI
const HOSTILE_GUEST = 'Mail\u001b]0;pwned\u0007\u001b[2J\r\nok: all backups verified\u202e\u009b31m';
const HOSTILE_FILE = 'invoice\u001b]8;;evil.example\u0007.pdf\nFORGED LINE\u202egpj.exe';
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
let snap = '';

async function cli(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(['--data-dir', dataDir, ...args], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdoutBytes: async () => {}, isTTY: true });
  return { code, out, err };
}

/** Lines of the output: none may come from a name (forged) and no raw control character may remain. */
function expectSafe(text: string): void {
  expect(text).not.toMatch(RAW);
  for (const line of text.split('\n')) expect(line.startsWith('ok: all backups') || line.startsWith('FORGED'), line).toBe(false);
}

beforeAll(async () => {
  const src = join(tmp.path, 'src');
  mkdirSync(join(src, 'docs'), { recursive: true });
  writeFileSync(join(src, 'docs', HOSTILE_FILE), 'not really an invoice\n');
  symlinkSync('target', join(src, 'docs', `link\u001b[31m\nFORGED`));
  const img = join(tmp.path, 'fs.img');
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', src, img, '8M'], { stdio: 'ignore' });
  const r = await cli('--json', 'import-disk', '--guest', HOSTILE_GUEST, img);
  expect(r.code, r.err).toBe(0);
  snap = JSON.parse(r.out).id;
}, 60_000);
afterAll(() => tmp.cleanup());

describe('control characters in names are escaped in human CLI output', { timeout: 60_000 }, () => {
  it('terminalSafe escapes ESC, OSC, BEL, CR, LF, C1 and bidi controls and nothing else', () => {
    expect(terminalSafe('a\u001b[2Jb')).toBe('a\\x1b[2Jb');
    expect(terminalSafe('x\r\ny\tz')).toBe('x\\r\\ny\\tz');
    expect(terminalSafe('\u009b\u0085\u007f')).toBe('\\x9b\\x85\\x7f');
    expect(terminalSafe('abc\u202edef\u2066\u200f')).toBe('abc\\u202edef\\u2066\\u200f');
    expect(terminalSafe('Ünïcödé ✓ 日本語 report (1).docx')).toBe('Ünïcödé ✓ 日本語 report (1).docx');
  });

  it('a hostile guest name in snapshots and in an error message', async () => {
    const list = await cli('snapshots');
    expect(list.code, list.err).toBe(0);
    expect(list.out).toContain('Mail\\x1b]0;pwned\\x07\\x1b[2J\\r\\nok: all backups verified\\u202e\\x9b31m');
    expectSafe(list.out);
    const json = await cli('--json', 'snapshots');
    expect(JSON.parse(json.out)[0].guest).toBe(HOSTILE_GUEST);
    const err = await cli('ls', snap, `nodisk\u001b[2J\nFORGED`);
    expect(err.code).toBe(1);
    expectSafe(err.err);
    expect(err.err).toContain('nodisk\\x1b[2J\\nFORGED');
  });

  it('hostile file names in ls, find and restore-files', async () => {
    const ls = await cli('ls', snap, 'fs/p0/docs');
    expect(ls.code, ls.err).toBe(0);
    expect(ls.out).toContain('invoice\\x1b]8;;evil.example\\x07.pdf\\nFORGED LINE\\u202egpj.exe');
    expectSafe(ls.out);
    const find = await cli('find', snap, 'invoice*');
    expect(find.out).toContain('\\x1b]8;;');
    expectSafe(find.out);
    const restored = await cli('restore-files', snap, 'fs/p0/docs', '--to', join(tmp.path, 'out'));
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toMatch(/skipped fs\/p0\/docs\/link\\x1b\[31m\\nFORGED: symbolic link/);
    expectSafe(restored.out);
  });
});

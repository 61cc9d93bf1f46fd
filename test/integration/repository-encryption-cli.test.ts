/**
 * `twinsnap` on an encrypted repository: init --encrypt with its recovery kit, the password from
 * --password-file / TWINSNAP_PASSWORD (a missing or wrong one is exit code 1 with a clear
 * message), `repository info` without a password, backup + verify + export, `key passwd`, the
 * recovery key as a password. The default scrypt cost (2^16) is used, as a user gets it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../helpers/cli-in-process.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let dir: string;
let data: string;
let repo: string;
let pwFile: string;
let img: string;
const cli = (...args: string[]) => runCliInProcess(data, ['--repo', repo, ...args]);
const secretFile = (name: string, text: string, mode = 0o600) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  chmodSync(f, mode);
  return f;
};
async function withEnv<T>(name: string, value: string, f: () => Promise<T>): Promise<T> {
  process.env[name] = value;
  try {
    return await f();
  } finally {
    delete process.env[name];
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-enc-cli-'));
  data = join(dir, 'data');
  repo = join(dir, 'repo');
  pwFile = secretFile('pw', 'first password\n');
  img = join(dir, 'disk.img');
  writeFileSync(img, Buffer.concat([randomBytes(1024 * 1024), Buffer.alloc(1024 * 1024)]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('twinsnap on an encrypted repository', () => {
  let recoveryKey: string;

  it('init --encrypt prints the recovery kit and writes it owner-only; a password file others can read is refused', async () => {
    const open = secretFile('pw-open', 'first password\n', 0o644);
    const bad = await runCliInProcess(data, ['--repo', join(dir, 'other'), '--password-file', open, 'init', '--encrypt']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('can be read by other users');
    const kit = join(dir, 'kit.txt');
    const r = await cli('--password-file', pwFile, 'init', '--encrypt', '--recovery-kit', kit);
    expect(r.code, r.err).toBe(0);
    recoveryKey = /Recovery key:\s+(\S+)/.exec(r.out)![1]!;
    expect(recoveryKey).toMatch(/^([A-Z2-9]{8}-){7}[A-Z2-9]{8}$/);
    expect(readFileSync(kit, 'utf8')).toContain(recoveryKey);
    expect(readFileSync(kit, 'utf8')).toContain('NOT the backup disk');
  });

  it('repository info says encrypted and with what, without a password', async () => {
    const r = await cli('repository', 'info');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('format 2: encrypted (AES-256-GCM, scrypt N=2^16 r=8 p=1; chunk names HMAC-SHA256)');
    expect(r.out).toMatch(/key [0-9a-f]{16}\s+password/);
    expect(r.out).toMatch(/key [0-9a-f]{16}\s+recovery/);
  });

  it('backs up, verifies and exports with the password; none or a wrong one is exit code 1, never a crash', async () => {
    const b = await cli('--password-file', pwFile, 'import-disk', '--guest', 'g', img);
    expect(b.code, b.err).toBe(0);
    const none = await cli('snapshots');
    expect(none).toMatchObject({ code: 1, err: expect.stringContaining('[REPO_PASSWORD_REQUIRED]') });
    expect(none.err).toContain('is encrypted');
    const wrong = await withEnv('TWINSNAP_PASSWORD', 'not it', () => cli('snapshots'));
    expect(wrong).toMatchObject({ code: 1, err: expect.stringContaining('wrong password') });
    const list = await withEnv('TWINSNAP_PASSWORD', 'first password', () => cli('--json', 'snapshots'));
    const [s] = JSON.parse(list.out) as { id: string }[];
    const v = await cli('--password-file', pwFile, '--json', 'verify', '--full');
    expect(JSON.parse(v.out)).toMatchObject({ ok: true });
    const rebuilt = await cli('--password-file', pwFile, '--json', 'catalog', 'rebuild');
    expect(rebuilt.code, rebuilt.err).toBe(0);
    expect(JSON.parse(rebuilt.out)).toEqual({ snapshots: 1 });
    const out = join(dir, 'out.img');
    expect((await cli('--password-file', pwFile, 'export-disk', s!.id, 'disk', '--to', out)).code).toBe(0);
    expect(sha(readFileSync(out))).toBe(sha(readFileSync(img)));
  });

  it('key passwd changes the password; the recovery key still opens it', async () => {
    const next = secretFile('pw2', 'second password\n');
    const r = await cli('--password-file', pwFile, 'key', 'passwd', '--new-password-file', next, '--scrypt-log2n', '14');
    expect(r.code, r.err).toBe(0);
    expect((await cli('--password-file', pwFile, 'snapshots')).err).toContain('[REPO_PASSWORD_WRONG]');
    expect((await cli('--password-file', next, 'snapshots')).code).toBe(0);
    const byRecovery = await withEnv('TWINSNAP_PASSWORD', recoveryKey.toLowerCase(), () => cli('--json', 'key', 'list'));
    expect(byRecovery.code, byRecovery.err).toBe(0);
    const keys = JSON.parse(byRecovery.out) as { kind: string; kdf: { N: number } }[];
    expect(keys.map((k) => [k.kind, k.kdf.N])).toEqual([
      ['password', 2 ** 14], // the new password at the cost asked for
      ['recovery', 2 ** 16],
    ]);
  });

  it('key remember keeps the password in the secrets file (for the service); key forget removes it', async () => {
    const next = join(dir, 'pw2');
    expect((await cli('--password-file', next, 'key', 'remember')).code).toBe(0);
    expect(readFileSync(join(data, 'secrets.json'), 'utf8')).toContain(repo);
    const r = await cli('snapshots'); // no password given: the kept one opens it
    expect(r.code, r.err).toBe(0);
    expect((await cli('key', 'forget')).code).toBe(0);
    expect((await cli('snapshots')).err).toContain('[REPO_PASSWORD_REQUIRED]');
    expect((await cli('--password-file', pwFile, 'key', 'remember')).err).toContain('[REPO_PASSWORD_WRONG]');
  });

  it('a plain repository says so', async () => {
    const plain = join(dir, 'plain');
    expect((await runCliInProcess(data, ['--repo', plain, 'init'])).code).toBe(0);
    expect((await runCliInProcess(data, ['--repo', plain, 'repository', 'info'])).out).toContain('format 1: plain (not encrypted)');
  });
});

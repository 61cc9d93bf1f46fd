/**
 * Secrets and backups are not world-readable (POSIX modes checked with stat): the data folder
 * 0700, config.json 0600 without the SMTP password, secrets.json 0600, the repository's folders
 * 0700 and its files 0600 — for a fresh install and for one made by an older version with the
 * default umask (modes fixed, the password moved out of config.json on start). The password is
 * never returned over the API, in-process or over `serve`'s WebSocket.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { main } from '../../electron/cli/index.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine } from '../../electron/engine/engine.js';
import { startServer } from '../../electron/server/serve.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const tmp = makeTempDir('twinsnap-perms-');
afterAll(() => tmp.cleanup());
const mode = (p: string) => statSync(p).mode & 0o777;
const PASSWORD = 'hunter2-very-secret';
const silent = { stdout: () => {}, stderr: () => {}, stdoutBytes: async () => {}, isTTY: false };

/** Every path below `dir` with its mode. */
function modes(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push({ path: p, dir: e.isDirectory(), mode: mode(p) });
    if (e.isDirectory()) out.push(...modes(p));
  }
  return out;
}

describe.skipIf(process.platform === 'win32')('owner-only files and folders, secrets out of config.json', { timeout: 60_000 }, () => {
  it('a fresh install: data folder 0700, config.json 0600, every repository folder 0700 and file 0600 after a backup', async () => {
    const dataDir = join(tmp.path, 'fresh');
    const img = join(tmp.path, 'disk.img');
    writeFileSync(img, Buffer.alloc(3 * 1024 * 1024, 0x11));
    const vmx = join(tmp.path, 'vm.vmx');
    writeFileSync(vmx, 'displayName = "vm"\n');
    expect(await main(['--data-dir', dataDir, 'import-disk', '--guest', 'vm', img, '--config', vmx], silent)).toBe(0);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'config.json'))).toBe(0o600);
    const repo = modes(join(dataDir, 'repository'));
    expect(repo.filter((e) => !e.dir).length).toBeGreaterThan(3);
    const wrong = repo.filter((e) => (e.dir ? e.mode !== 0o700 : e.mode !== 0o600)).map((e) => `${e.path} ${e.mode.toString(8)}`);
    // lock files belong to the locks/ code; the folder closes them
    expect(wrong.filter((w) => !w.includes('/locks/'))).toEqual([]);
    expect(mode(join(dataDir, 'repository'))).toBe(0o700);
  });

  it('an older install (umask 022, password in config.json): modes fixed and the password moved to secrets.json on start, never returned over the API', async () => {
    const dataDir = join(tmp.path, 'old');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const repoDir = join(tmp.path, 'old-repo');
    const email = { host: 'smtp.example', port: 587, secure: false, from: 'backup@example.com', to: 'admin@example.com', user: 'backup', password: PASSWORD };
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ version: 1, repository: repoDir, notifications: { onSuccess: false, email } }), { mode: 0o644 });
    chmodSync(join(dataDir, 'config.json'), 0o644);
    // a repository made by the old version, world-readable
    expect(await main(['--data-dir', join(tmp.path, 'scratch'), '--repo', repoDir, 'init'], silent)).toBe(0);
    chmodSync(repoDir, 0o755);

    const engine = await createEngine({ dataDir, logger: nullLogger, hypervisors: [] });
    try {
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(join(dataDir, 'config.json'))).toBe(0o600);
      expect(readFileSync(join(dataDir, 'config.json'), 'utf8')).not.toContain(PASSWORD);
      expect(mode(join(dataDir, 'secrets.json'))).toBe(0o600);
      expect(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).toContain(PASSWORD);
      await engine.service.call('repository.stats', {});
      expect(mode(repoDir)).toBe(0o700);

      const got = await engine.service.call('settings.get', {});
      expect(JSON.stringify(got)).not.toContain(PASSWORD);
      expect(got.notifications.email).toMatchObject({ host: 'smtp.example', user: 'backup', passwordSet: true });
      expect(got.notifications.email).not.toHaveProperty('password');

      // a new password goes to the secret store; saving without one keeps it; the response never has it
      const set = await engine.service.call('settings.set', { patch: { notifications: { onSuccess: true, email: { ...email, password: 'n3w-secret' } } } });
      expect(JSON.stringify(set)).not.toMatch(/n3w-secret|hunter2/);
      expect(readFileSync(join(dataDir, 'config.json'), 'utf8')).not.toMatch(/n3w-secret|hunter2|password/);
      expect(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).toContain('n3w-secret');
      const { password: _p, ...noPassword } = email;
      const kept = await engine.service.call('settings.set', { patch: { notifications: { onSuccess: true, email: noPassword } } });
      expect(kept.notifications.email?.passwordSet).toBe(true);
      expect(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).toContain('n3w-secret');

      // and over serve's WebSocket
      const rendererDir = join(tmp.path, 'renderer');
      mkdirSync(rendererDir, { recursive: true });
      writeFileSync(join(rendererDir, 'index.html'), '<!doctype html>');
      const server = await startServer({ engine, rendererDir });
      try {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
        const reply = await new Promise<string>((resolve, reject) => {
          ws.on('open', () => ws.send(JSON.stringify({ type: 'call', seq: 1, method: 'settings.get', req: {} })));
          ws.on('message', (d) => resolve(d.toString()));
          ws.on('error', reject);
        });
        ws.close();
        expect(reply).toContain('"passwordSet":true');
        expect(reply).not.toMatch(/n3w-secret|hunter2/);
      } finally {
        await server.close();
      }
    } finally {
      await engine.close();
    }
  });
});

/**
 * `keys/<id>.json` of an encrypted repository: reading, adding, removing key files and unlocking
 * (trying the password against each key file). See repo-keys.ts for what a key file holds.
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../../shared/errors/app-error.js';
import { fsyncDir, writeFileAtomic } from '../fs-util.js';
import type { RepoConfig, RepoLayout } from '../layout.js';
import { RepoKeys, normalizeRecoveryKey, unwrapMasterKey, wrapMasterKey, type KdfCost, type KeyFile } from './repo-keys.js';

const KEY_NAME = /^[0-9a-f]{16}\.json$/;

/** Every readable key file (recovery keys last); unreadable ones are skipped. */
export async function readKeyFiles(layout: RepoLayout): Promise<KeyFile[]> {
  const names = (await readdir(layout.keyDir).catch(() => [] as string[])).filter((n) => KEY_NAME.test(n)).sort();
  const out: KeyFile[] = [];
  for (const n of names) {
    try {
      const k = JSON.parse(await readFile(join(layout.keyDir, n), 'utf8')) as KeyFile;
      if (k.format === 1 && `${k.id}.json` === n && k.kdf?.name === 'scrypt' && typeof k.wrapped?.data === 'string') out.push(k);
    } catch {
      // a damaged key file opens nothing; the others still may
    }
  }
  return out.sort((a, b) => (a.kind === b.kind ? a.createdAt.localeCompare(b.createdAt) : a.kind === 'password' ? -1 : 1));
}

/** Wraps `master` under `secret` and writes it as a new key file. */
export async function addKeyFile(layout: RepoLayout, repoId: string, master: Buffer, secret: string, o: { kind: KeyFile['kind']; label: string; createdAt: string; cost?: KdfCost }): Promise<KeyFile> {
  const k = await wrapMasterKey(repoId, master, secret, o);
  await writeFileAtomic(join(layout.keyDir, `${k.id}.json`), `${JSON.stringify(k, null, 2)}\n`, 'writing a repository key');
  return k;
}

/** Removes a key file; the last one is refused (it would lock every backup away for good). */
export async function removeKeyFile(layout: RepoLayout, id: string): Promise<void> {
  const all = await readKeyFiles(layout);
  if (!all.some((k) => k.id === id)) throw new AppError('NOT_FOUND', `the repository has no key '${id}' (keys: ${all.map((k) => k.id).join(', ')})`);
  if (all.length === 1) throw new AppError('INVALID_REQUEST', `key '${id}' is the repository's only key: add another before removing it`);
  await unlink(join(layout.keyDir, `${id}.json`));
  fsyncDir(layout.keyDir);
}

/**
 * Opens an encrypted repository's keys with a password or recovery key. REPO_PASSWORD_REQUIRED
 * when none is given, REPO_PASSWORD_WRONG when no key file opens with it, REPO_CORRUPT when the
 * repository has no readable key file at all.
 */
export async function unlockRepository(layout: RepoLayout, cfg: RepoConfig, password: string | (() => Promise<string | undefined>) | undefined): Promise<RepoKeys> {
  const secret = typeof password === 'function' ? await password() : password;
  if (!secret) {
    throw new AppError(
      'REPO_PASSWORD_REQUIRED',
      `repository '${layout.root}' is encrypted: give its password (prompt, TWINSNAP_PASSWORD or --password-file FILE; in the app: unlock it on the Repository page)`,
      {
        details: { path: layout.root },
      },
    );
  }
  const keys = await readKeyFiles(layout);
  if (!keys.length) throw new AppError('REPO_CORRUPT', `encrypted repository '${layout.root}' has no readable key file in 'keys/': it cannot be unlocked`);
  for (const k of keys) {
    const master = await unwrapMasterKey(cfg.id, k, k.kind === 'recovery' ? normalizeRecoveryKey(secret) : secret);
    if (master) return new RepoKeys(cfg.id, master, k.id);
  }
  throw new AppError('REPO_PASSWORD_WRONG', `wrong password for repository '${layout.root}': neither a password nor a recovery key of it matches`, { details: { path: layout.root } });
}

/**
 * Test repositories of both kinds: suites that build their own repository run over
 * `REPO_KINDS` (`describe.each`) so everything they check holds for plain (format 1) and
 * encrypted (format 2) repositories alike. Suites that drive the CLI give it the password with
 * `passwordArgs` (in-process runs) or `passwordEnv` (spawned processes).
 */
import { createHash, createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initRepository, openRepository, type InitOptions, type Repository, type RepositoryOptions } from '../../electron/engine/repository/repository.js';
import type { VirtualDisk } from '../../electron/engine/disk/virtual-disk.js';
import { RawFileDisk } from './raw-file-disk.js';

/** The two kinds of repository. */
export type RepoKind = 'plain' | 'encrypted';
export const REPO_KINDS: RepoKind[] = ['plain', 'encrypted'];

/** The password of every encrypted test repository. */
export const TEST_PASSWORD = 'correct horse battery staple';
/** scrypt at 2^12 (4 MiB, ~10 ms) instead of the default 2^16: parameters are stored per key, so any cost opens the same way. */
export const TEST_KDF = { N: 2 ** 12, r: 8, p: 1 };

/** Creates a repository of `kind` (the encrypted one with TEST_PASSWORD and TEST_KDF). */
export function initTestRepository(path: string, kind: RepoKind, opts: InitOptions = {}): Promise<Repository> {
  return initRepository(path, kind === 'encrypted' ? { ...opts, encryption: { password: TEST_PASSWORD, kdf: TEST_KDF } } : opts);
}

/** Opens a test repository of either kind (the password is only asked for by an encrypted one). */
export function openTestRepository(path: string, opts: RepositoryOptions = {}): Promise<Repository> {
  return openRepository(path, { password: TEST_PASSWORD, ...opts });
}

/**
 * CLI arguments that give an encrypted test repository its password: `--password-file` of an
 * owner-only file written into `dir` (the CLI refuses one others can read); none for a plain one.
 */
export function passwordArgs(kind: RepoKind, dir: string): string[] {
  if (kind === 'plain') return [];
  const file = join(dir, 'test-password');
  writeFileSync(file, `${TEST_PASSWORD}\n`, { mode: 0o600 });
  return ['--password-file', file];
}

/** Environment of a spawned CLI on a test repository of `kind` (`TWINSNAP_PASSWORD` when encrypted). */
export function passwordEnv(kind: RepoKind): NodeJS.ProcessEnv {
  return kind === 'encrypted' ? { TWINSNAP_PASSWORD: TEST_PASSWORD } : {};
}

/**
 * An independent oracle of chunk names in `repo`: SHA-256 of the plain data, or HMAC-SHA256
 * under the chunk-name key of an encrypted repository — computed here with node:crypto, not
 * through the repository's code.
 */
export function chunkNameOracle(repo: Repository): (data: Buffer) => string {
  const key = repo.layout.keys?.chunkIdKey;
  return key ? (b) => createHmac('sha256', key).update(b).digest('hex') : (b) => createHash('sha256').update(b).digest('hex');
}

/**
 * Backs raw image files up into a new repository of `kind` at `path` (one snapshot, one disk
 * per image) and opens them again as the snapshot's disks: the suites of the file system
 * readers read through the repository (chunk index, decryption, chunk cache) this way. Caller
 * must `close()`.
 */
export async function snapshotDisksOf(
  kind: RepoKind,
  path: string,
  images: { name: string; path: string }[],
): Promise<{ repo: Repository; disks: Map<string, VirtualDisk>; close: () => Promise<void> }> {
  const repo = await initTestRepository(path, kind, { workers: 2 });
  const sources = await Promise.all(images.map(async (i) => ({ name: i.name, disk: await RawFileDisk.open(i.path), sourceFormat: 'raw' as const })));
  let id: string;
  try {
    id = (await repo.createSnapshot({ guest: 'fs-oracle', consistency: 'cold', disks: sources })).id;
  } finally {
    for (const s of sources) await s.disk.close();
  }
  const disks = new Map<string, VirtualDisk>();
  for (const i of images) disks.set(i.name, await repo.openSnapshotDisk(id, i.name));
  return {
    repo,
    disks,
    close: async () => {
      for (const d of disks.values()) await d.close();
      await repo.close();
    },
  };
}

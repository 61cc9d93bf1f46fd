/**
 * Test repositories of both kinds: suites that build their own repository run over
 * `REPO_KINDS` (`describe.each`) so everything they check holds for plain (format 1) and
 * encrypted (format 2) repositories alike.
 */
import { initRepository, openRepository, type InitOptions, type Repository, type RepositoryOptions } from '../../electron/engine/repository/repository.js';

/** The two kinds of repository. */
export type RepoKind = 'plain' | 'encrypted';
export const REPO_KINDS: RepoKind[] = ['plain', 'encrypted'];

/** The password of every encrypted test repository. */
export const TEST_PASSWORD = 'correct horse battery staple';
/** scrypt at 2^12 (4 MiB, ~10 ms) instead of the default 2^17: parameters are stored per key, so any cost opens the same way. */
export const TEST_KDF = { N: 2 ** 12, r: 8, p: 1 };

/** Creates a repository of `kind` (the encrypted one with TEST_PASSWORD and TEST_KDF). */
export function initTestRepository(path: string, kind: RepoKind, opts: InitOptions = {}): Promise<Repository> {
  return initRepository(path, kind === 'encrypted' ? { ...opts, encryption: { password: TEST_PASSWORD, kdf: TEST_KDF } } : opts);
}

/** Opens a test repository of either kind (the password is only asked for by an encrypted one). */
export function openTestRepository(path: string, opts: RepositoryOptions = {}): Promise<Repository> {
  return openRepository(path, { password: TEST_PASSWORD, ...opts });
}

import { join } from 'node:path';
import { chunkFile } from './chunks/chunk-codec.js';
import type { EncryptionParams, RepoKeys } from './crypto/repo-keys.js';

/** Name of the repository's configuration file (its presence marks a repository). */
export const REPO_CONFIG_FILE = 'twinsnap-repo.json';
/** On-disk format version of plain repositories. */
export const REPO_FORMAT = 1;
/** On-disk format version of encrypted repositories (README "Encrypted repositories"). */
export const REPO_FORMAT_ENCRYPTED = 2;
/** Default chunk size: 1 MiB (see README "Chunk size"). */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/** Default zstd level (see README "Compression"). */
export const DEFAULT_ZSTD_LEVEL = 1;

/** The repository's configuration file content. */
export interface RepoConfig {
  format: number;
  id: string;
  chunkSize: number;
  compression: { codec: 'zstd'; level: number };
  createdAt: string;
  /** Format 2 only: the encryption's non-secret parameters (the keys are in `keys/`). */
  encryption?: EncryptionParams;
}

/** Paths inside a repository folder. */
export class RepoLayout {
  /**
   * @param keys the unlocked keys of an encrypted repository: every object read or written
   *   through `crypto/sealed-files.ts` is sealed with them (none: a plain repository).
   */
  constructor(
    readonly root: string,
    readonly keys?: RepoKeys,
  ) {}
  get config(): string {
    return join(this.root, REPO_CONFIG_FILE);
  }
  get chunks(): string {
    return join(this.root, 'chunks');
  }
  get snapshots(): string {
    return join(this.root, 'snapshots');
  }
  get tmp(): string {
    return join(this.root, 'tmp');
  }
  get trash(): string {
    return join(this.root, 'trash');
  }
  get locks(): string {
    return join(this.root, 'locks');
  }
  get keyDir(): string {
    return join(this.root, 'keys');
  }
  /** `chunks/xx/yy/<digest>`. */
  chunk(digest: string): string {
    return chunkFile(join(this.root, 'chunks'), digest);
  }
  snapshot(id: string): string {
    return join(this.root, 'snapshots', id);
  }
  manifest(id: string): string {
    return join(this.root, 'snapshots', id, 'manifest.json');
  }
}

/** True for a well-formed lowercase hex SHA-256 digest. */
export function isDigest(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

/** True for a well-formed snapshot id (what `timeId` makes). */
export function isSnapshotId(s: string): boolean {
  return /^\d{8}T\d{6}Z-[0-9a-f]{6,16}$/.test(s);
}

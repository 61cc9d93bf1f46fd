import { join } from 'node:path';
import { chunkFile } from './chunks/chunk-codec.js';

/** Name of the repository's configuration file (its presence marks a repository). */
export const REPO_CONFIG_FILE = 'twinsnap-repo.json';
/** On-disk format version written by this build. */
export const REPO_FORMAT = 1;
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
}

/** Paths inside a repository folder. */
export class RepoLayout {
  constructor(readonly root: string) {}
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

/**
 * Reading and writing the repository's objects through its keys: in an encrypted repository
 * (format 2) every manifest, index, fingerprint file and configuration file is sealed
 * (`RepoKeys.seal`, bound to its kind and `<snapshot id>/<file>`); in a plain one they pass as
 * they are. Callers keep checking the plain bytes exactly as before (hashes, trailers).
 */
import { readFile } from 'node:fs/promises';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { RepoLayout } from '../layout.js';
import type { ObjectKind } from './repo-keys.js';

/** The name a snapshot file is sealed under: `<snapshot id>/<path inside the snapshot>`. */
export function snapshotObjectName(snapshotId: string, rel: string): string {
  return `${snapshotId}/${rel}`;
}

/** The bytes to store for an object (sealed in an encrypted repository). */
export function sealObject(layout: RepoLayout, kind: ObjectKind, name: string, data: Uint8Array | string): Uint8Array | string {
  return layout.keys ? layout.keys.seal(kind, name, data) : data;
}

/**
 * The plain bytes of a stored object. A sealed object that does not open (a flipped byte, or an
 * object moved from another name) is CHUNK_CORRUPT for chunks and MANIFEST_CORRUPT otherwise,
 * naming it.
 */
export function openObject(layout: RepoLayout, kind: ObjectKind, name: string, stored: Buffer): Buffer {
  if (!layout.keys) return stored;
  const plain = layout.keys.open(kind, name, stored);
  if (plain) return plain;
  throw new AppError(kind === 'chunk' ? 'CHUNK_CORRUPT' : 'MANIFEST_CORRUPT', `${kind} ${name} is damaged or not what its name says: it fails authentication (AES-256-GCM)`, {
    details: { kind, name },
  });
}

/** Reads `file` and opens it (file-system errors such as ENOENT pass through unchanged). */
export async function readObject(layout: RepoLayout, kind: ObjectKind, name: string, file: string): Promise<Buffer> {
  return openObject(layout, kind, name, await readFile(file));
}

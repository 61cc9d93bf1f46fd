import { readFile } from 'node:fs/promises';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { RepoLayout } from '../layout.js';
import { decodeChunk } from './chunk-codec.js';

/**
 * Reads and verifies one chunk (decompresses, re-hashes). A missing file is CHUNK_MISSING,
 * a bad one CHUNK_CORRUPT; both name the chunk and, when given, the snapshot.
 */
export async function readChunk(layout: RepoLayout, digest: string, snapshotId?: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(layout.chunk(digest));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AppError('CHUNK_MISSING', `chunk ${digest}${snapshotId ? ` of snapshot '${snapshotId}'` : ''} is missing from the repository`, {
        details: { digest, snapshotId },
      });
    }
    throw e;
  }
  try {
    return decodeChunk(raw, digest, layout.keys);
  } catch (e) {
    if (snapshotId && e instanceof AppError) {
      throw new AppError(e.code, `${e.message} (snapshot '${snapshotId}')`, { cause: e, details: { digest, snapshotId } });
    }
    throw e;
  }
}

import type { EngineClient } from '../../../../shared/ipc/contract.js';
import { fromBase64 } from './file-utils.js';

const CHUNK = 4 * 1024 * 1024;

/** Reads a whole file of a snapshot through files.read, in chunks. */
export async function readWholeFile(engine: EngineClient, snapshotId: string, path: string, onProgress?: (bytes: number) => void): Promise<Uint8Array<ArrayBuffer>[]> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let offset = 0;
  for (;;) {
    const r = await engine['files.read']({ snapshotId, path, offset, length: CHUNK });
    const bytes = fromBase64(r.base64);
    parts.push(bytes);
    offset += bytes.length;
    onProgress?.(offset);
    if (r.eof || bytes.length === 0) return parts;
  }
}

/** Saves bytes as a download in the browser (an <a download> on a blob URL). */
export function saveAs(name: string, parts: Uint8Array<ArrayBuffer>[]): void {
  const url = URL.createObjectURL(new Blob(parts));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

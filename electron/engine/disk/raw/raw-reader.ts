import type { FileSource } from '../core/file-source.js';
import { MappedDisk } from '../core/mapped-disk.js';
import type { Layer, Run } from '../core/run.js';

/** A flat byte range of a file: `[base, base+size)` holds the disk bytes in order. */
export class FlatLayer implements Layer {
  constructor(
    private readonly source: FileSource,
    private readonly base: number,
  ) {}

  async map(offset: number, length: number): Promise<Run[]> {
    // Bytes past the end of a short flat file read as zeros, like qemu does for raw files.
    const start = this.base + offset;
    const inFile = Math.max(0, Math.min(length, this.source.size - start));
    const runs: Run[] = [];
    if (inFile > 0) runs.push({ kind: 'data', length: inFile, source: this.source, sourceOffset: start });
    if (inFile < length) runs.push({ kind: 'zero', length: length - inFile });
    return runs;
  }
}

/** Opens a raw image: the file is the disk. Takes ownership of `source`. */
export function openRaw(source: FileSource): MappedDisk {
  return new MappedDisk({
    size: source.size,
    format: 'raw',
    link: { path: source.path, format: 'raw' },
    layer: new FlatLayer(source, 0),
    files: [source],
  });
}

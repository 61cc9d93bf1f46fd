import type { FileSource } from './file-source.js';

/**
 * How one layer (one image file, or one set of extents) stores a byte range. A format reader
 * maps a range to runs; the generic `MappedDisk` turns runs into reads and extents.
 */
export type Run =
  /** Stored uncompressed in `source` at `sourceOffset`. */
  | { kind: 'data'; length: number; source: FileSource; sourceOffset: number }
  /** Known to read as zeros in this layer (never falls through to a parent). */
  | { kind: 'zero'; length: number }
  /** Not stored in this layer: read from the parent, or zeros without one. */
  | { kind: 'absent'; length: number }
  /** Bytes `[at, at+length)` of a buffer produced on demand (a decompressed grain or cluster). */
  | { kind: 'bytes'; length: number; at: number; load: () => Promise<Buffer> };

/** Collects runs in order and merges neighbours that continue each other. */
export class RunList {
  readonly runs: Run[] = [];

  /** Appends a run, merging it into the previous one when they are contiguous. */
  push(run: Run): void {
    if (run.length <= 0) return;
    const last = this.runs[this.runs.length - 1];
    if (last && last.kind === run.kind) {
      if (run.kind === 'zero' || run.kind === 'absent') {
        last.length += run.length;
        return;
      }
      if (run.kind === 'data' && last.kind === 'data' && last.source === run.source && last.sourceOffset + last.length === run.sourceOffset) {
        last.length += run.length;
        return;
      }
    }
    this.runs.push({ ...run });
  }

  /** Appends `length` bytes of `source` at `sourceOffset`; extends the last run without allocating when contiguous (per-cluster hot path). */
  pushData(source: FileSource, sourceOffset: number, length: number): void {
    if (length <= 0) return;
    const last = this.runs[this.runs.length - 1];
    if (last && last.kind === 'data' && last.source === source && last.sourceOffset + last.length === sourceOffset) last.length += length;
    else this.runs.push({ kind: 'data', length, source, sourceOffset });
  }

  /** Appends a zero or absent run; extends the last run without allocating when it is of the same kind. */
  pushEmpty(kind: 'zero' | 'absent', length: number): void {
    if (length <= 0) return;
    const last = this.runs[this.runs.length - 1];
    if (last && last.kind === kind) last.length += length;
    else this.runs.push({ kind, length });
  }
}

/** A layer of a disk: maps any byte range inside `[0, size)` to runs covering it exactly. */
export interface Layer {
  map(offset: number, length: number): Promise<Run[]>;
}

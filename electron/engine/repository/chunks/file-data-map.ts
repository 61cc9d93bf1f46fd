import { runProcess } from '../../exec/run-process.js';

/** A byte range of a file that the file system has storage for. */
export interface DataRange {
  offset: number;
  length: number;
}

/**
 * Parses `filefrag -e` output into the file's data ranges (bytes), or undefined when the output
 * is not exactly what we expect: an unreadable map must never turn data into "holes". Every
 * listed extent counts as data (written, unwritten, delayed allocation, inline alike); only
 * ranges the file system lists no extent for are holes.
 */
export function parseFilefrag(out: string, expectSize: number): DataRange[] | undefined {
  const head = /File size of .* is (\d+) \((\d+) blocks? of (\d+) bytes\)/.exec(out);
  if (!head || Number(head[1]) !== expectSize) return undefined;
  const unit = Number(head[3]);
  if (!(unit > 0)) return undefined;
  const ranges: DataRange[] = [];
  let next = 0;
  let sawLast = false;
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+):\s+(\d+)\.\.\s*(\d+):\s+\d+\.\.\s*\d+:\s+(\d+):(.*)$/.exec(line);
    if (!m) continue;
    if (Number(m[1]) !== next++) return undefined; // extents must be listed in full, in order
    const first = Number(m[2]);
    const last = Number(m[3]);
    if (last < first || Number(m[4]) !== last - first + 1) return undefined;
    const prev = ranges[ranges.length - 1];
    const offset = first * unit;
    const end = (last + 1) * unit;
    if (prev && offset < prev.offset + prev.length) return undefined;
    if (prev && prev.offset + prev.length === offset) prev.length = end - prev.offset;
    else ranges.push({ offset, length: end - offset });
    if (/\blast\b/.test(m[5]!)) sawLast = true;
  }
  if (!/: \d+ extents? found/.test(out)) return undefined;
  if (next > 0 && !sawLast) return undefined;
  return ranges;
}

/**
 * Which ranges of a regular file hold data, asked from the file system (FIEMAP through
 * e2fsprogs' `filefrag -s -e`, which first syncs the file so delayed writes are allocated).
 * Undefined when it cannot tell (not Linux, tool missing, file system without FIEMAP such as
 * tmpfs, a block device, unexpected output): then the caller reads everything.
 *
 * Why here and not in the disk layer's raw reader: Node has no lseek(SEEK_DATA); reading a hole
 * costs the kernel a copy of zeros (~0.8 CPU-s per GiB on the 2-core machine), and sparse raw
 * images are mostly holes. Backups ask for the map once per raw disk (~10 ms).
 */
export async function fileDataMap(path: string, size: number): Promise<DataRange[] | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    const r = await runProcess('filefrag', ['-s', '-e', path], { timeoutMs: 60_000, maxOutputBytes: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
    if (r.exitCode !== 0) return undefined;
    return parseFilefrag(r.stdout, size);
  } catch {
    return undefined;
  }
}

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What a poll of the watched files saw. */
export interface HostFilesSeen {
  /** Total bytes of the files found. */
  bytes: number;
  /** Number of files found. */
  files: number;
}

/**
 * The progress of a long Hyper-V operation as the host's files show it. A checkpoint export
 * writes its copies into the twin folder (they grow as it goes) and a checkpoint merge rewrites
 * the parents and then deletes the differencing files — the cmdlets themselves answer only at the
 * end (Remove-VMSnapshot even before the merge ends, reference hyper-v.md §1.4). So while such a
 * call runs, the files under `paths` (files, or folders walked to `depth`) are polled every
 * `intervalMs`; each poll whose sizes, modification times or file set differ from the previous
 * one calls `onChange`. An operation that writes nothing for a while reports nothing, so the
 * workflow's watchdog can tell a slow export from a hung one. The engine runs on the Hyper-V host
 * itself (local PowerShell), so the paths the scripts report are readable here. Returns `stop`.
 */
export function watchHostFiles(paths: () => string[], onChange: (seen: HostFilesSeen) => void, opts: { intervalMs: number; depth?: number }): () => void {
  let last: string | undefined;
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const acc = { bytes: 0, files: 0, sig: [] as string[] };
      for (const p of paths()) await walk(p, opts.depth ?? 6, acc);
      const sig = acc.sig.join('|');
      if (last !== undefined && sig !== last && !stopped) onChange({ bytes: acc.bytes, files: acc.files });
      last = sig;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick().catch(() => {}), opts.intervalMs);
  timer.unref();
  void tick().catch(() => {});
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

async function walk(path: string, depth: number, acc: { bytes: number; files: number; sig: string[] }): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return;
  if (s.isFile()) {
    acc.bytes += s.size;
    acc.files += 1;
    acc.sig.push(`${path}:${s.size}:${s.mtimeMs}`);
    return;
  }
  if (!s.isDirectory() || depth <= 0) return;
  const names = await readdir(path).catch(() => [] as string[]);
  for (const n of names.sort()) await walk(join(path, n), depth - 1, acc);
}

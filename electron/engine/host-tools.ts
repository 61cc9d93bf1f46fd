/**
 * Work on this host that needs no engine (no data folder, no catalog): disk image files and the
 * boot service registration. The faces reach it through engine.ts, the engine's one entry.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError } from '../../shared/errors/app-error.js';
import { openDisk } from './disk/open-disk.js';
import { writeDisk, type WriteFormat } from './disk/write-disk.js';
import { runProcess } from './exec/run-process.js';

export { diskInfo, type DiskInfo } from './disk/disk-info.js';
export { WRITE_FORMATS, type WriteFormat } from './disk/write-disk.js';
export { BOOT_SERVICE_NAME, BOOT_SERVICE_TASK, bootServiceQueryCommands } from './scheduler/boot-service-query.js';

/** Converts a disk image (with its whole chain) to `format` at `dst` (written as `<dst>.part`, then renamed). */
export async function convertDisk(
  src: string,
  dst: string,
  format: WriteFormat,
  opts: { allowedDirs: string[]; onProgress?: (done: number, total: number) => void },
): Promise<{ virtualSize: number }> {
  const d = await openDisk(src, { allowedDirs: opts.allowedDirs });
  try {
    await writeDisk(d, dst, format, { onProgress: opts.onProgress });
  } finally {
    await d.close();
  }
  return { virtualSize: d.size };
}

/** One step of installing, removing or querying the boot service. */
export type ServiceStep = { write: string; content: string; encoding?: 'utf16le' } | { remove: string } | { run: string[] };

/** Executes a plan; a failing tool stops it (PERMISSION_DENIED when not elevated, else TOOL_NOT_FOUND) unless failures are tolerated. */
export async function runServiceSteps(steps: ServiceStep[], out: (s: string) => void, tolerateFailures: boolean): Promise<{ step: string; stdout: string }[]> {
  const results: { step: string; stdout: string }[] = [];
  for (const s of steps) {
    if ('write' in s) {
      mkdirSync(resolve(s.write, '..'), { recursive: true });
      writeFileSync(s.write, s.encoding === 'utf16le' ? Buffer.from(s.content, 'utf16le') : s.content);
      out(`wrote ${s.write}\n`);
    } else if ('remove' in s) {
      if (existsSync(s.remove)) rmSync(s.remove, { force: true });
    } else {
      const r = await runProcess(s.run[0]!, s.run.slice(1), { timeoutMs: 60_000 });
      results.push({ step: s.run.join(' '), stdout: r.stdout });
      if (r.exitCode !== 0 && !tolerateFailures) {
        const msg = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ');
        const denied = /access is denied|permission denied|interactive authentication required|not authorized/i.test(msg);
        throw new AppError(denied ? 'PERMISSION_DENIED' : 'TOOL_NOT_FOUND', `'${s.run.join(' ')}' failed (exit ${r.exitCode}): ${msg}${denied ? ' — run it as administrator / root' : ''}`);
      }
    }
  }
  return results;
}

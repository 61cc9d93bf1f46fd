import { randomBytes } from 'node:crypto';
import { constants as C, existsSync } from 'node:fs';
import { link, lstat, mkdir, open, rename, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { ExistingFilePolicy, FileRestoreResult } from '../../../shared/domain/files.js';
import { AppError } from '../../../shared/errors/app-error.js';
import { systemClock } from '../core/clock.js';
import { partsLength, readLeased, type LeasedParts } from './byte-source.js';
import type { FsNode, GuestFilesystem } from './guest-fs.js';
import { safeName } from './safe-name.js';
import type { SnapshotBrowser } from './snapshot-browser.js';

/** Windows of a file read ahead while the current one is written. */
const READ_AHEAD = 4;

/**
 * Bytes per write call. Linux (6.x, ext4 with large folios) sizes new page-cache folios by the
 * write's length; on the 2-core VM, 1 GiB written in 2 MiB calls cost 1.9–3.1 s of system time,
 * in 256 KiB calls 0.4–0.5 s (alternating runs, rotating page-aligned source).
 */
const WRITE_BYTES = 256 * 1024;

/** Writes `parts` consecutively at `position`, in writev calls of ≤ WRITE_BYTES (continues after a short write). */
async function writeAll(fh: FileHandle, parts: Buffer[], position: number): Promise<void> {
  let pos = position;
  let rest = parts;
  while (rest.length) {
    const batch: Buffer[] = [];
    for (let n = 0, k = 0; k < rest.length && n < WRITE_BYTES; k++) {
      const b = rest[k].length > WRITE_BYTES - n ? rest[k].subarray(0, WRITE_BYTES - n) : rest[k];
      batch.push(b);
      n += b.length;
    }
    const { bytesWritten } = await fh.writev(batch, pos);
    pos += bytesWritten;
    let skip = bytesWritten;
    let k = 0;
    while (k < rest.length && skip >= rest[k].length) skip -= rest[k++].length;
    rest = k ? rest.slice(k) : rest;
    if (rest.length && skip > 0) rest = [rest[0].subarray(skip), ...rest.slice(1)];
    if (bytesWritten === 0 && rest.length) throw new AppError('INTERNAL', 'the restore target accepted no bytes');
  }
}

/** Options of {@link restoreFiles}. */
export interface RestoreOptions {
  /** Called after each restored file. */
  onFile?: (path: string, bytes: number) => void;
  /** Bytes read (and written) per step; READ_AHEAD steps are read ahead. Default 2 MiB. */
  chunkBytes?: number;
  /** What happens to a file that already exists in the target (default `keep-both`). */
  existing?: ExistingFilePolicy;
  /** Time of the restore (ms) for `keep-both` names; default now. */
  now?: number;
}

const NOFOLLOW = C.O_NOFOLLOW ?? 0;
const DIRECTORY = C.O_DIRECTORY ?? 0;
/**
 * Linux: `/proc/self/fd/N/name` is resolved from the folder open as fd N, whatever happened to
 * its path since — openat(2) without a native binding. Elsewhere paths are used, checked
 * before and after each file (see {@link HeldDir.check}).
 */
const PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd');
/** link(2) errors that mean "no hard links on this file system" (FAT, exFAT, some shares). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * A target folder held open (O_DIRECTORY | O_NOFOLLOW) with its identity (dev + ino). Children
 * are created relative to the open folder, and before and after each file the path is checked
 * to still name this very folder, so a folder swapped for a symlink (or moved away) during the
 * restore receives nothing more.
 */
class HeldDir {
  private constructor(
    private readonly fh: FileHandle | undefined,
    readonly path: string,
    private readonly dev: number,
    private readonly ino: number,
  ) {}

  /** Opens the folder `path` (through `via`, a parent-relative name) without following a link as its last component. */
  static async open(path: string, via = path): Promise<HeldDir> {
    if (process.platform === 'win32') {
      const st = await lstat(path);
      if (!st.isDirectory()) throw Object.assign(new Error(`${path} is not a folder`), { code: 'ENOTDIR' });
      return new HeldDir(undefined, path, st.dev, st.ino);
    }
    const fh = await open(via, C.O_RDONLY | DIRECTORY | NOFOLLOW);
    try {
      const st = await fh.stat();
      if (!st.isDirectory()) throw Object.assign(new Error(`${path} is not a folder`), { code: 'ENOTDIR' });
      const held = new HeldDir(fh, path, st.dev, st.ino);
      await held.check();
      return held;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** The name to give a syscall for the child `name`. */
  at(name: string): string {
    return PROC_FD && this.fh ? `/proc/self/fd/${this.fh.fd}/${name}` : join(this.path, name);
  }

  /** PATH_UNSAFE unless the path (every component of it) still leads to this folder. */
  async check(): Promise<void> {
    const st = await lstat(this.path).catch(() => undefined);
    if (!st?.isDirectory() || st.dev !== this.dev || st.ino !== this.ino) {
      throw new AppError('PATH_UNSAFE', `the folder ${this.path} was moved or replaced during the restore; nothing is written into it`);
    }
  }

  async setMtime(ms: number): Promise<void> {
    const t = ms / 1000;
    if (this.fh) await this.fh.utimes(t, t).catch(() => {});
    else await utimes(this.path, t, t).catch(() => {});
  }

  async close(): Promise<void> {
    await this.fh?.close();
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `report.docx` → `report (restored 2026-12-07 1530).docx` (then `… 1530 2).docx` …), within 255 bytes. */
export function keepBothName(name: string, when: number, n = 1): string {
  const d = new Date(when);
  const tag = ` (restored ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}${pad(d.getMinutes())}${n > 1 ? ` ${n}` : ''})`;
  const dot = name.lastIndexOf('.');
  let base = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  while (base.length > 1 && Buffer.byteLength(base + tag + ext) > 255) base = base.slice(0, -1);
  return base + tag + ext;
}

type Placed = 'created' | 'keptBoth' | 'overwritten' | 'skippedExisting';

/**
 * Writes a file into `dir` under `name` the safe way: the data goes into a new temporary file
 * (O_EXCL | O_NOFOLLOW, so never through an existing link of any kind), which is then linked
 * under its name (link(2) fails if the name exists: no overwrite by a race) or, when the user
 * chose `overwrite`, renamed over the old entry (replacing it, never writing through it).
 */
async function placeFile(dir: HeldDir, name: string, policy: ExistingFilePolicy, when: number, write: (fh: FileHandle) => Promise<void>): Promise<Placed> {
  await dir.check();
  const existing = await lstat(dir.at(name)).catch(() => undefined);
  if (existing && policy === 'skip') return 'skippedExisting';
  if (existing?.isDirectory() && policy === 'overwrite') throw new AppError('PATH_UNSAFE', `a folder named '${name}' is in the way; it was left as it is`);
  const tmp = dir.at(`.twinsnap-restore-${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | NOFOLLOW, 0o644);
  let placed = false;
  try {
    try {
      await write(fh);
    } finally {
      await fh.close();
    }
    await dir.check();
    if (policy === 'overwrite' && existing) {
      await rename(tmp, dir.at(name));
      placed = true;
      return 'overwritten';
    }
    for (let n = 1; ; n++) {
      const final = n === 1 ? name : keepBothName(name, when, n - 1);
      try {
        await link(tmp, dir.at(final));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (NO_LINKS.has(code) && !(await lstat(dir.at(final)).catch(() => undefined))) {
          // no hard links here: rename (a file created in the instant between is the residual risk)
          await rename(tmp, dir.at(final));
          placed = true;
          return n === 1 ? 'created' : 'keptBoth';
        }
        if (code !== 'EEXIST' && !NO_LINKS.has(code)) throw e;
        if (policy === 'skip') return 'skippedExisting';
        if (policy === 'overwrite') {
          await rename(tmp, dir.at(name));
          placed = true;
          return 'overwritten';
        }
        continue;
      }
      return n === 1 ? 'created' : 'keptBoth';
    }
  } finally {
    if (!placed) await unlink(tmp).catch(() => {});
  }
}

/**
 * Restores files and folders (recursively) from a snapshot into `toDir` (an absolute path),
 * keeping modification times. Guest names are mapped through {@link safeName} and
 * de-duplicated per folder (case-insensitively, `name~2.ext`). Every folder is created and
 * held open relative to its parent, never following a link, and checked (dev + ino) before and
 * after each file; files are written to a new temporary file and linked or renamed into place,
 * so nothing is written through an existing symlink or hard link. A file that already exists is
 * handled by `existing`: `keep-both` (default: the restored copy gets a name like
 * `report (restored 2026-12-07 1530).docx`), `skip`, or `overwrite` (the old entry is replaced).
 * Symlinks and special files are reported in `skipped`, errors in `failed`; neither aborts the
 * restore.
 */
export async function restoreFiles(browser: SnapshotBrowser, paths: string[], toDir: string, opts: RestoreOptions = {}): Promise<FileRestoreResult> {
  if (!isAbsolute(toDir)) throw new AppError('INVALID_REQUEST', `the restore target must be an absolute path, not '${toDir}'`);
  const policy = opts.existing ?? 'keep-both';
  const when = opts.now ?? systemClock.now();
  const root = toDir;
  await mkdir(root, { recursive: true });
  const rootDir = await HeldDir.open(root).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ELOOP' || e.code === 'ENOTDIR') throw new AppError('PATH_UNSAFE', `restore target ${root} is not a folder (or is a symbolic link)`);
    throw e;
  });
  const res: FileRestoreResult = { to: root, existing: policy, restored: 0, bytes: 0, keptBoth: 0, overwritten: 0, skippedExisting: 0, skipped: [], failed: [] };
  const used = new Map<HeldDir, Set<string>>();
  const chunk = opts.chunkBytes ?? 2 * 1024 * 1024;

  const destName = (dir: HeldDir, guestName: string): string => {
    let set = used.get(dir);
    if (!set) used.set(dir, (set = new Set()));
    const base = safeName(guestName);
    let name = base;
    for (let n = 2; set.has(name.toLowerCase()); n++) {
      const dot = base.lastIndexOf('.');
      name = dot > 0 ? `${base.slice(0, dot)}~${n}${base.slice(dot)}` : `${base}~${n}`;
    }
    set.add(name.toLowerCase());
    return name;
  };

  const copyInto = async (fh: FileHandle, fs: GuestFilesystem, node: FsNode, stream: string | undefined): Promise<number> => {
    const content = await fs.open(node, stream);
    let written = 0;
    const ahead: Promise<LeasedParts>[] = [];
    try {
      // read-ahead: several windows are being read (and, from a repository, their chunks
      // loaded and verified on the worker threads into leased slots) while the oldest one is
      // written with a single writev straight from those slots, then released for reuse
      let next = 0;
      const refill = () => {
        while (ahead.length < READ_AHEAD && next < content.size) {
          const p = readLeased(content, next, chunk);
          p.catch(() => {});
          ahead.push(p);
          next += chunk;
        }
      };
      refill();
      for (let off = 0; ahead.length; off += chunk) {
        const lease = await ahead.shift()!;
        try {
          refill();
          const n = partsLength(lease.parts);
          if (n === 0) break;
          await writeAll(fh, lease.parts, off);
          written += n;
        } finally {
          lease.release();
        }
      }
    } finally {
      // windows read ahead and never written (an error, or the end) give their leases back
      for (const r of await Promise.allSettled(ahead)) if (r.status === 'fulfilled') r.value.release();
    }
    if (node.mtimeMs !== undefined) await fh.utimes(node.mtimeMs / 1000, node.mtimeMs / 1000).catch(() => {});
    return written;
  };

  const copyFile = async (fs: GuestFilesystem, node: FsNode, stream: string | undefined, dir: HeldDir, name: string, srcPath: string) => {
    let written = 0;
    const placed = await placeFile(dir, name, policy, when, async (fh) => {
      written = await copyInto(fh, fs, node, stream);
    });
    if (placed === 'skippedExisting') {
      res.skippedExisting++;
      return;
    }
    if (placed === 'keptBoth') res.keptBoth++;
    if (placed === 'overwritten') res.overwritten++;
    res.restored++;
    res.bytes += written;
    opts.onFile?.(srcPath, written);
  };

  /** Creates (or enters) the folder `name` in `parent`; a non-folder in the way gets a keep-both sibling, is skipped (undefined) or fails. */
  const enterDir = async (parent: HeldDir, name: string): Promise<HeldDir | undefined> => {
    for (let n = 1; ; n++) {
      const final = n === 1 ? name : keepBothName(name, when, n - 1);
      await parent.check();
      await mkdir(parent.at(final)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      try {
        return await HeldDir.open(join(parent.path, final), parent.at(final));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ELOOP' && code !== 'ENOTDIR') throw e;
        if (policy === 'skip') return undefined;
        if (policy !== 'keep-both') throw new AppError('PATH_UNSAFE', `'${final}' exists and is not a folder; it was left as it is`);
      }
    }
  };

  const restoreNode = async (fs: GuestFilesystem, node: FsNode, srcPath: string, dir: HeldDir, seen: Set<string>, stream?: string): Promise<void> => {
    const name = destName(dir, stream === undefined ? node.name : `${node.name}:${stream}`);
    try {
      if (stream !== undefined || node.type === 'file') await copyFile(fs, node, stream, dir, name, srcPath);
      else if (node.type === 'symlink') res.skipped.push({ path: srcPath, reason: `symbolic link to ${node.target ?? 'unknown target'} not restored` });
      else if (node.type === 'other') res.skipped.push({ path: srcPath, reason: 'special file (device, socket, unknown reparse point or unreadable record) not restored' });
      else {
        if (seen.has(node.key)) {
          res.failed.push({ path: srcPath, reason: 'folder loop detected' });
          return;
        }
        seen.add(node.key);
        const sub = await enterDir(dir, name);
        if (!sub) {
          res.skippedExisting++;
          seen.delete(node.key);
          return;
        }
        try {
          const kids = await browser.children(fs, node);
          for (const k of kids) await restoreNode(fs, k, `${srcPath}/${k.name}`, sub, seen);
          if (node.mtimeMs !== undefined) await sub.setMtime(node.mtimeMs);
        } finally {
          used.delete(sub);
          await sub.close();
        }
        seen.delete(node.key);
      }
    } catch (e) {
      res.failed.push({ path: srcPath, reason: (e as Error).message });
    }
  };

  try {
    for (const p of paths) {
      try {
        const r = await browser.resolve(p);
        if (r.kind === 'node') await restoreNode(r.fs, r.node, r.entry.path, rootDir, new Set(), r.stream);
        else if (r.kind === 'part') {
          if (!r.mount.fs) res.failed.push({ path: p, reason: `${r.mount.fsType} volume cannot be read` });
          else {
            const rootNode = await r.mount.fs.root();
            await restoreNode(r.mount.fs, { ...rootNode, name: `${r.disk}_${r.part}` }, r.entry.path, rootDir, new Set());
          }
        } else res.failed.push({ path: p, reason: 'choose a partition, folder or file to restore' });
      } catch (e) {
        res.failed.push({ path: p, reason: (e as Error).message });
      }
    }
  } finally {
    await rootDir.close();
  }
  return res;
}

import type { FileEntry, FileListing } from '../../../shared/domain/files.js';
import { AppError } from '../../../shared/errors/app-error.js';
import type { ByteSource } from './byte-source.js';
import { CachedSource } from './cached-source.js';
import { joinSnapshotPath, parseSnapshotPath, globToRegExp } from './fs-path.js';
import type { FileContent, FsNode, GuestFilesystem } from './guest-fs.js';
import { LruCache } from '../core/lru-cache.js';
import { mountVolume, type MountResult } from './mount.js';
import { readPartitionTable, type PartitionTable } from './partitions.js';
import { ChunkedDiskSource, isChunkedDisk, SliceSource } from './byte-source.js';

/** A disk of a snapshot, by the name used in paths. */
export interface NamedDisk {
  name: string;
  disk: ByteSource;
}

/** Options of a {@link SnapshotBrowser}. */
export interface BrowserOptions {
  /** Byte budget of the per-disk metadata block cache. Default 32 MiB. */
  blockCacheBytes?: number;
  /** Byte budget of cached directory listings. Default 16 MiB. */
  listingCacheBytes?: number;
}

/** What a path resolves to. */
export type Resolved =
  | { kind: 'root' }
  | { kind: 'disk'; disk: string; entry: FileEntry }
  | { kind: 'part'; disk: string; part: string; mount: MountResult; entry: FileEntry }
  | { kind: 'node'; disk: string; part: string; fs: GuestFilesystem; node: FsNode; path: string; stream?: string; entry: FileEntry; warnings: string[] };

interface DiskState {
  src: CachedSource;
  table?: Promise<PartitionTable>;
  mounts: Map<string, Promise<MountResult>>;
}

const MAX_WALK = 5_000_000;

/**
 * Browses the guest filesystems of a set of named disks with the path scheme
 * `DISK/PART/path/inside` (`PART` = `p1`, `p2`… or `p0` for a whole-disk filesystem;
 * `PATH:stream` names an NTFS alternate data stream). Everything is read on demand through a
 * bounded block cache; directory listings are cached within a byte budget.
 */
export class SnapshotBrowser {
  private readonly disks = new Map<string, DiskState>();
  private readonly listings: LruCache<string, FsNode[]>;
  private readonly fsIds = new WeakMap<GuestFilesystem, string>();

  constructor(disks: NamedDisk[], opts: BrowserOptions = {}) {
    for (const d of disks) {
      // a repository snapshot disk hands out its decoded chunks: file data is then written from them without copies
      const base = isChunkedDisk(d.disk) ? new ChunkedDiskSource(d.disk) : d.disk;
      this.disks.set(d.name, { src: new CachedSource(base, { budgetBytes: opts.blockCacheBytes ?? 32 * 1024 * 1024 }), mounts: new Map() });
    }
    this.listings = new LruCache(opts.listingCacheBytes ?? 16 * 1024 * 1024);
  }

  /** Names of the disks. */
  get diskNames(): string[] {
    return [...this.disks.keys()];
  }

  private disk(name: string): DiskState {
    const d = this.disks.get(name);
    if (!d) throw new AppError('NOT_FOUND', `no disk named ${name} in this snapshot (disks: ${this.diskNames.join(', ')})`);
    return d;
  }

  /** The partition table of disk `name`. */
  partitions(name: string): Promise<PartitionTable> {
    const d = this.disk(name);
    d.table ??= readPartitionTable(d.src);
    return d.table;
  }

  private async mount(disk: string, part: string): Promise<MountResult> {
    const d = this.disk(disk);
    let m = d.mounts.get(part);
    if (!m) {
      const table = await this.partitions(disk);
      const p = table.partitions.find((x) => x.name === part);
      if (!p) throw new AppError('NOT_FOUND', `disk ${disk} has no partition ${part} (partitions: ${table.partitions.map((x) => x.name).join(', ') || 'none'})`);
      m = mountVolume(new SliceSource(d.src, p.offset, p.size), `${disk}/${part}`);
      d.mounts.set(part, m);
      const res = await m;
      if (res.fs) this.fsIds.set(res.fs, `${disk}/${part}`);
    }
    return m;
  }

  /** Entries of a folder, via the listing cache. */
  async children(fs: GuestFilesystem, dir: FsNode): Promise<FsNode[]> {
    const key = `${this.fsIds.get(fs)}|${dir.key}`;
    const hit = this.listings.get(key);
    if (hit) return hit;
    const list = await fs.readdir(dir);
    this.listings.set(
      key,
      list,
      list.reduce((s, n) => s + 160 + n.name.length * 2 + (n.target?.length ?? 0) * 2, 64),
    );
    return list;
  }

  /** Resolves a path to a disk, partition or filesystem node. */
  async resolve(path: string): Promise<Resolved> {
    const sp = parseSnapshotPath(path);
    if (!sp.disk) return { kind: 'root' };
    const d = this.disk(sp.disk);
    if (!sp.part) return { kind: 'disk', disk: sp.disk, entry: { name: sp.disk, path: sp.disk, type: 'dir', size: d.src.size } };
    const mount = await this.mount(sp.disk, sp.part);
    const table = await this.partitions(sp.disk);
    const p = table.partitions.find((x) => x.name === sp.part)!;
    const partEntry: FileEntry = { name: sp.part, path: joinSnapshotPath(sp.disk, sp.part), type: 'dir', size: p.size, fsType: mount.fsType, supported: mount.supported };
    if (sp.inside.length === 0) return { kind: 'part', disk: sp.disk, part: sp.part, mount, entry: partEntry };
    if (!mount.fs) throw new AppError('FS_UNSUPPORTED', `${sp.disk}/${sp.part} cannot be browsed: ${mount.warnings.join('; ') || mount.fsType}`);
    const fs = mount.fs;
    let node = await fs.root();
    let stream: string | undefined;
    const walked: string[] = [];
    for (let i = 0; i < sp.inside.length; i++) {
      let comp = sp.inside[i];
      if (node.type !== 'dir') throw new AppError('NOT_FOUND', `${joinSnapshotPath(sp.disk, sp.part, ...walked)} is not a folder`);
      const kids = await this.children(fs, node);
      let next = find(kids, comp, fs.caseInsensitive);
      if (!next && i === sp.inside.length - 1 && comp.includes(':')) {
        const c = comp.indexOf(':');
        stream = comp.slice(c + 1).replace(/:\$DATA$/i, '');
        comp = comp.slice(0, c);
        next = find(kids, comp, fs.caseInsensitive);
        if (next && !(next.streams ?? []).includes(stream)) throw new AppError('NOT_FOUND', `${comp} has no stream named ${stream}`);
      }
      if (!next) throw new AppError('NOT_FOUND', `${joinSnapshotPath(sp.disk, sp.part, ...walked, sp.inside[i])} does not exist`);
      node = next;
      walked.push(next.name);
    }
    const base = joinSnapshotPath(sp.disk, sp.part, ...walked);
    const entry = toEntry(node, base);
    if (stream !== undefined) {
      const content = await fs.open(node, stream);
      Object.assign(entry, { name: `${node.name}:${stream}`, path: `${base}:${stream}`, size: content.size, type: 'file' });
      delete entry.streams;
    }
    return { kind: 'node', disk: sp.disk, part: sp.part, fs, node, path: base, stream, entry, warnings: mount.warnings };
  }

  /** Lists a folder, a partition's root, a disk's partitions, or the disks (path ''). */
  async list(path: string): Promise<FileListing> {
    const r = await this.resolve(path);
    if (r.kind === 'root') {
      return { path: '', entries: this.diskNames.map((n) => ({ name: n, path: n, type: 'dir', size: this.disk(n).src.size })), warnings: [] };
    }
    if (r.kind === 'disk') {
      const table = await this.partitions(r.disk);
      const entries: FileEntry[] = [];
      const warnings = table.warnings.map((w) => `${r.disk}: ${w}`);
      for (const p of table.partitions) {
        const m = await this.mount(r.disk, p.name);
        entries.push({ name: p.name, path: `${r.disk}/${p.name}`, type: 'dir', size: p.size, fsType: m.fsType, supported: m.supported });
        warnings.push(...m.warnings);
      }
      return { path: r.disk, entries, warnings };
    }
    if (r.kind === 'part') {
      if (!r.mount.fs) return { path: r.entry.path, entries: [], warnings: r.mount.warnings };
      const root = await r.mount.fs.root();
      const kids = await this.children(r.mount.fs, root);
      return { path: r.entry.path, entries: kids.map((k) => toEntry(k, `${r.entry.path}/${k.name}`)), warnings: [...r.mount.warnings] };
    }
    if (r.node.type !== 'dir' || r.stream !== undefined) return { path: r.entry.path, entries: [r.entry], warnings: [...r.warnings] };
    const kids = await this.children(r.fs, r.node);
    return { path: r.path, entries: kids.map((k) => toEntry(k, `${r.path}/${k.name}`)), warnings: [...r.warnings] };
  }

  /** The entry of one path. */
  async stat(path: string): Promise<FileEntry> {
    const r = await this.resolve(path);
    if (r.kind === 'root') return { name: '', path: '', type: 'dir', size: 0 };
    return r.entry;
  }

  /** Opens a file (or `PATH:stream`) for reading. */
  async open(path: string): Promise<{ entry: FileEntry; content: FileContent }> {
    const r = await this.resolve(path);
    if (r.kind !== 'node') throw new AppError('INVALID_REQUEST', `${path || '/'} is not a file`);
    if (r.node.type === 'dir' && r.stream === undefined) throw new AppError('INVALID_REQUEST', `${path} is a folder`);
    if (r.node.type === 'symlink') throw new AppError('INVALID_REQUEST', `${path} is a symbolic link to ${r.node.target ?? '?'}`);
    return { entry: r.entry, content: await r.fs.open(r.node, r.stream) };
  }

  /** Reads up to `length` bytes of a file at `offset`. */
  async read(path: string, offset = 0, length = 1024 * 1024): Promise<{ data: Buffer; size: number; eof: boolean }> {
    const { content } = await this.open(path);
    const data = await content.read(offset, length);
    return { data, size: content.size, eof: offset + data.length >= content.size };
  }

  /** Streams a file's bytes in chunks. */
  async *stream(path: string, chunkBytes = 4 * 1024 * 1024): AsyncGenerator<Buffer> {
    const { content } = await this.open(path);
    for (let off = 0; off < content.size; off += chunkBytes) yield await content.read(off, chunkBytes);
  }

  /**
   * Walks everything under `path` depth-first (folders before their contents), skipping
   * loops and unreadable folders (reported through `onSkip`).
   */
  async *walk(path: string, onSkip?: (path: string, reason: string) => void): AsyncGenerator<{ fs: GuestFilesystem; node: FsNode; entry: FileEntry }> {
    const r = await this.resolve(path);
    const starts: { fs: GuestFilesystem; node: FsNode; path: string }[] = [];
    if (r.kind === 'node') starts.push({ fs: r.fs, node: r.node, path: r.path });
    else {
      const disks = r.kind === 'root' ? this.diskNames : [r.disk];
      for (const dn of disks) {
        const parts = r.kind === 'part' ? [{ name: r.part }] : (await this.partitions(dn)).partitions;
        for (const p of parts) {
          const m = await this.mount(dn, p.name);
          if (m.fs) starts.push({ fs: m.fs, node: await m.fs.root(), path: `${dn}/${p.name}` });
        }
      }
    }
    let count = 0;
    for (const s of starts) {
      const seen = new Set<string>();
      const stack: { node: FsNode; path: string }[] = [{ node: s.node, path: s.path }];
      while (stack.length) {
        const cur = stack.pop()!;
        if (cur.node.type !== 'dir') continue;
        if (seen.has(cur.node.key)) continue;
        seen.add(cur.node.key);
        let kids: FsNode[];
        try {
          kids = await this.children(s.fs, cur.node);
        } catch (e) {
          onSkip?.(cur.path, (e as Error).message);
          continue;
        }
        const pending: { node: FsNode; path: string }[] = [];
        for (const k of kids) {
          const p = `${cur.path}/${k.name}`;
          if (++count > MAX_WALK) return;
          yield { fs: s.fs, node: k, entry: toEntry(k, p) };
          if (k.type === 'dir') pending.push({ node: k, path: p });
        }
        for (let i = pending.length - 1; i >= 0; i--) stack.push(pending[i]);
      }
    }
  }

  /** Entries under `path` (default: everything) whose name (or, if the glob has a `/`, path) matches. */
  async find(pattern: string, limit = 1000, path = ''): Promise<FileEntry[]> {
    const re = globToRegExp(pattern);
    const full = pattern.includes('/');
    const out: FileEntry[] = [];
    for await (const { entry } of this.walk(path)) {
      if (re.test(full ? entry.path : entry.name)) {
        out.push(entry);
        if (out.length >= limit) break;
      }
    }
    return out;
  }
}

function find(kids: FsNode[], name: string, ci: boolean): FsNode | undefined {
  const exact = kids.find((k) => k.name === name);
  if (exact || !ci) return exact;
  const up = name.toUpperCase();
  return kids.find((k) => k.name.toUpperCase() === up);
}

/** Converts a driver node to the shared FileEntry DTO. */
export function toEntry(n: FsNode, path: string): FileEntry {
  const e: FileEntry = { name: n.name, path, type: n.type, size: n.size };
  if (n.mtimeMs !== undefined && Math.abs(n.mtimeMs) < 8.64e15) e.mtime = new Date(n.mtimeMs).toISOString();
  if (n.target !== undefined) e.target = n.target;
  if (n.streams?.length) e.streams = [...n.streams];
  return e;
}

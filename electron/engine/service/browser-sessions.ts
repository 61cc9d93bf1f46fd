import type { Clock } from '../core/clock.js';
import type { VirtualDisk } from '../disk/virtual-disk.js';
import { SnapshotBrowser } from '../fs/snapshot-browser.js';
import type { RepositoryAccess } from './repository-access.js';

/** Chunks cached per snapshot disk by the repository reader (decoded chunks, shared by all fs reads). */
const SNAPSHOT_CACHE_CHUNKS = 16;
/** Our own metadata block cache per disk stays small: the repository already caches chunks. */
const BLOCK_CACHE_BYTES = 8 * 1024 * 1024;
/** Open browsers keep reader locks (they block `forget`): at most this many, closed when idle. */
const MAX_SESSIONS = 2;
const IDLE_MS = 60_000;
/**
 * A download reads a file in pieces (files.read calls that end before eof): between two pieces
 * the session counts as in use for this long, so a forget does not pull the point from under it.
 */
const STREAM_GRACE_MS = 15_000;

interface Session {
  browser: SnapshotBrowser;
  disks: VirtualDisk[];
  users: number;
  timer?: ReturnType<typeof setTimeout>;
  /** Clock time until which a piecewise read (a download) keeps the session in use. */
  streamUntil: number;
}

/**
 * Open snapshot browsers keyed by snapshot id (bounded, idle ones closed), shared by the files
 * handlers and the CLI: a snapshot's disks are read through the repository's chunk-cached
 * snapshot disks.
 */
export class BrowserSessions {
  private readonly open = new Map<string, Promise<Session>>();
  private closeRegistered = false;

  constructor(private readonly ctx: { readonly clock: Clock; readonly store: RepositoryAccess; onClose(fn: () => Promise<void>): void }) {}

  /**
   * Runs `fn` on the session of `snapshotId` (read from `source`: the repository in use, or its
   * offsite copy); `fn` may mark it as mid-download (`streaming(true)`).
   */
  async with<T>(snapshotId: string, fn: (b: SnapshotBrowser, streaming: (open: boolean) => void) => Promise<T>, source?: 'local' | 'offsite'): Promise<T> {
    // an offsite point is a session of its own (another repository), keyed apart from the local one
    const key = source === 'offsite' ? `offsite:${snapshotId}` : snapshotId;
    let p = this.open.get(key);
    if (!p) {
      p = this.create(snapshotId, source);
      this.open.set(key, p);
      p.catch(() => this.open.delete(key));
      await this.evict(key);
    } else {
      this.open.delete(key);
      this.open.set(key, p);
    }
    const s = await p;
    if (s.timer) clearTimeout(s.timer);
    s.users++;
    try {
      return await fn(s.browser, (open) => (s.streamUntil = open ? this.ctx.clock.now() + STREAM_GRACE_MS : 0));
    } finally {
      s.users--;
      s.timer = setTimeout(() => void this.close(key), IDLE_MS);
      s.timer.unref?.();
    }
  }

  private async create(id: string, source?: 'local' | 'offsite'): Promise<Session> {
    const repo = await this.ctx.store.repositoryFor(source);
    if (!this.closeRegistered) {
      // after the repository's own clean-up, so the sessions close before the repository does
      this.closeRegistered = true;
      this.ctx.onClose(() => this.closeAll());
    }
    const m = await repo.readManifest(id);
    const disks: VirtualDisk[] = [];
    try {
      for (const d of m.disks) disks.push(await repo.openSnapshotDisk(id, d.name, { cacheChunks: SNAPSHOT_CACHE_CHUNKS }));
    } catch (e) {
      await Promise.all(disks.map((d) => d.close().catch(() => {})));
      throw e;
    }
    const browser = new SnapshotBrowser(
      m.disks.map((d, i) => ({ name: d.name, disk: disks[i] })),
      { blockCacheBytes: BLOCK_CACHE_BYTES },
    );
    return { browser, disks, users: 0, streamUntil: 0 };
  }

  private async evict(keep: string): Promise<void> {
    for (const id of [...this.open.keys()]) {
      if (this.open.size <= MAX_SESSIONS) break;
      if (id !== keep) await this.close(id, true);
    }
  }

  async close(id: string, force = false): Promise<void> {
    const p = this.open.get(id);
    if (!p) return;
    const s = await p.catch(() => undefined);
    if (s && s.users > 0 && !force) return;
    this.open.delete(id);
    if (s) {
      if (s.timer) clearTimeout(s.timer);
      await Promise.all(s.disks.map((d) => d.close().catch(() => {})));
    }
  }

  /**
   * Closes this engine's idle session of `id` (its reader locks go with it), so a `forget` right
   * after browsing is not refused. A session in use (a read or restore running, or a download
   * between two of its files.read pieces) stays open; the result is true when none of it is left
   * open. Other processes' readers are untouched.
   */
  async closeIdle(id: string): Promise<boolean> {
    const p = this.open.get(id);
    if (!p) return true;
    const s = await p.catch(() => undefined);
    if (s && s.streamUntil > this.ctx.clock.now()) return false;
    await this.close(id);
    return !this.open.has(id);
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.open.keys()]) await this.close(id, true);
  }
}

import { SnapshotBrowser } from '../fs/snapshot-browser.js';
import { restoreFiles } from '../fs/restore-files.js';
import type { VirtualDisk } from '../disk/virtual-disk.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';
import { getRepository } from './repository-access.js';

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

/** Open snapshot browsers keyed by snapshot id (bounded, idle ones closed). */
class BrowserSessions {
  private readonly open = new Map<string, Promise<Session>>();

  constructor(private readonly ctx: EngineContext) {}

  /** Runs `fn` on the session of `snapshotId`; `fn` may mark it as mid-download (`streaming(true)`). */
  async with<T>(snapshotId: string, fn: (b: SnapshotBrowser, streaming: (open: boolean) => void) => Promise<T>): Promise<T> {
    let p = this.open.get(snapshotId);
    if (!p) {
      p = this.create(snapshotId);
      this.open.set(snapshotId, p);
      p.catch(() => this.open.delete(snapshotId));
      await this.evict(snapshotId);
    } else {
      this.open.delete(snapshotId);
      this.open.set(snapshotId, p);
    }
    const s = await p;
    if (s.timer) clearTimeout(s.timer);
    s.users++;
    try {
      return await fn(s.browser, (open) => (s.streamUntil = open ? this.ctx.clock.now() + STREAM_GRACE_MS : 0));
    } finally {
      s.users--;
      s.timer = setTimeout(() => void this.close(snapshotId), IDLE_MS);
      s.timer.unref?.();
    }
  }

  private async create(id: string): Promise<Session> {
    const repo = await getRepository(this.ctx);
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

  /** Closes the session of `id` unless a call or a download is using it; true when none of it is left open. */
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

function sessions(ctx: EngineContext): BrowserSessions {
  return ctx.lazy('files:sessions', () => {
    const s = new BrowserSessions(ctx);
    ctx.onClose(() => s.closeAll());
    return s;
  });
}

/**
 * Runs `fn` with a browser over every disk of snapshot `snapshotId` (read through the
 * repository's chunk-cached snapshot disks). Shared by the handlers and the CLI (`cat`).
 */
export function withSnapshotBrowser<T>(ctx: EngineContext, snapshotId: string, fn: (b: SnapshotBrowser) => Promise<T>): Promise<T> {
  return sessions(ctx).with(snapshotId, fn);
}

/**
 * Closes this engine's idle browse session of `snapshotId` (its reader locks go with it), so a
 * `forget` right after browsing is not refused. A session in use (a read or restore running, or
 * a download between two of its files.read pieces) stays open; the result says whether one is
 * still open. Other processes' readers are untouched.
 */
export function closeIdleBrowseSession(ctx: EngineContext, snapshotId: string): Promise<boolean> {
  return sessions(ctx).closeIdle(snapshotId);
}

/** files.list, files.find, files.read, files.restore over repository snapshots. */
export const filesHandlers: HandlerFactory = (ctx) => ({
  'files.list': async ({ snapshotId, path }) => withSnapshotBrowser(ctx, snapshotId, (b) => b.list(path)),
  'files.find': async ({ snapshotId, pattern, limit }) => withSnapshotBrowser(ctx, snapshotId, (b) => b.find(pattern, limit ?? 1000)),
  'files.read': async ({ snapshotId, path, offset, length }) =>
    sessions(ctx).with(snapshotId, async (b, streaming) => {
      const r = await b.read(path, offset ?? 0, length ?? 1024 * 1024);
      streaming(!r.eof);
      return { base64: r.data.toString('base64'), size: r.size, eof: r.eof };
    }),
  'files.restore': async ({ snapshotId, paths, to, existing }) => withSnapshotBrowser(ctx, snapshotId, (b) => restoreFiles(b, paths, to, { existing, now: ctx.clock.now() })),
});

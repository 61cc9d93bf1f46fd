import { restoreFiles } from '../fs/restore-files.js';
import type { HandlerFactory } from './handlers.js';

/** files.list, files.find, files.read, files.restore over repository snapshots (`source: 'offsite'`: the offsite copy's). */
export const filesHandlers: HandlerFactory = (ctx) => ({
  'files.list': async ({ snapshotId, path, source }) => ctx.browsing.with(snapshotId, (b) => b.list(path), source),
  'files.find': async ({ snapshotId, pattern, limit, source }) => ctx.browsing.with(snapshotId, (b) => b.find(pattern, limit ?? 1000), source),
  'files.read': async ({ snapshotId, path, offset, length, source }) =>
    ctx.browsing.with(
      snapshotId,
      async (b, streaming) => {
        const r = await b.read(path, offset ?? 0, length ?? 1024 * 1024);
        streaming(!r.eof);
        return { base64: r.data.toString('base64'), size: r.size, eof: r.eof };
      },
      source,
    ),
  'files.restore': async ({ snapshotId, paths, to, existing, source }) => ctx.browsing.with(snapshotId, (b) => restoreFiles(b, paths, to, { existing, now: ctx.clock.now() }), source),
});

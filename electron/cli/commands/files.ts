import { resolve } from 'node:path';
import { Option } from 'commander';
import { EXISTING_FILE_POLICIES, type ExistingFilePolicy, type FileEntry, type FileListing } from '../../../shared/domain/files.js';
import { AppError } from '../../../shared/errors/app-error.js';
import type { CommandModule } from '../cli-context.js';

const size = (n: number) => (n >= 1024 * 1024 * 1024 ? `${(n / 1073741824).toFixed(1)}G` : n >= 1024 * 1024 ? `${(n / 1048576).toFixed(1)}M` : n >= 1024 ? `${(n / 1024).toFixed(1)}K` : `${n}`);

function line(e: FileEntry, full: boolean): string {
  const t = { file: '-', dir: 'd', symlink: 'l', other: '?' }[e.type];
  const extra = e.fsType ? `  [${e.fsType}${e.supported === false ? ', not supported' : ''}]` : e.target ? ` -> ${e.target}` : e.streams?.length ? `  (streams: ${e.streams.join(', ')})` : '';
  return `${t} ${size(e.size).padStart(7)}  ${(e.mtime ?? '').slice(0, 19).padEnd(19)}  ${full ? e.path : e.name}${extra}`;
}

/**
 * File-level browsing and restore of snapshots: `ls`, `cat`, `find`, `restore-files`. Paths are
 * `DISK/PART/path/inside` (`PART` = p1, p2… or p0 for a whole-disk filesystem); `PATH:stream`
 * names an NTFS alternate data stream.
 */
export const filesCommands: CommandModule = (program, ctx) => {
  program
    .command('ls')
    .description('list the disks, partitions or files of a snapshot (DISK/PART/path)')
    .argument('<snapshot>', 'snapshot id')
    .argument('[path]', 'DISK, DISK/PART or DISK/PART/path/inside', '')
    .option('-R, --recursive', 'list everything below the path')
    .action(async (snapshotId: string, path: string, o: { recursive?: boolean }) => {
      const engine = await ctx.engine();
      let listing: FileListing;
      if (!o.recursive) listing = await engine.service.call('files.list', { snapshotId, path });
      else {
        listing = await engine.local.listRecursive(snapshotId, path);
      }
      ctx.print(listing, (l) => [...l.warnings.map((w) => `warning: ${w}`), ...l.entries.map((e) => line(e, !!o.recursive))].join('\n') || '(empty)');
    });

  program
    .command('cat')
    .description("write a file's bytes to stdout (PATH:stream for an NTFS alternate data stream)")
    .argument('<snapshot>', 'snapshot id')
    .argument('<path>', 'DISK/PART/path/to/file')
    .action(async (snapshotId: string, path: string) => {
      const engine = await ctx.engine();
      await engine.local.readFile(snapshotId, path, (bytes) => ctx.io.stdoutBytes(bytes));
    });

  program
    .command('find')
    .description('find files by name (glob: * ? [..]; a pattern with / matches whole paths, ** crosses folders)')
    .argument('<snapshot>', 'snapshot id')
    .argument('<pattern>', 'glob, case-insensitive')
    .option('--limit <n>', 'stop after n matches', '1000')
    .action(async (snapshotId: string, pattern: string, o: { limit: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10000) ctx.usage(`--limit expects 1…10000, got '${o.limit}'`);
      const engine = await ctx.engine();
      const found = await engine.service.call('files.find', { snapshotId, pattern, limit });
      ctx.print(found, (f) => (f.length ? f.map((e) => line(e, true)).join('\n') : 'no matches'));
    });

  program
    .command('restore-files')
    .description('copy files or folders (recursively) out of a snapshot, keeping modification times; exits 1 when any item failed')
    .argument('<snapshot>', 'snapshot id')
    .argument('<paths...>', 'DISK/PART/path entries to restore')
    .requiredOption('--to <dir>', 'target folder (created if missing); nothing is written outside it')
    .addOption(
      new Option('--existing <policy>', "a file that already exists: 'keep-both' (the restored copy gets a name like 'report (restored 2026-12-07 1530).docx'), 'skip' it, or 'overwrite' it")
        .choices([...EXISTING_FILE_POLICIES])
        .default('keep-both'),
    )
    .action(async (snapshotId: string, paths: string[], o: { to: string; existing: ExistingFilePolicy }) => {
      const engine = await ctx.engine();
      const res = await engine.service.call('files.restore', { snapshotId, paths, to: resolve(o.to), existing: o.existing });
      ctx.print(res, (r) =>
        [
          `restored ${r.restored} file(s), ${size(r.bytes)}B into ${r.to}` +
            (r.keptBoth ? `; ${r.keptBoth} kept beside an existing file under a '(restored …)' name` : '') +
            (r.overwritten ? `; ${r.overwritten} overwrote an existing file` : '') +
            (r.skippedExisting ? `; ${r.skippedExisting} existing file(s) left as they were` : ''),
          ...r.skipped.map((x) => `skipped ${x.path}: ${x.reason}`),
          ...r.failed.map((x) => `FAILED ${x.path}: ${x.reason}`),
        ].join('\n'),
      );
      if (res.failed.length) throw new AppError('RESTORE_INCOMPLETE', `${res.failed.length} item(s) failed to restore`, { details: { failed: res.failed.length } });
    });
};

import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../../shared/errors/app-error.js';
import type { RetentionPolicy } from '../../../shared/domain/policy.js';
import type { SnapshotSummary } from '../../../shared/domain/snapshot.js';
import type { RestoreNetwork } from '../../../shared/domain/guest.js';
import type { RepositoryFolderCheck, RepositoryInfo } from '../../../shared/domain/engine.js';
import { DEFAULT_CHUNK_SIZE, type ExportFormat } from '../../engine/engine.js';
import { givenPassword, newPassword } from '../password.js';
import type { CliContext, CommandModule } from '../cli-context.js';
import { ALLOW_CHAIN_DIR } from './disk.js';

const FORMATS: ExportFormat[] = ['raw', 'vmdk', 'vhdx', 'qcow2'];
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

function int(ctx: CliContext, v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) ctx.usage(`${flag} expects a whole number, got '${v}'`);
  return n;
}

/** `twinsnap repository info` in words. */
export function encryptionLine(i: RepositoryInfo): string {
  if (!i.encrypted) return 'plain (not encrypted)';
  const kdf = i.kdf ? `, scrypt N=2^${Math.log2(i.kdf.N)} r=${i.kdf.r} p=${i.kdf.p}` : '';
  return `encrypted (${i.cipher}${kdf}; chunk names ${i.chunkNames})`;
}

function infoLines(i: RepositoryInfo): string {
  return [
    `repository ${i.path}`,
    `format ${i.format}: ${encryptionLine(i)}`,
    `chunk size ${i.chunkSize}, ${i.compression}, created ${i.createdAt}`,
    ...(i.encrypted ? i.keys.map((k) => `key ${k.id}  ${k.kind.padEnd(8)} ${k.label}  (created ${k.createdAt})`) : []),
  ].join('\n');
}

function snapshotLine(s: SnapshotSummary): string {
  return `${s.id}  ${s.guest.padEnd(20)} ${s.time}  ${s.consistency.padEnd(10)} ${s.disks.map((d) => `${d.name}(${mib(d.size)})`).join(' ')}`;
}

/** Repository commands: init, import-disk, snapshots, export-disk, restore, forget, gc, verify, stats, catalog rebuild. */
export const repositoryCommands: CommandModule = (program, ctx) => {
  const local = async () => (await ctx.engine()).local;
  const progress = (label: string) => (done: number, total: number) => {
    if (ctx.io.isTTY && !ctx.globals().json) ctx.io.stderr(`\r${label} ${total ? Math.floor((done / total) * 100) : 100}%  `);
  };

  program
    .command('init')
    .description('create a new, empty repository (at --repo or the default location)')
    .option('--chunk-size <bytes>', 'fixed chunk size (power of two, 64 KiB … 64 MiB)', String(DEFAULT_CHUNK_SIZE))
    .option('--encrypt', 'encrypt everything it stores (AES-256-GCM); password from --password-file, TWINSNAP_PASSWORD or the prompt; prints the recovery kit')
    .option('--recovery-kit <file>', 'with --encrypt: also write the recovery kit to this new file (owner-only)')
    .action(async (o: { chunkSize: string; encrypt?: boolean; recoveryKit?: string }) => {
      if (o.recoveryKit && !o.encrypt) ctx.usage('--recovery-kit needs --encrypt');
      const ops = await local();
      const password = o.encrypt ? (givenPassword(ctx.globals().passwordFile) ?? (await newPassword(undefined, 'password for the new repository'))) : undefined;
      const { recoveryKit: kit, ...r } = await ops.initRepository({ chunkSize: int(ctx, o.chunkSize, '--chunk-size'), ...(password ? { password } : {}) });
      if (kit && o.recoveryKit) await writeFile(resolve(o.recoveryKit), kit, { flag: 'wx', mode: 0o600 });
      ctx.print(r, (d) =>
        [
          `created ${d.encrypted ? 'encrypted ' : ''}repository ${d.path} (chunk size ${d.chunkSize})`,
          ...(kit ? ['', kit, o.recoveryKit ? `(also written to ${resolve(o.recoveryKit)})` : ''] : []),
        ].join('\n'),
      );
    });

  // Repositories as the app makes them (the same checks as Settings → Repository).
  const repository = program.command('repository').description('create, connect or check a repository folder (the same checks as the app)');
  const checkLine = (c: RepositoryFolderCheck) =>
    [
      `${c.path}: ${c.state === 'repository' ? `a twinsnap repository (${c.snapshots ?? 0} restore points)` : c.state}${c.current ? ' — in use' : ''}`,
      `writable: ${c.writable ? 'yes' : 'no'}${c.freeBytes !== undefined ? `, ${mib(c.freeBytes)} free` : ''}`,
      ...c.problems.map((p) => `problem: ${p}`),
    ].join('\n');
  repository
    .command('check <dir>')
    .description('say what a folder is as a place for the repository')
    .action(async (dir: string) => ctx.print(await (await ctx.engine()).service.call('repository.check', { path: resolve(dir) }), checkLine));
  repository
    .command('info')
    .description('plain or encrypted (cipher, key derivation, keys), format and chunk size; no password needed')
    .action(async () => ctx.print(await (await local()).repositoryInfo(), infoLines));
  repository
    .command('init <dir>')
    .description('create a new repository in an empty or new folder and use it')
    .action(async (dir: string) => {
      const s = await (await ctx.engine()).service.call('repository.create', { path: resolve(dir) });
      ctx.print(s, (d) => `created repository ${d.repository}; twinsnap uses it from now on`);
    });
  repository
    .command('connect <dir>')
    .description('use an existing repository (e.g. on a USB disk or NAS share)')
    .action(async (dir: string) => {
      const s = await (await ctx.engine()).service.call('repository.connect', { path: resolve(dir) });
      ctx.print(s, (d) => `connected repository ${d.repository}; twinsnap uses it from now on`);
    });

  program
    .command('import-disk')
    .description('archive existing disk image files as a cold snapshot of a guest (also how a powered-off VM is backed up)')
    .requiredOption('--guest <guest>', 'the guest the snapshot belongs to: its id or name (a name no VM or backup has starts a guest known by that name)')
    .option('--config <file>', 'a VM configuration file to keep with the snapshot (.vmx, .vmcx …); repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .argument('<files...>', 'disk images (raw, vmdk, vhdx, vhd, qcow2; chains are followed)')
    .option(...ALLOW_CHAIN_DIR)
    .action(async (files: string[], o: { guest: string; config?: string[]; allowChainDir: string[] }) => {
      const s = await (await local()).importDisks({ guest: o.guest, files, configFiles: o.config ?? [], allowedDirs: o.allowChainDir, onProgress: progress('backup') });
      ctx.print(s, (d) => `created snapshot ${d.id} of ${d.guest}: ${d.disks.length} disk(s), ${mib(d.logicalBytes)} logical, ${mib(d.newBytes ?? 0)} new`);
    });

  program
    .command('snapshots')
    .description('list snapshots (oldest first)')
    .option('--guest <name>', 'only this guest')
    .action(async (o: { guest?: string }) => {
      const list = await (await ctx.engine()).service.call('snapshots.list', o.guest ? { guest: o.guest } : {});
      ctx.print(list, (l) => (l.length ? l.map(snapshotLine).join('\n') : 'no snapshots'));
    });

  program
    .command('export-disk')
    .description('write one disk of a snapshot as an image file')
    .argument('<snapshot>', 'snapshot id')
    .argument('<disk>', 'disk name (see `snapshots`)')
    .requiredOption('--to <file>', 'output file (must not exist)')
    .option('--format <f>', `output format: ${FORMATS.join(', ')}`, 'raw')
    .action(async (snap: string, disk: string, o: { to: string; format: string }) => {
      if (!FORMATS.includes(o.format as ExportFormat)) ctx.usage(`unknown --format '${o.format}' (use ${FORMATS.join(', ')})`);
      const r = await (await local()).exportDisk({ snapshotId: snap, disk, format: o.format as ExportFormat, to: resolve(o.to), onProgress: progress('export') });
      ctx.print(r, (d) => `wrote ${d.path} (${d.format}, ${mib(d.size)})`);
    });

  program
    .command('restore')
    .description('restore a whole snapshot (configuration files + disks) into a new folder')
    .argument('<snapshot>', 'snapshot id')
    .requiredOption('--to <dir>', 'new folder')
    .option('--format <f>', `disk format: original, ${FORMATS.join(', ')}`, 'original')
    .option('--name <name>', "the restored VM's name (default: the guest's name + '-restored')")
    .option(
      '--network <disconnected|NAME>',
      'its network adapters: disconnected (default: a copy beside the running original must not share its IP address), or connected to the named host network (VMware: bridged, nat, hostonly, vmnetN or a LAN segment)',
      'disconnected',
    )
    .action(async (snap: string, o: { to: string; format: string; name?: string; network: string }) => {
      if (o.format !== 'original' && !FORMATS.includes(o.format as ExportFormat)) ctx.usage(`unknown --format '${o.format}'`);
      if (!o.network.trim()) ctx.usage('--network needs disconnected or a network name');
      const network: RestoreNetwork = o.network === 'disconnected' ? { kind: 'disconnected' } : { kind: 'network', name: o.network };
      const r = await (await local()).restoreVm({ snapshotId: snap, to: resolve(o.to), name: o.name, format: o.format as ExportFormat | 'original', network, onProgress: progress('restore') });
      ctx.print(r, (d) => `restored ${d.files.length} file(s) into ${d.path}`);
    });

  program
    .command('forget')
    .description("apply a retention policy to a guest's snapshots (the stored policy when no --keep-… is given)")
    .requiredOption('--guest <name>', 'guest')
    .option('--keep-last <n>')
    .option('--keep-hourly <n>')
    .option('--keep-daily <n>')
    .option('--keep-weekly <n>')
    .option('--keep-monthly <n>')
    .option('--keep-yearly <n>')
    .option('--keep-within-days <n>')
    .option('--dry-run', 'only show what would be forgotten')
    .action(async (o: Record<string, string | undefined> & { guest: string; dryRun?: boolean }) => {
      const engine = await ctx.engine();
      const flags: [keyof RetentionPolicy, string][] = [
        ['keepLast', 'keepLast'],
        ['keepHourly', 'keepHourly'],
        ['keepDaily', 'keepDaily'],
        ['keepWeekly', 'keepWeekly'],
        ['keepMonthly', 'keepMonthly'],
        ['keepYearly', 'keepYearly'],
        ['keepWithinDays', 'keepWithinDays'],
      ];
      let policy: RetentionPolicy = {};
      for (const [k, opt] of flags) {
        const v = int(ctx, o[opt], `--${opt.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
        if (v !== undefined) policy[k] = v;
      }
      if (Object.keys(policy).length === 0) {
        policy = (await engine.service.call('retention.get', { guest: o.guest })).policy;
        if (Object.keys(policy).length === 0) ctx.usage(`no --keep-… option given and guest '${o.guest}' has no stored retention policy`);
      }
      const r = await engine.service.call(o.dryRun ? 'retention.preview' : 'retention.apply', { guest: o.guest, policy });
      ctx.print(r, (d) =>
        [
          ...d.decisions.map(
            (x: (typeof d.decisions)[number] & { freedBytes?: number }) =>
              `${x.keep ? 'keep  ' : 'forget'} ${x.snapshotId}  ${x.time}  ${x.keep ? x.reasons.join(', ') : `frees ${mib(x.freedBytes ?? 0)} alone`}`,
          ),
          `${o.dryRun ? 'would forget' : 'forgot'} ${d.forgetCount} snapshot(s); gc would free ${mib(d.freedBytes)}`,
        ].join('\n'),
      );
    });

  program
    .command('gc')
    .description('delete chunks no snapshot references (mark and sweep with a grace period)')
    .option('--grace-seconds <n>', 'only delete chunks untouched for this long (default 600, minimum 2)')
    .action(async (o: { graceSeconds?: string }) => {
      const g = int(ctx, o.graceSeconds, '--grace-seconds');
      const r = await (await local()).gc({ graceMs: g !== undefined ? g * 1000 : undefined });
      ctx.print(
        r,
        (d) => `removed ${d.removedChunks} chunk(s), freed ${mib(d.freedBytes)}; kept ${d.keptChunks}${d.missingChunks ? `; ${d.missingChunks} referenced chunk(s) missing — run verify` : ''}`,
      );
    });

  program
    .command('verify')
    .description('check manifests, indexes and chunk presence (--full: re-hash every chunk); exits 1 when damaged')
    .option('--full', 're-read and re-hash every chunk')
    .option('--read-data', 'the same as --full; on an s3:// repository it downloads every chunk (provider egress fees)')
    .option('--snapshot <id>', 'only this snapshot')
    .action(async (o: { full?: boolean; readData?: boolean; snapshot?: string }) => {
      const full = Boolean(o.full || o.readData);
      if (full && (ctx.globals().repo ?? process.env.TWINSNAP_REPO)?.startsWith('s3://')) {
        ctx.io.stderr('note: a full verify of an offsite copy downloads every chunk it references (the provider may charge for the traffic); without --read-data only their presence is checked\n');
      }
      const r = await (await local()).verify({ full, ...(o.snapshot ? { snapshotIds: [o.snapshot] } : {}) });
      ctx.print(r, (d) =>
        d.ok ? `ok: ${d.checkedSnapshots} snapshot(s), ${d.checkedChunks} chunk(s) checked` : d.details.map((x) => `DAMAGED ${x.snapshotId}\n  ${x.problems.join('\n  ')}`).join('\n'),
      );
      if (!r.ok) throw new AppError('REPO_CORRUPT', `${r.damaged.length} damaged snapshot(s): ${r.damaged.join(', ')}`, { details: { damaged: r.damaged } });
    });

  program
    .command('stats')
    .description('repository size and counts')
    .action(async () => {
      const s = await (await ctx.engine()).service.call('repository.stats', {});
      ctx.print(s, (d) => `${d.path}: ${d.snapshots} snapshot(s), ${d.chunks} chunk(s), ${mib(d.logicalBytes)} logical, ${mib(d.storedBytes)} stored`);
    });

  const catalog: Command = program.command('catalog').description('the SQLite catalog');
  catalog
    .command('rebuild')
    .description("recreate the catalog's snapshot tables from the repository alone")
    .action(async () => {
      const r = await (await ctx.engine()).service.call('catalog.rebuild', {});
      ctx.print(r, (d) => `catalog rebuilt: ${d.snapshots} snapshot(s)`);
    });
};

import { constants, statfsSync } from 'node:fs';
import { access, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { RepositoryFolderCheck, Settings } from '../../../shared/domain/engine.js';
import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import { configSchema, toSettings } from '../core/config.js';
import { randomToken } from '../core/ids.js';
import { initRepository, openRepository, readRepositoryInfo, recoveryKitText } from '../repository/repository.js';
import { RepoLayout } from '../repository/repository.js';
import { repositoryPasswordKey } from './repository-access.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';

/** Below this much free space a new repository is refused: not even one small guest would fit. */
export const MIN_REPOSITORY_FREE_BYTES = 1024 * 1024 * 1024;

const within = (dir: string, folder: string) => {
  const d = resolve(dir).toLowerCase();
  const f = resolve(folder).toLowerCase();
  return f === d || f.startsWith(d.endsWith(sep) ? d : d + sep);
};

/** The nearest folder of `p` that exists (for free space and write checks of a folder still to be made). */
async function nearestExisting(p: string): Promise<string> {
  let cur = p;
  for (;;) {
    if (
      await stat(cur).then(
        (s) => s.isDirectory(),
        () => false,
      )
    )
      return cur;
    const up = dirname(cur);
    if (up === cur) return cur;
    cur = up;
  }
}

/** True when a file can be created (and removed) in `dir`. */
async function canWrite(dir: string): Promise<boolean> {
  const probe = join(dir, `.twinsnap-write-check-${randomToken(4)}`);
  try {
    await writeFile(probe, '');
    await rm(probe, { force: true });
    return true;
  } catch {
    return false;
  }
}

/** The VM whose folder (configuration or disks) holds `folder`, from every hypervisor's listing. */
async function vmHolding(ctx: EngineContext, folder: string): Promise<string | undefined> {
  for (const hv of ctx.hypervisors) {
    try {
      if (!(await hv.detect()).available) continue;
      for (const vm of await hv.listVms()) {
        const dirs = [vm.configPath, ...vm.disks.map((d) => d.path)].filter((x): x is string => !!x).map((x) => dirname(x));
        if (dirs.some((d) => within(d, folder))) return vm.name;
      }
    } catch {
      // a hypervisor that cannot list its VMs cannot tell; the other checks still hold
    }
  }
  return undefined;
}

/**
 * What `path` is as a place for the repository: a repository already (how many points), empty
 * or missing (a new one can be made), other files, or a file; writable; free space; inside a VM's
 * data (a repository there would be backed up with the VM and lost with it). `problems` says in
 * words what stands in the way of creating (for `empty`/`missing`) or connecting (`repository`).
 */
export async function checkRepositoryFolder(ctx: EngineContext, raw: string): Promise<RepositoryFolderCheck> {
  const path = resolve(raw);
  const problems: string[] = [];
  const st = await stat(path).catch(() => undefined);
  let state: RepositoryFolderCheck['state'];
  let snapshots: number | undefined;
  if (!st) state = 'missing';
  else if (!st.isDirectory()) state = 'not-a-folder';
  else if (
    await access(new RepoLayout(path).config, constants.F_OK).then(
      () => true,
      () => false,
    )
  )
    state = 'repository';
  else state = (await readdir(path).catch(() => ['?'])).length === 0 ? 'empty' : 'not-empty';
  let encrypted: boolean | undefined;
  if (state === 'repository') {
    try {
      encrypted = (await readRepositoryInfo(path)).encrypted;
      const repo = await openRepository(path, { clock: ctx.clock, password: ctx.store.passwordSource(path) });
      try {
        snapshots = (await repo.listSnapshots()).length;
      } finally {
        await repo.close();
      }
    } catch (e) {
      // an encrypted repository without (the right) password is fine: connecting asks for it
      if (!isAppError(e, 'REPO_PASSWORD_REQUIRED') && !isAppError(e, 'REPO_PASSWORD_WRONG')) problems.push(`'${path}' looks like a repository but cannot be opened: ${(e as Error).message}`);
    }
  }
  const existing = await nearestExisting(path);
  const writable = state !== 'not-a-folder' && (await canWrite(state === 'missing' ? existing : path));
  let freeBytes: number | undefined;
  try {
    const fs = statfsSync(existing);
    freeBytes = Number(fs.bavail) * Number(fs.bsize);
  } catch {
    freeBytes = undefined;
  }
  const insideVm = await vmHolding(ctx, path);
  if (state === 'not-a-folder') problems.push(`'${path}' is a file, not a folder`);
  if (state === 'not-empty') problems.push(`'${path}' holds other files but no twinsnap repository: choose an empty folder to create one, or the folder of an existing repository to connect it`);
  if (!writable && state !== 'not-a-folder') problems.push(`twinsnap cannot write in '${state === 'missing' ? existing : path}': choose a folder you may write to`);
  if (insideVm) problems.push(`'${path}' is inside the files of the vm '${insideVm}': a repository there would be backed up with that vm and lost with it; choose a folder outside every vm`);
  if ((state === 'empty' || state === 'missing') && freeBytes !== undefined && freeBytes < MIN_REPOSITORY_FREE_BYTES) {
    problems.push(`only ${Math.floor(freeBytes / 1048576)} MiB are free there; a repository needs at least ${MIN_REPOSITORY_FREE_BYTES / 1073741824} GiB`);
  }
  const current = resolve(ctx.config().repository) === path;
  return {
    path,
    state,
    writable,
    ...(freeBytes !== undefined ? { freeBytes } : {}),
    ...(insideVm ? { insideVm } : {}),
    ...(snapshots !== undefined ? { snapshots } : {}),
    ...(encrypted !== undefined ? { encrypted } : {}),
    current,
    problems,
  };
}

function useRepository(ctx: EngineContext, path: string): Settings {
  const parsed = configSchema.safeParse({ ...ctx.config(), repository: path });
  if (!parsed.success) throw new AppError('CONFIG_INVALID', `invalid settings: ${parsed.error.issues[0]?.message}`);
  ctx.updateConfig(parsed.data);
  return toSettings(parsed.data);
}

/**
 * Creates a repository in `raw` (empty or missing, writable, room, outside every VM) and uses it;
 * with `password` an encrypted one, whose recovery kit is returned (once). `remember` keeps the
 * password in the secret store for scheduled backups.
 */
export async function createRepositoryAt(ctx: EngineContext, raw: string, enc: { password?: string; remember?: boolean } = {}): Promise<Settings & { recoveryKit?: string }> {
  const c = await checkRepositoryFolder(ctx, raw);
  if (c.state === 'repository') throw new AppError('ALREADY_EXISTS', `'${c.path}' already holds a twinsnap repository (${c.snapshots ?? 0} restore points): connect it instead`);
  if (c.problems.length)
    throw new AppError(c.state === 'not-empty' || c.state === 'not-a-folder' || c.insideVm ? 'PATH_UNSAFE' : c.writable ? 'DISK_FULL' : 'PERMISSION_DENIED', c.problems.join('; '), {
      details: { check: c },
    });
  await mkdir(c.path, { recursive: true });
  const repo = await initRepository(c.path, { clock: ctx.clock, ...(enc.password ? { encryption: { password: enc.password } } : {}) });
  const recoveryKit = repo.recoveryKey ? recoveryKitText(await repo.info(), repo.recoveryKey) : undefined;
  await repo.close();
  if (enc.password) {
    ctx.store.unlocked.set(c.path, enc.password);
    if (enc.remember) ctx.secrets.set(repositoryPasswordKey(c.path), enc.password);
  }
  ctx.logger.info('repository created from the ui', { path: c.path, encrypted: Boolean(enc.password) });
  return { ...useRepository(ctx, c.path), ...(recoveryKit ? { recoveryKit } : {}) };
}

/** Connects the existing repository in `raw` (it must hold one) and uses it; an encrypted one must open with `password` (or one already known). */
export async function connectRepositoryAt(ctx: EngineContext, raw: string, enc: { password?: string; remember?: boolean } = {}): Promise<Settings> {
  const c = await checkRepositoryFolder(ctx, raw);
  if (c.state !== 'repository') {
    throw new AppError('REPO_NOT_FOUND', `'${c.path}' holds no twinsnap repository${c.state === 'empty' || c.state === 'missing' ? ': create one there instead' : ''}`, { details: { check: c } });
  }
  if (c.problems.length) throw new AppError(c.insideVm ? 'PATH_UNSAFE' : 'REPO_CORRUPT', c.problems.join('; '), { details: { check: c } });
  if (c.encrypted) {
    const known = ctx.store.passwordSource(c.path);
    const password = enc.password ?? (await known());
    await (await openRepository(c.path, { clock: ctx.clock, password })).close(); // REPO_PASSWORD_REQUIRED / _WRONG
    ctx.store.unlocked.set(c.path, password!);
    if (enc.remember) ctx.secrets.set(repositoryPasswordKey(c.path), password);
  }
  ctx.logger.info('repository connected from the ui', { path: c.path, encrypted: Boolean(c.encrypted) });
  return useRepository(ctx, c.path);
}

/** repository.check / create / connect. */
export const repositorySetupHandlers: HandlerFactory = (ctx) => ({
  'repository.check': async ({ path }) => checkRepositoryFolder(ctx, path),
  'repository.create': async ({ path, password, remember }) => createRepositoryAt(ctx, path, { password, remember }),
  'repository.connect': async ({ path, password, remember }) => connectRepositoryAt(ctx, path, { password, remember }),
});

/**
 * Accessors for the engine's single catalog and repository instances, shared by every handler
 * slice (repository, workflow, scheduler, files). Each opens on first use and closes with the
 * engine.
 */
import { join, resolve } from 'node:path';
import { isAppError } from '../../../shared/errors/app-error.js';
import { catalogPath, openCatalog, type Catalog } from '../catalog/catalog.js';
import { initRepository, openRepository, syncCatalog, type Repository } from '../repository/repository.js';
import type { CatalogRecovery } from '../../../shared/domain/engine.js';
import type { EngineContext } from './engine-context.js';
import { getNotifier } from './schedule-handlers.js';

/** The engine's catalog (`<dataDir>/catalog.sqlite`), opened once. */
export function getCatalog(ctx: EngineContext): Catalog {
  return ctx.lazy('catalog', () => {
    const cat = openCatalog(catalogPath(ctx.dataDir), { now: () => ctx.clock.now() });
    ctx.onClose(() => cat.close());
    if (cat.recovered) announceCatalogRecovery(ctx, cat.recovered);
    return cat;
  });
}

/** A rebuilt catalog is said loudly: in the log, by notification and in `engine.status`. */
function announceCatalogRecovery(ctx: EngineContext, r: CatalogRecovery): void {
  const what = r.reason === 'corrupt' ? `catalog was damaged and moved aside to '${r.movedTo}'; a new one was created` : 'catalog was missing; a new one was created';
  const kept = r.restored ? `schedules, retention policies and settings restored from policies.json (${r.restored.schedules}/${r.restored.retention}/${r.restored.settings})` : 'schedules, retention policies and settings were LOST (no usable policies.json)';
  ctx.logger.log(r.restored ? 'warn' : 'error', `${what}; snapshots are re-read from the repository; ${kept}`, { catalogRecovered: r });
  recoveryHolder(ctx).value = r;
  void getNotifier(ctx)
    .catalogRecovered(r)
    .catch(() => {});
}

const recoveryHolder = (ctx: EngineContext) => ctx.lazy<{ value?: CatalogRecovery }>('catalogRecovered', () => ({}));

/** The catalog recovery of this engine's run, if there was one (opens the catalog to know). */
export function catalogRecovery(ctx: EngineContext): CatalogRecovery | undefined {
  getCatalog(ctx);
  return recoveryHolder(ctx).value;
}

/**
 * The repository at `ctx.config().repository`, opened once per path. The default repository
 * (`<dataDir>/repository`) is created on first use; any other path must hold a repository
 * (REPO_NOT_FOUND otherwise — a typo must not silently create an empty one).
 */
export function getRepository(ctx: EngineContext): Promise<Repository> {
  const path = resolve(ctx.config().repository);
  // an encrypted repository that could not be unlocked (no or a wrong password) is tried again
  // on the next use, e.g. once the app has been given the password
  const attempts = ctx.lazy('repository:attempts', () => new Map<string, number>());
  const attempt = attempts.get(path) ?? 0;
  return ctx.lazy(`repository:${path}${attempt ? `#${attempt}` : ''}`, () => {
    const p = (async () => {
      const grace = Number(ctx.options.gcGraceMs ?? process.env.TWINSNAP_GC_GRACE_MS ?? NaN);
      const opts = { clock: ctx.clock, logger: ctx.logger, password: repositoryPassword(ctx, path), ...(Number.isFinite(grace) ? { gcGraceMs: grace } : {}) };
      try {
        return await openRepository(path, opts);
      } catch (e) {
        if (isAppError(e, 'REPO_NOT_FOUND') && path === resolve(join(ctx.dataDir, 'repository'))) return initRepository(path, opts);
        throw e;
      }
    })();
    ctx.onClose(async () => (await p.catch(() => undefined))?.close());
    p.catch((e: unknown) => {
      if (isAppError(e, 'REPO_PASSWORD_REQUIRED') || isAppError(e, 'REPO_PASSWORD_WRONG')) attempts.set(path, attempt + 1);
    });
    return p;
  });
}

/** Key in the secret store of the password of the encrypted repository at `path` (the app: Electron safeStorage; headless: the 0600 secrets file). */
export function repositoryPasswordKey(path: string): string {
  return `repository.password:${resolve(path)}`;
}

type PasswordSource = (() => Promise<string | undefined>) | undefined;

/**
 * Where the password of an encrypted repository comes from, in order: the one given to this
 * process (CLI `--password-file` / `TWINSNAP_PASSWORD`), the one kept in the secret store (the
 * app's "remember", the service account's secrets file), then the terminal prompt. Asked only
 * when the repository is encrypted.
 */
export function repositoryPassword(ctx: EngineContext, path: string): () => Promise<string | undefined> {
  return async () =>
    unlockedPasswords(ctx).get(resolve(path)) ??
    (await (ctx.options.repositoryPassword as PasswordSource)?.()) ??
    ctx.secrets.get(repositoryPasswordKey(path)) ??
    (await (ctx.options.repositoryPasswordPrompt as PasswordSource)?.());
}

/** Passwords given to this engine (the app's Unlock), by repository path; in memory only. */
export function unlockedPasswords(ctx: EngineContext): Map<string, string> {
  return ctx.lazy('repository:unlocked', () => new Map<string, string>());
}

/** The repository with the catalog's snapshot cache brought up to date (after backups/forgets). */
export async function getSyncedRepository(ctx: EngineContext): Promise<{ repo: Repository; catalog: Catalog }> {
  const repo = await getRepository(ctx);
  const catalog = getCatalog(ctx);
  await syncCatalog(repo, catalog);
  return { repo, catalog };
}

/**
 * The engine's single catalog and repository instances, shared by every handler slice
 * (repository, workflow, scheduler, files). Each opens on first use and closes with the engine.
 */
import { join, resolve } from 'node:path';
import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import { catalogPath, openCatalog, type Catalog } from '../catalog/catalog.js';
import { initRepository, openRepository, syncCatalog, type Repository } from '../repository/repository.js';
import type { CatalogRecovery } from '../../../shared/domain/engine.js';
import type { EngineBase } from './engine-context.js';
import { isS3Url, normalS3Url } from '../offsite/s3-destination.js';
import { openOffsiteAsRepository } from './offsite-access.js';

/** Where this process gets an encrypted repository's password (EngineOptions, the CLI's flags). */
export interface RepositoryPasswordSources {
  /** Given to this process (CLI `--password-file`, `TWINSNAP_PASSWORD`), tried before the secret store. */
  readonly given?: () => Promise<string | undefined>;
  /** Asked last (the CLI on a terminal). */
  readonly prompt?: () => Promise<string | undefined>;
}

/** How a repository location is keyed: a folder by its absolute path, an offsite copy (`s3://`) by its normalised URL (never resolved as a path). */
export function repositoryLocationKey(location: string): string {
  return isS3Url(location) ? normalS3Url(location) : resolve(location);
}

/** Key in the secret store of the password of the encrypted repository at `location` (the app: Electron safeStorage; headless: the 0600 secrets file). */
export function repositoryPasswordKey(location: string): string {
  return `repository.password:${repositoryLocationKey(location)}`;
}

export class RepositoryAccess {
  private openedCatalog?: Catalog;
  private recovered?: CatalogRecovery;
  private readonly repositories = new Map<string, Promise<Repository>>();
  /** Passwords given to this engine (the app's Unlock, a create/connect), by resolved repository path; in memory only. */
  readonly unlocked = new Map<string, string>();

  /**
   * `onRecovered` is told once when opening the catalog found it damaged or missing; `passwords`
   * are this process's sources of an encrypted repository's password (see passwordSource).
   */
  constructor(
    private readonly base: EngineBase,
    private readonly onRecovered: (r: CatalogRecovery) => void,
    private readonly passwords: RepositoryPasswordSources = {},
  ) {}

  /** The engine's catalog (`<dataDir>/catalog.sqlite`), opened once. */
  catalog(): Catalog {
    if (this.openedCatalog) return this.openedCatalog;
    const { base } = this;
    const cat = openCatalog(catalogPath(base.dataDir), { now: () => base.clock.now() });
    this.openedCatalog = cat;
    base.onClose(() => cat.close());
    if (cat.recovered) this.announceRecovery(cat.recovered);
    return cat;
  }

  /** The catalog recovery of this engine's run, if there was one (opens the catalog to know). */
  recovery(): CatalogRecovery | undefined {
    this.catalog();
    return this.recovered;
  }

  /**
   * The repository at `config().repository`, opened once per path. The default repository
   * (`<dataDir>/repository`) is created on first use; any other path must hold a repository
   * (REPO_NOT_FOUND otherwise — a typo must not silently create an empty one). An `s3://`
   * location is an offsite copy (disaster recovery): read-only, through a cache in the data folder.
   */
  repository(): Promise<Repository> {
    const { base } = this;
    const where = base.config().repository;
    const remote = isS3Url(where);
    const path = remote ? where : resolve(where);
    const open = this.repositories.get(path);
    if (open) return open;
    const p = (async () => {
      const grace = Number(base.tuning.gcGraceMs ?? process.env.TWINSNAP_GC_GRACE_MS ?? NaN);
      const opts = { clock: base.clock, logger: base.logger, password: this.passwordSource(path), ...(Number.isFinite(grace) ? { gcGraceMs: grace } : {}) };
      if (remote) return openOffsiteAsRepository(base, where, opts);
      try {
        return await openRepository(path, opts);
      } catch (e) {
        if (isAppError(e, 'REPO_NOT_FOUND') && path === resolve(join(base.dataDir, 'repository'))) return initRepository(path, opts);
        throw e;
      }
    })();
    this.repositories.set(path, p);
    base.onClose(async () => (await p.catch(() => undefined))?.close());
    // an encrypted repository that could not be unlocked (no or a wrong password) is tried again
    // on the next use, e.g. once the app has been given the password
    p.catch((e: unknown) => {
      if ((isAppError(e, 'REPO_PASSWORD_REQUIRED') || isAppError(e, 'REPO_PASSWORD_WRONG')) && this.repositories.get(path) === p) this.repositories.delete(path);
    });
    return p;
  }

  /**
   * Where restore points are read from: the repository in use, or (`offsite`) the configured
   * offsite copy — the bucket opened read-only through its cache, exactly what `--repo s3://…`
   * opens (its password: the one given for it, else the local repository's, whose key files it
   * carries). Opened once; `dropOffsite` makes the next use list the bucket again.
   */
  repositoryFor(source: 'local' | 'offsite' | undefined): Promise<Repository> {
    if (source !== 'offsite') return this.repository();
    const o = this.base.config().offsite;
    if (!o) throw new AppError('NOT_FOUND', 'no offsite copy is set up: enter its destination on the Repository page (Offsite) or run twinsnap offsite schedule --to s3://BUCKET/PREFIX');
    const key = `offsite:${repositoryLocationKey(o.to)} at ${o.endpoint ?? this.base.s3Endpoint ?? ''}`;
    const open = this.repositories.get(key);
    if (open) return open;
    const own = this.passwordSource(o.to);
    const local = this.passwordSource(this.base.config().repository);
    const p = openOffsiteAsRepository(this.base, o, { clock: this.base.clock, logger: this.base.logger, password: async () => (await own()) ?? (await local()) });
    this.repositories.set(key, p);
    this.base.onClose(async () => (await p.catch(() => undefined))?.close());
    // a bucket that could not be read (offline, keys) is tried again on the next use
    p.catch(() => {
      if (this.repositories.get(key) === p) this.repositories.delete(key);
    });
    return p;
  }

  /** The offsite copy is listed again on its next use (a copy added restore points, or the destination changed); the one open stays open for its readers until the engine closes. */
  dropOffsite(): void {
    for (const k of [...this.repositories.keys()]) if (k.startsWith('offsite:')) this.repositories.delete(k);
  }

  /** The repository with the catalog's snapshot cache brought up to date (after backups/forgets). */
  async synced(): Promise<{ repo: Repository; catalog: Catalog }> {
    const repo = await this.repository();
    const catalog = this.catalog();
    await syncCatalog(repo, catalog);
    return { repo, catalog };
  }

  /** A rebuilt catalog is said loudly: in the log, by notification and in `engine.status`. */
  private announceRecovery(r: CatalogRecovery): void {
    const what = r.reason === 'corrupt' ? `catalog was damaged and moved aside to '${r.movedTo}'; a new one was created` : 'catalog was missing; a new one was created';
    const kept = r.restored
      ? `schedules, retention policies and settings restored from policies.json (${r.restored.schedules}/${r.restored.retention}/${r.restored.settings})`
      : 'schedules, retention policies and settings were LOST (no usable policies.json)';
    this.base.logger.log(r.restored ? 'warn' : 'error', `${what}; snapshots are re-read from the repository; ${kept}`, { catalogRecovered: r });
    this.recovered = r;
    this.onRecovered(r);
  }

  /**
   * Where the password of the encrypted repository at `path` comes from, in order: the one this
   * engine was given (the app's Unlock, a create/connect), the one given to this process (CLI
   * `--password-file` / `TWINSNAP_PASSWORD`), the one kept in the secret store (the app's
   * "remember", the service account's secrets file), then the terminal prompt. Asked only when
   * the repository is encrypted.
   */
  passwordSource(path: string): () => Promise<string | undefined> {
    return async () => this.unlocked.get(repositoryLocationKey(path)) ?? (await this.passwords.given?.()) ?? this.base.secrets.get(repositoryPasswordKey(path)) ?? (await this.passwords.prompt?.());
  }
}

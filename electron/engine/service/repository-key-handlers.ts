/**
 * Encrypted repositories from the UI: what the repository in use is (`repository.info`, no
 * password needed), unlocking it or its offsite copy (`repository.unlock`, optionally remembered in the secret store
 * — Electron safeStorage in the app, the owner-only secrets file headless), changing its password
 * and making a new recovery kit.
 */
import type { RepositoryInfo } from '../../../shared/domain/engine.js';
import { isAppError } from '../../../shared/errors/app-error.js';
import { recoveryKitText } from '../repository/repository.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';
import { repositoryInfoAt } from './offsite-access.js';
import { repositoryLocationKey, repositoryPasswordKey } from './repository-access.js';

const isPasswordError = (e: unknown) => isAppError(e, 'REPO_PASSWORD_REQUIRED') || isAppError(e, 'REPO_PASSWORD_WRONG');

/** The repository in use: plain or encrypted, and whether this engine could open it. */
export async function repositoryInfo(ctx: EngineContext): Promise<RepositoryInfo & { locked: boolean }> {
  try {
    const repo = await ctx.store.repository(); // also creates the default repository on first use
    return { ...(await repo.info()), locked: false };
  } catch (e) {
    if (!isPasswordError(e)) throw e;
    return { ...(await repositoryInfoAt(ctx, ctx.config().repository)), locked: true };
  }
}

/** Keeps (or drops) the password of the repository at `path` in the secret store. */
export function rememberPassword(ctx: EngineContext, path: string, password: string | undefined): void {
  ctx.secrets.set(repositoryPasswordKey(path), password);
}

/**
 * Opens the configured offsite copy of an encrypted repository with `password` (the local
 * repository's: the bucket holds its key files), kept under the destination's own key, so it
 * works with the local repository gone (a disaster recovery on a new install).
 */
async function unlockOffsite(ctx: EngineContext, password: string, remember: boolean | undefined): Promise<RepositoryInfo & { locked: boolean }> {
  const to = ctx.config().offsite?.to;
  if (!to) return { ...(await (await ctx.store.repositoryFor('offsite')).info()), locked: false }; // NOT_FOUND: no offsite copy set up
  const key = repositoryLocationKey(to);
  ctx.store.unlocked.set(key, password);
  ctx.store.dropOffsite(); // opened again with this password
  try {
    const info = await (await ctx.store.repositoryFor('offsite')).info();
    if (remember) rememberPassword(ctx, to, password);
    ctx.logger.info('offsite copy unlocked', { to, remembered: Boolean(remember) });
    return { ...info, locked: false };
  } catch (e) {
    ctx.store.unlocked.delete(key);
    throw e;
  }
}

/** repository.info / unlock / changePassword / newRecoveryKit. */
export const repositoryKeyHandlers: HandlerFactory = (ctx) => ({
  'repository.info': async () => repositoryInfo(ctx),
  'repository.unlock': async ({ password, remember, source }) => {
    if (source === 'offsite') return unlockOffsite(ctx, password, remember);
    const path = repositoryLocationKey(ctx.config().repository);
    const given = ctx.store.unlocked;
    given.set(path, password);
    try {
      const info = await (await ctx.store.repository()).info();
      if (remember) rememberPassword(ctx, path, password);
      ctx.logger.info('repository unlocked', { path, remembered: Boolean(remember) });
      return { ...info, locked: false };
    } catch (e) {
      given.delete(path);
      throw e;
    }
  },
  'repository.changePassword': async ({ password }) => {
    const path = repositoryLocationKey(ctx.config().repository);
    const repo = await ctx.store.repository();
    await repo.changePassword(password);
    if (ctx.store.unlocked.has(path)) ctx.store.unlocked.set(path, password);
    if (ctx.secrets.get(repositoryPasswordKey(path)) !== undefined) rememberPassword(ctx, path, password);
    ctx.logger.info('repository password changed', { path });
    return { ...(await repo.info()), locked: false };
  },
  'repository.newRecoveryKit': async () => {
    const repo = await ctx.store.repository();
    const k = await repo.addKey({ kind: 'recovery' });
    ctx.logger.info('new recovery key made', { path: repo.path, keyId: k.id });
    return { text: recoveryKitText(await repo.info(), k.recoveryKey!), keyId: k.id };
  },
});

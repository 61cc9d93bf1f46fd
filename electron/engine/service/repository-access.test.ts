import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { systemClock } from '../core/clock.js';
import { nullLogger } from '../core/logger.js';
import type { SecretStore } from '../core/secrets.js';
import type { EngineBase } from './engine-context.js';
import { RepositoryAccess, repositoryLocationKey, repositoryPasswordKey } from './repository-access.js';

/** A secret store in memory. */
function memorySecrets(): SecretStore & { all: Map<string, string> } {
  const all = new Map<string, string>();
  return { all, get: (k) => all.get(k), set: (k, v) => (v === undefined ? all.delete(k) : all.set(k, v)), problem: () => undefined };
}

describe('repository passwords are keyed by location', () => {
  it('an s3:// repository by its normalised URL, never resolved as a folder of the working directory', () => {
    expect(repositoryPasswordKey('s3://office-backup/site-a/')).toBe('repository.password:s3://office-backup/site-a');
    expect(repositoryLocationKey('s3://office-backup//site-a')).toBe('s3://office-backup/site-a');
    expect(repositoryLocationKey('s3://office-backup')).toBe('s3://office-backup');
    expect(repositoryPasswordKey('s3://office-backup/site-a')).not.toContain(process.cwd());
    expect(repositoryPasswordKey('repo/here')).toBe(`repository.password:${resolve('repo/here')}`);
  });

  it('a password remembered for an offsite repository is found again under any spelling of its URL', async () => {
    const secrets = memorySecrets();
    const base = { clock: systemClock, logger: nullLogger, secrets, config: () => ({ repository: 's3://office-backup/site-a' }) } as unknown as EngineBase;
    const access = new RepositoryAccess(base, () => {});
    secrets.set(repositoryPasswordKey('s3://office-backup/site-a/'), 'correct horse');
    expect(await access.passwordSource('s3://office-backup//site-a')()).toBe('correct horse');
    // one given to this engine (Unlock) is found the same way
    access.unlocked.set(repositoryLocationKey('s3://office-backup/site-a'), 'given');
    expect(await access.passwordSource('s3://office-backup/site-a/')()).toBe('given');
  });
});

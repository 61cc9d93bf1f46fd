import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import { OWNER_FILE_MODE, makeOwnerOnly } from './owner-only.js';

/** Name of the secrets file inside the data folder. */
export const SECRETS_FILE = 'secrets.json';
/** Key of the SMTP password. */
export const SMTP_PASSWORD = 'smtp.password';
/** Keys of the scheduled offsite copy's S3 user (`twinsnap offsite schedule`). */
export const OFFSITE_ACCESS_KEY_ID = 'offsite.accessKeyId';
export const OFFSITE_SECRET_ACCESS_KEY = 'offsite.secretAccessKey';

/**
 * Encrypts secrets at rest. The desktop app passes one backed by Electron's `safeStorage` (the
 * OS keychain / DPAPI / libsecret; see electron/main/secret-codec.ts); headless processes have
 * none, and secrets are kept as they are in the owner-only (0600) secrets file.
 */
export interface SecretCodec {
  /** Stored with each value, so a reader knows whether it can decode it. */
  readonly kind: string;
  encrypt(plain: string): string;
  decrypt(stored: string): string;
}

/** Secrets kept out of `config.json` (and never returned over the API). */
export interface SecretStore {
  get(key: string): string | undefined;
  /** Stores `value`, or removes the key when undefined. */
  set(key: string, value: string | undefined): void;
  /** Why a stored value could not be read (e.g. encrypted by the desktop app's keychain), if so. */
  problem(key: string): string | undefined;
}

type Stored = { kind: string; value: string };

/** The secret store in `<dataDir>/secrets.json` (0600), values encoded by `codec` when given. */
export function fileSecretStore(dataDir: string, codec?: SecretCodec): SecretStore {
  const file = join(dataDir, SECRETS_FILE);
  const read = (): Record<string, Stored> => {
    if (!existsSync(file)) return {};
    makeOwnerOnly(file);
    try {
      const j = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; secrets?: Record<string, Stored> };
      return j.secrets ?? {};
    } catch (cause) {
      throw new AppError('CONFIG_INVALID', `secrets file '${file}' is not valid JSON: ${(cause as Error).message}`, { cause, details: { file } });
    }
  };
  const write = (all: Record<string, Stored>) => {
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify({ version: 1, secrets: all }, null, 2)}\n`, { mode: OWNER_FILE_MODE });
    makeOwnerOnly(tmp);
    renameSync(tmp, file);
  };
  const decode = (s: Stored): { value?: string; problem?: string } => {
    if (s.kind === 'plain') return { value: s.value };
    if (codec && s.kind === codec.kind) {
      try {
        return { value: codec.decrypt(s.value) };
      } catch (e) {
        return { problem: `it could not be decrypted: ${(e as Error).message}` };
      }
    }
    return { problem: `it was saved encrypted (${s.kind}) by the desktop app, which this process cannot decrypt: enter it again here` };
  };
  return {
    get: (key) => {
      const s = read()[key];
      return s ? decode(s).value : undefined;
    },
    problem: (key) => {
      const s = read()[key];
      return s ? decode(s).problem : undefined;
    },
    set: (key, value) => {
      const all = read();
      if (value === undefined) {
        if (!(key in all)) return;
        delete all[key];
      } else all[key] = codec ? { kind: codec.kind, value: codec.encrypt(value) } : { kind: 'plain', value };
      write(all);
    },
  };
}

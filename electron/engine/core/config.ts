import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../shared/errors/app-error.js';
import type { Settings } from '../../../shared/domain/engine.js';
import { OWNER_DIR_MODE, OWNER_FILE_MODE, makeOwnerOnly } from './owner-only.js';
import { SMTP_PASSWORD, type SecretStore } from './secrets.js';

const emailSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  secure: z.boolean(),
  from: z.string().min(3),
  to: z.string().min(3),
  user: z.string().optional(),
  /** Only in configs written before secrets moved out: read once, moved to the secret store (see migrateSecrets). */
  password: z.string().optional(),
});

/** Schema of `config.json` in the app data folder. Unknown keys are rejected (typos surface). */
export const configSchema = z.strictObject({
  version: z.literal(1),
  repository: z.string().min(1),
  vmrunPath: z.string().min(1).optional(),
  powershellPath: z.string().min(1).optional(),
  vmFolders: z.array(z.string().min(1)).default([]),
  maxConcurrentTwins: z.number().int().min(1).max(16).default(1),
  theme: z.enum(['light', 'dark', 'system']).default('system'),
  /** Scheduler tuning; edited in config.json (the defaults suit almost everyone). */
  scheduler: z
    .strictObject({
      /** Local time of the daily retention + GC + light verify, "HH:MM" (24 h). */
      maintenanceAt: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a 24-hour time such as 03:30')
        .default('03:30'),
      /** How long after a missed slot a backup still runs once at start-up (hours, 0 = never). */
      catchUpGraceHours: z.number().min(0).max(720).default(24),
    })
    .default({ maintenanceAt: '03:30', catchUpGraceHours: 24 }),
  notifications: z
    .strictObject({
      onSuccess: z.boolean().default(false),
      email: emailSchema.optional(),
      webhookUrl: z.string().url().optional(),
    })
    .default({ onSuccess: false }),
  /**
   * The scheduled offsite copy of the repository (`twinsnap offsite schedule`): run after the daily
   * maintenance, then a prune of what retention forgot; set there or on the Repository page
   * (`offsite.configure`). Keys: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the process that
   * runs the scheduler, else the ones kept in the secret store (never here).
   */
  offsite: z
    .strictObject({
      to: z.string().regex(/^s3:\/\/[a-z0-9]/, 's3://BUCKET/PREFIX'),
      endpoint: z.string().url().optional(),
      /** The bucket's region (default `AWS_REGION`, else us-east-1) and path-style addressing (default: on with an endpoint), as set in the app. */
      region: z.string().min(1).max(64).optional(),
      pathStyle: z.boolean().optional(),
      lockDays: z.number().positive().max(36500).optional(),
      lockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']).optional(),
      limitRate: z.number().int().min(1024).optional(),
    })
    .optional(),
});

/** The validated app configuration. */
export type AppConfig = z.infer<typeof configSchema>;

/** Name of the config file inside the data folder. */
export const CONFIG_FILE = 'config.json';

/** The configuration of a fresh install: a repository inside the data folder. */
export function defaultConfig(dataDir: string): AppConfig {
  return configSchema.parse({ version: 1, repository: join(dataDir, 'repository') });
}

/**
 * Loads `config.json` from `dataDir`, creating it with defaults on first run. A malformed file
 * is a CONFIG_INVALID error naming the file and the field; it is never overwritten.
 */
export function loadConfig(dataDir: string): AppConfig {
  const file = join(dataDir, CONFIG_FILE);
  if (!existsSync(file)) {
    const cfg = defaultConfig(dataDir);
    saveConfig(dataDir, cfg);
    return cfg;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new AppError('CONFIG_INVALID', `config file '${file}' is not valid JSON: ${(cause as Error).message}`, {
      cause,
      details: { file },
    });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(root)';
    throw new AppError('CONFIG_INVALID', `config file '${file}': field '${field}': ${issue?.message ?? 'invalid'}`, {
      details: { file, field, issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  makeOwnerOnly(file);
  const cfg = parsed.data;
  cfg.repository = resolve(dataDir, cfg.repository);
  return cfg;
}

/** Writes the config atomically (temp file + rename), readable by its owner only (0600), never with a password in it. */
export function saveConfig(dataDir: string, cfg: AppConfig): void {
  const file = join(dataDir, CONFIG_FILE);
  mkdirSync(dirname(file), { recursive: true, mode: OWNER_DIR_MODE });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(configSchema.parse(withoutPassword(cfg)), null, 2)}\n`, { mode: OWNER_FILE_MODE });
  makeOwnerOnly(tmp);
  renameSync(tmp, file);
}

/** The config without the SMTP password (it belongs in the secret store). */
export function withoutPassword(cfg: AppConfig): AppConfig {
  if (cfg.notifications.email?.password === undefined) return cfg;
  const { password: _p, ...email } = cfg.notifications.email;
  return { ...cfg, notifications: { ...cfg.notifications, email } };
}

/**
 * Moves a password found in `config.json` (written by an older version) into the secret store
 * and rewrites the config without it. Returns the config without the password.
 */
export function migrateSecrets(dataDir: string, cfg: AppConfig, secrets: SecretStore): AppConfig {
  const pw = cfg.notifications.email?.password;
  if (pw === undefined) return cfg;
  secrets.set(SMTP_PASSWORD, pw);
  const next = withoutPassword(cfg);
  saveConfig(dataDir, next);
  return next;
}

/** The Settings view of a config (what the UI edits): never a password, only whether one is stored. */
export function toSettings(cfg: AppConfig, secrets?: SecretStore): Settings {
  const { version: _v, ...rest } = withoutPassword(cfg);
  const { email, ...n } = rest.notifications;
  return { ...rest, notifications: { ...n, ...(email ? { email: { ...email, passwordSet: Boolean(secrets?.get(SMTP_PASSWORD)) } } : {}) } };
}

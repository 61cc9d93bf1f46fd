import { z } from 'zod';
import { EXISTING_FILE_POLICIES, isAbsoluteHostPath } from '../domain/files.js';

/** Bounded identifiers and names: nothing unbounded crosses the boundary. */
const name = z.string().min(1).max(512);
/** A guest as the user names it: its id (`vmware:…`, `hyperv:…`, `name:…`) or its display name, when unique. */
const guestRef = z.string().min(1).max(520);
const id = z.string().min(1).max(200);
const path = z.string().min(1).max(4096);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');
const weekdays = z.array(z.number().int().min(0).max(6)).max(7).optional();
const count = z.number().int().min(0).max(100000).optional();

/** Where a restored VM's network adapters go (see shared/domain/guest.ts RestoreNetwork). */
export const restoreNetworkSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('disconnected') }),
  z.strictObject({ kind: z.literal('original') }),
  z.strictObject({ kind: z.literal('network'), name: z.string().min(1).max(256) }),
]);

/** A retention policy (see shared/domain/policy.ts). */
export const retentionPolicySchema = z.strictObject({
  keepLast: count,
  keepHourly: count,
  keepDaily: count,
  keepWeekly: count,
  keepMonthly: count,
  keepYearly: count,
  keepWithinDays: z.number().min(0).max(36500).optional(),
});

/** A schedule (see shared/domain/policy.ts). */
export const scheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('off') }),
  z.strictObject({ kind: z.literal('times'), times: z.array(hhmm).min(1).max(48), weekdays }),
  z.strictObject({
    kind: z.literal('interval'),
    everyHours: z.number().int().min(1).max(24),
    from: hhmm,
    to: hhmm,
    weekdays,
  }),
  z.strictObject({ kind: z.literal('cron'), expression: z.string().min(9).max(200) }),
]);

const settingsPatch = z.strictObject({
  repository: path.optional(),
  vmrunPath: path.optional(),
  powershellPath: path.optional(),
  vmFolders: z.array(path).max(100).optional(),
  maxConcurrentTwins: z.number().int().min(1).max(16).optional(),
  theme: z.enum(['light', 'dark', 'system']).optional(),
  notifications: z
    .strictObject({
      onSuccess: z.boolean(),
      email: z
        .strictObject({
          host: z.string().min(1).max(255),
          port: z.number().int().min(1).max(65535),
          secure: z.boolean(),
          from: z.string().min(3).max(320),
          to: z.string().min(3).max(2000),
          user: z.string().max(320).optional(),
          password: z.string().max(1000).optional(),
        })
        .optional(),
      webhookUrl: z.url().max(2000).optional(),
    })
    .optional(),
});

/** Where restore points are read from: the repository in use (default) or its offsite copy (the configured `s3://` destination). */
const source = z.enum(['local', 'offsite']).optional();

/** An offsite destination as the Repository page enters it (`s3://BUCKET/PREFIX` plus how to reach it). */
const offsiteDestination = z.strictObject({
  to: z
    .string()
    .max(1100)
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'expected s3://BUCKET/PREFIX (bucket: 3–63 lowercase letters, digits, dots, hyphens)'),
  endpoint: z
    .string()
    .max(2000)
    .regex(/^https?:\/\/[^\s/]+/, 'an http(s):// URL')
    .optional(),
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, 'a region such as us-east-1')
    .optional(),
  pathStyle: z.boolean().optional(),
  /** Both or neither: without them, the keys already stored are used. */
  accessKeyId: z.string().min(1).max(256).optional(),
  secretAccessKey: z.string().min(1).max(1024).optional(),
  /** Object Lock: days every copied point stays undeletable (absent: off). */
  lockDays: z.number().int().min(1).max(36500).optional(),
  lockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']).optional(),
});

/**
 * Request schema of every engine method. Requests are validated with these at every transport
 * before they reach the engine. The key set is the method list of the contract.
 */
/** A repository password or recovery key (never logged). */
const repoPassword = z.string().min(1).max(1024);

export const requestSchemas = {
  'engine.status': z.strictObject({}),
  'guests.list': z.strictObject({ hypervisor: z.enum(['vmware', 'hyperv']).optional(), refresh: z.boolean().optional() }),
  /** The one place an id or a name becomes a guest (USAGE listing the candidates when a name is ambiguous). */
  'guests.resolve': z.strictObject({ guest: guestRef }),
  'jobs.backupNow': z.strictObject({
    guests: z.array(guestRef).min(1).max(200),
    consistency: z.enum(['require-clean', 'allow-crash']).optional(),
    verify: z.boolean().optional(),
  }),
  'jobs.list': z.strictObject({ guest: guestRef.optional(), limit: z.number().int().min(1).max(10000).optional() }),
  'jobs.get': z.strictObject({ jobId: id }),
  'jobs.log': z.strictObject({ jobId: id }),
  'jobs.cancel': z.strictObject({ jobId: id }),
  /** Waits until a backup this engine started ends; its outcome with metrics (JOB_NOT_FOUND for a job of another engine). */
  'jobs.wait': z.strictObject({ jobId: id }),
  'snapshots.list': z.strictObject({ guest: guestRef.optional(), source }),
  'snapshots.verify': z.strictObject({ snapshotId: id, full: z.boolean().optional() }),
  'snapshots.forget': z.strictObject({ snapshotId: id }),
  'files.list': z.strictObject({ snapshotId: id, path: z.string().max(4096), source }),
  'files.find': z.strictObject({ snapshotId: id, pattern: z.string().min(1).max(512), limit: z.number().int().min(1).max(10000).optional(), source }),
  'files.read': z.strictObject({
    snapshotId: id,
    source,
    path,
    offset: z.number().int().min(0).optional(),
    length: z
      .number()
      .int()
      .min(0)
      .max(16 * 1024 * 1024)
      .optional(),
  }),
  'files.restore': z.strictObject({
    snapshotId: id,
    source,
    paths: z.array(path).min(1).max(10000),
    /** An absolute folder on the engine's host (a relative one would depend on the engine's working folder). */
    to: path.refine(isAbsoluteHostPath, 'the target folder must be an absolute path (e.g. /home/me/restored or C:\\Restored)'),
    /** What to do with files that already exist there (default keep-both). */
    existing: z.enum(EXISTING_FILE_POLICIES).optional(),
  }),
  'restore.start': z.strictObject({
    snapshotId: id,
    source,
    mode: z.enum(['new-vm', 'replace', 'disks']),
    to: path,
    format: z.enum(['original', 'raw', 'vmdk', 'vhdx', 'qcow2']).optional(),
    newName: name.optional(),
    confirmName: name.optional(),
    /** Whole VM only: where its network adapters go (default: new-vm disconnected, replace the original's networks). */
    network: restoreNetworkSchema.optional(),
  }),
  /** The networks the host of a restore point's hypervisor offers to a restored VM (the wizard's Network choice). */
  'restore.networks': z.strictObject({ snapshotId: id, source }),
  /** Powers on the VM that restore.start (mode new-vm) made in the folder `to`. */
  'restore.startVm': z.strictObject({ to: path }),
  'schedules.list': z.strictObject({}),
  'schedules.set': z.strictObject({
    guest: guestRef,
    schedule: scheduleSchema,
    timeZone: z.string().max(100).optional(),
    consistency: z.enum(['require-clean', 'allow-crash']).optional(),
    verify: z.boolean().optional(),
  }),
  'schedules.preview': z.strictObject({ schedule: scheduleSchema, timeZone: z.string().max(100).optional(), count: z.number().int().min(1).max(50).optional() }),
  'retention.get': z.strictObject({ guest: guestRef }),
  'retention.set': z.strictObject({ guest: guestRef, policy: retentionPolicySchema }),
  'retention.preview': z.strictObject({ guest: guestRef, policy: retentionPolicySchema }),
  'retention.apply': z.strictObject({ guest: guestRef, policy: retentionPolicySchema }),
  'repository.stats': z.strictObject({}),
  'repository.verify': z.strictObject({ full: z.boolean().optional() }),
  'repository.gc': z.strictObject({}),
  'offsite.status': z.strictObject({}),
  /** Saves the destination for the daily copy (keys into the secret store, never config.json); `dailyAt` moves the daily maintenance it runs after. */
  'offsite.configure': z.strictObject({ destination: offsiteDestination, dailyAt: hhmm.optional(), limitRate: z.number().int().min(1024).optional() }),
  /** Tries a destination (given, or the saved one when absent) without saving it. */
  'offsite.test': z.strictObject({ destination: offsiteDestination.optional() }),
  'offsite.copyNow': z.strictObject({}),
  'offsite.remove': z.strictObject({}),
  'offsite.estimate': z.strictObject({ snapshotId: id }),
  'catalog.rebuild': z.strictObject({}),
  'settings.get': z.strictObject({}),
  'settings.set': z.strictObject({ patch: settingsPatch }),
  'notifications.test': z.strictObject({ channel: z.enum(['email', 'webhook']) }),
  'service.status': z.strictObject({}),
  /** Runs the field self-test against one (throwaway) VM; minutes. */
  'doctor.run': z.strictObject({ vm: name, hypervisor: z.enum(['vmware', 'hyperv']).optional() }),
  /** The last doctor report per hypervisor. */
  'doctor.last': z.strictObject({}),
  /** Repositories from the UI: what a folder is, create a new repository there, connect an existing one. */
  'repository.check': z.strictObject({ path }),
  /** With `password`: an encrypted repository (its recovery kit comes back once). */
  'repository.create': z.strictObject({ path, password: repoPassword.optional(), remember: z.boolean().optional() }),
  /** An encrypted repository needs its password (or recovery key). */
  'repository.connect': z.strictObject({ path, password: repoPassword.optional(), remember: z.boolean().optional() }),
  /** Plain or encrypted (with what), locked or not; no password needed. */
  'repository.info': z.strictObject({}),
  /**
   * Opens the encrypted repository in use (or, `source: 'offsite'`, the configured offsite copy: disaster recovery with the local repository gone);
   * `remember` keeps the password for scheduled backups (the app: Electron safeStorage).
   */
  'repository.unlock': z.strictObject({ password: repoPassword, remember: z.boolean().optional(), source }),
  /** Changes the password the repository was unlocked with (rewraps its key; no backup is rewritten). */
  'repository.changePassword': z.strictObject({ password: repoPassword }),
  /** Makes a new recovery key and returns its kit (the old recovery keys keep working until removed). */
  'repository.newRecoveryKit': z.strictObject({}),
} as const;

/** Names of all engine methods. */
export type EngineMethod = keyof typeof requestSchemas;
/** The request type of a method, derived from its schema. */
export type Req<M extends EngineMethod> = z.infer<(typeof requestSchemas)[M]>;

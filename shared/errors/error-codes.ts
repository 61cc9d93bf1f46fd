/**
 * The one registry of error codes. Every error that crosses a boundary carries one of these.
 * `kind` tells the UI and the scheduler what to do with it; `retryable` whether a retry may help.
 */
export const ERROR_KINDS = ['user', 'environment', 'transient', 'integrity', 'cancelled', 'internal'] as const;
/** How an error should be treated by callers and shown to users. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

const def = <K extends ErrorKind>(kind: K, retryable = false) => ({ kind, retryable });

/** Code → metadata. Add new codes here; never reuse a code for a different meaning. */
export const ERROR_CODES = {
  // request / contract
  INVALID_REQUEST: def('user'),
  UNKNOWN_METHOD: def('user'),
  UNAUTHORIZED: def('user'),
  NOT_FOUND: def('user'),
  ALREADY_EXISTS: def('user'),
  USAGE: def('user'),
  NOT_IMPLEMENTED: def('internal'),
  ENGINE_UNREACHABLE: def('transient', true),
  // configuration
  CONFIG_INVALID: def('user'),
  SCHEDULE_INVALID: def('user'),
  RETENTION_INVALID: def('user'),
  // environment
  PERMISSION_DENIED: def('environment'),
  DISK_FULL: def('environment'),
  FILE_TOO_LARGE: def('environment'),
  PATH_UNSAFE: def('user'),
  TOOL_NOT_FOUND: def('environment'),
  HV_NOT_INSTALLED: def('environment'),
  HV_NOT_ELEVATED: def('environment'),
  HV_VM_NOT_FOUND: def('user'),
  HV_VM_LOCKED: def('environment'),
  HV_VM_BAD_STATE: def('environment'),
  HV_TOOLS_NOT_RUNNING: def('environment'),
  HV_ENCRYPTED_VM: def('environment'),
  HV_PLAYER_UNSUPPORTED: def('environment'),
  HV_COMMAND_FAILED: def('environment'),
  HV_COMMAND_TIMEOUT: def('transient', true),
  HV_SHUTDOWN_TIMEOUT: def('environment'),
  HV_TWIN_NOT_ISOLATED: def('environment'),
  /** A restore asked to connect the VM to a network (switch, vmnet, LAN segment) this host does not have. */
  HV_NETWORK_NOT_FOUND: def('user'),
  /** The guest looks like a domain controller: Microsoft supports only Production checkpoints for it (twins need Standard). */
  HV_DOMAIN_CONTROLLER: def('user'),
  PREFLIGHT_FAILED: def('environment'),
  /** `twinsnap doctor` ran and at least one of its checks did not hold on this host. */
  DOCTOR_CHECK_FAILED: def('environment'),
  INSUFFICIENT_MEMORY: def('environment', true),
  // disk images and filesystems
  DISK_FORMAT_UNKNOWN: def('user'),
  DISK_CORRUPT: def('integrity'),
  DISK_UNSUPPORTED: def('user'),
  DISK_PARENT_MISSING: def('environment'),
  DISK_PARENT_MISMATCH: def('integrity'),
  DISK_CHAIN_CYCLE: def('integrity'),
  DISK_CHAIN_UNSAFE: def('user'),
  FS_UNSUPPORTED: def('user'),
  FS_CORRUPT: def('integrity'),
  // repository and catalog
  REPO_NOT_FOUND: def('environment'),
  REPO_LOCKED: def('transient', true),
  REPO_READ_ONLY: def('environment'),
  REPO_CORRUPT: def('integrity'),
  /** The repository is encrypted and no password (or recovery key) was given. */
  REPO_PASSWORD_REQUIRED: def('user'),
  /** No key of the encrypted repository opens with the password given. */
  REPO_PASSWORD_WRONG: def('user'),
  CHUNK_MISSING: def('integrity'),
  CHUNK_CORRUPT: def('integrity'),
  MANIFEST_CORRUPT: def('integrity'),
  CATALOG_CORRUPT: def('integrity'),
  SNAPSHOT_NOT_FOUND: def('user'),
  /** Some items of a file restore failed (the others were restored; the result lists them). */
  RESTORE_INCOMPLETE: def('environment'),
  // offsite copies (S3-compatible object storage); every message names the destination
  /** The keys were refused (unknown access key, wrong secret, no permission on the bucket). */
  OFFSITE_AUTH_FAILED: def('user'),
  OFFSITE_BUCKET_NOT_FOUND: def('user'),
  /** Immutability was asked for but the bucket was created without Object Lock. */
  OFFSITE_NO_OBJECT_LOCK: def('user'),
  /** The bucket's or user's quota is used up. */
  OFFSITE_QUOTA_EXCEEDED: def('environment'),
  /** The endpoint did not answer or dropped the connection (the next run resumes). */
  OFFSITE_UNREACHABLE: def('transient', true),
  /** An object is under Object Lock retention and cannot be deleted yet. */
  OFFSITE_LOCKED: def('environment'),
  OFFSITE_FAILED: def('environment', true),
  // jobs
  JOB_ALREADY_RUNNING: def('user'),
  JOB_NOT_FOUND: def('user'),
  CANCELLED: def('cancelled'),
  TIMEOUT: def('transient', true),
  NOTIFY_FAILED: def('environment', true),
  INTERNAL: def('internal'),
} as const satisfies Record<string, { kind: ErrorKind; retryable: boolean }>;

/** Any registered error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is a registered error code. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** The kind of a registered code. */
export function errorKind(code: ErrorCode): ErrorKind {
  return ERROR_CODES[code].kind;
}

import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import { ERROR_CODES, type ErrorCode, type ErrorKind } from '../../../shared/errors/error-codes.js';

/** What the UI says about an error: a short title, the engine's detail, and the fix. */
export interface FriendlyError {
  code: ErrorCode;
  title: string;
  /** The engine's own (specific) message. */
  detail: string;
  /** What the admin can do about it. */
  action: string;
  /** True when the feature simply is not there yet (shown as neutral info, not as a failure). */
  notAvailable: boolean;
  retryable: boolean;
}

type Entry = { title: string; action: string };

/** Fallback text by kind, for codes added to the registry after this table was written. */
const BY_KIND: Record<ErrorKind, Entry> = {
  user: { title: 'TwinSnap could not do that', action: 'Check what you entered or chose and try again.' },
  environment: { title: 'Something on this computer prevents it', action: 'Read the detail below, fix it, then retry.' },
  transient: { title: 'A temporary problem occurred', action: 'Retry in a moment.' },
  integrity: { title: 'Backup data is damaged', action: 'Run Verify on the Repository page; restore from another point.' },
  cancelled: { title: 'Cancelled', action: 'Nothing to do; start it again when you want.' },
  internal: { title: 'Something went wrong inside TwinSnap', action: 'Retry; if it persists, send the log file (Settings) to support.' },
};

/** ErrorCode → words a small-office admin understands, with the action that fixes it (unlisted codes fall back by kind). */
export const ERROR_MESSAGES: Partial<Record<ErrorCode, Entry>> = {
  INVALID_REQUEST: { title: 'TwinSnap rejected the request', action: 'Check the values you entered and try again.' },
  UNKNOWN_METHOD: { title: 'This version of the engine does not know that action', action: 'Update TwinSnap so the app and the engine match.' },
  UNAUTHORIZED: { title: 'Access denied', action: 'Open the address printed by `twinsnap serve` again; it carries the access token.' },
  NOT_FOUND: { title: 'Not found', action: 'Refresh the page; it may have been removed meanwhile.' },
  ALREADY_EXISTS: { title: 'It already exists', action: 'Choose another name or location.' },
  USAGE: { title: 'Incorrect use', action: 'Check the values you entered.' },
  NOT_IMPLEMENTED: { title: 'Not available yet', action: 'This feature is not part of this TwinSnap build yet.' },
  ENGINE_UNREACHABLE: { title: 'The TwinSnap engine is not reachable', action: 'TwinSnap reconnects by itself; if it does not, restart TwinSnap (or `twinsnap serve`).' },
  CONFIG_INVALID: { title: 'The settings are not valid', action: 'Correct the highlighted setting, or fix the named field in the config file.' },
  SCHEDULE_INVALID: { title: 'The schedule is not valid', action: 'Use times like 02:00 and pick at least one weekday.' },
  RETENTION_INVALID: { title: 'The retention rules are not valid', action: 'Keep at least one rule above zero.' },
  PERMISSION_DENIED: { title: 'Permission denied', action: 'Run TwinSnap as a user who may read and write that folder (or a member of Hyper-V Administrators).' },
  DISK_FULL: { title: 'The disk is full', action: 'Free space on the repository disk (forget old backups and run garbage collection) or choose a larger disk.' },
  PATH_UNSAFE: { title: 'That path cannot be used', action: 'Choose a folder outside the repository and the guest’s own folder.' },
  TOOL_NOT_FOUND: { title: 'A required tool was not found', action: 'Install it or set its path in Settings.' },
  HV_NOT_INSTALLED: { title: 'The hypervisor is not installed or not found', action: 'Install VMware Workstation Pro or enable Hyper-V, or set the tool path in Settings.' },
  HV_NOT_ELEVATED: { title: 'Hyper-V needs more rights', action: 'Add your user to the Hyper-V Administrators group, sign out and in again, then retry.' },
  HV_VM_NOT_FOUND: { title: 'The guest was not found', action: 'Refresh the guest list; it may have been renamed, moved or deleted.' },
  HV_VM_LOCKED: { title: 'The guest is in use by another program', action: 'Close other consoles or backup tools using it, then retry.' },
  HV_VM_BAD_STATE: { title: 'The guest is in a state that does not allow this', action: 'Wait until it is fully running or fully off, then retry.' },
  HV_TOOLS_NOT_RUNNING: { title: 'Guest tools are not running', action: 'Start the guest fully or install VMware Tools / Integration Services, then retry.' },
  HV_ENCRYPTED_VM: { title: 'The guest is encrypted', action: 'Encrypted guests cannot be twinned; back it up while it is off (cold) instead.' },
  HV_PLAYER_UNSUPPORTED: { title: 'VMware Player is not supported', action: 'Twin backups need VMware Workstation Pro.' },
  HV_COMMAND_FAILED: { title: 'The hypervisor refused the command', action: 'Look at the job log for the hypervisor’s own message.' },
  HV_COMMAND_TIMEOUT: { title: 'The hypervisor did not answer in time', action: 'Retry; if it happens again, check that the host is not overloaded.' },
  HV_TWIN_NOT_ISOLATED: {
    title: 'The twin could not be isolated from the network',
    action: 'TwinSnap powered the twin off at once; the backup fell back or failed as configured. Run twinsnap doctor on this host.',
  },
  HV_NETWORK_NOT_FOUND: { title: 'That network does not exist on this host', action: 'Pick one of the listed networks, or leave the restored VM disconnected.' },
  HV_DOMAIN_CONTROLLER: {
    title: 'The guest is a domain controller',
    action: 'Microsoft supports only Production checkpoints for domain controllers; back it up from inside the guest, or set its policy to allow crash-consistent backups to accept the risk.',
  },
  HV_SHUTDOWN_TIMEOUT: { title: 'The twin did not shut down in time', action: 'Check the guest’s shutdown settings (e.g. pending updates); the backup fell back or failed as configured.' },
  DOCTOR_CHECK_FAILED: { title: 'A doctor check failed on this host', action: 'Read the failed checks in the doctor report; do not back up production on this host until they hold.' },
  PREFLIGHT_FAILED: { title: 'Pre-flight checks failed', action: 'Fix the listed problem and retry.' },
  INSUFFICIENT_MEMORY: { title: 'Not enough free memory for the twin', action: 'Close other guests or programs, or schedule this guest at a quieter time.' },
  DISK_FORMAT_UNKNOWN: { title: 'Unknown disk format', action: 'Only VMDK, VHDX, VHD, qcow2 and raw disks are supported.' },
  DISK_CORRUPT: { title: 'A disk image is damaged', action: 'Run a repository verify and restore from an earlier point.' },
  DISK_UNSUPPORTED: { title: 'This disk type is not supported', action: 'See the job log for which disk feature is not supported.' },
  DISK_PARENT_MISSING: { title: 'A parent disk is missing', action: 'Restore the missing parent disk file, or consolidate the guest’s snapshots.' },
  DISK_PARENT_MISMATCH: { title: 'A disk does not match its parent', action: 'Consolidate the guest’s snapshots in the hypervisor.' },
  DISK_CHAIN_CYCLE: { title: 'The disk chain is broken', action: 'Consolidate the guest’s snapshots in the hypervisor.' },
  DISK_CHAIN_UNSAFE: {
    title: 'A disk image points outside its folder',
    action: 'Check the named file: a disk may only use parent and extent files in its own folder (the command line takes --allow-chain-dir for a folder you trust).',
  },
  FILE_TOO_LARGE: { title: 'The file system cannot hold a file that large', action: 'Write it to another file system, or choose a sparse image format (qcow2, vhdx).' },
  FS_UNSUPPORTED: { title: 'This file system cannot be browsed', action: 'Restore the whole disk instead and open it in the guest.' },
  FS_CORRUPT: { title: 'The file system in this backup is damaged', action: 'Try an earlier restore point or restore the whole disk.' },
  REPO_NOT_FOUND: { title: 'The repository was not found', action: 'Connect the backup disk or share, or choose the repository in Settings.' },
  REPO_LOCKED: { title: 'The repository is busy', action: 'Another TwinSnap task is using it; this retries by itself.' },
  REPO_READ_ONLY: { title: 'The repository is read-only', action: 'Restoring works; to back up, forget or clean up, make the disk or share writable (write-protect switch, share permissions).' },
  REPO_CORRUPT: { title: 'The repository is damaged', action: 'Run Verify on the Repository page and rebuild the catalog.' },
  REPO_PASSWORD_REQUIRED: { title: 'The repository is encrypted', action: 'Unlock it with its password or recovery key on the Repository page.' },
  REPO_PASSWORD_WRONG: { title: 'Wrong repository password', action: 'Enter the password again, or use the recovery key from the recovery kit.' },
  CHUNK_MISSING: { title: 'Backup data is missing', action: 'Run Verify on the Repository page; restore from another point.' },
  CHUNK_CORRUPT: { title: 'Backup data is damaged', action: 'Run Verify on the Repository page; restore from another point.' },
  MANIFEST_CORRUPT: { title: 'A backup’s index is damaged', action: 'Run Verify on the Repository page; restore from another point.' },
  CATALOG_CORRUPT: { title: 'The catalog is damaged', action: 'Rebuild the catalog on the Repository page.' },
  SNAPSHOT_NOT_FOUND: { title: 'That restore point no longer exists', action: 'Refresh the calendar; it may have been forgotten by retention.' },
  RESTORE_INCOMPLETE: { title: 'Some files were not restored', action: 'See the list of failed items; free space or fix permissions on the target and restore them again.' },
  OFFSITE_AUTH_FAILED: { title: 'The storage service refused the keys', action: 'Check the access key ID and secret access key, and that this user may use the bucket, then test again.' },
  OFFSITE_BUCKET_NOT_FOUND: {
    title: 'The bucket does not exist',
    action: 'Check the bucket name, endpoint and region, or create the bucket (with Object Lock if the copies must be undeletable).',
  },
  OFFSITE_NO_OBJECT_LOCK: { title: 'The bucket has no Object Lock', action: 'Use a bucket created with Object Lock (most services cannot add it later), or turn Object Lock off here.' },
  OFFSITE_QUOTA_EXCEEDED: { title: 'The bucket is full', action: 'Raise the quota or free space at the storage provider, then copy again: it resumes where it stopped.' },
  OFFSITE_UNREACHABLE: { title: 'The storage service did not answer', action: 'Check the endpoint URL and the internet connection, then retry: a copy resumes where it stopped.' },
  OFFSITE_LOCKED: { title: 'The copy is locked', action: 'It can be deleted only after its Object Lock date.' },
  OFFSITE_FAILED: { title: 'The storage service reported an error', action: 'Read the detail below and retry: a copy resumes where it stopped.' },
  JOB_ALREADY_RUNNING: { title: 'A job for this guest is already running', action: 'Wait for it to finish (see Jobs) or cancel it.' },
  JOB_NOT_FOUND: { title: 'The job was not found', action: 'Refresh the Jobs page.' },
  CANCELLED: { title: 'Cancelled', action: 'Nothing to do; start it again when you want.' },
  TIMEOUT: { title: 'It took too long', action: 'Retry; if it happens again, check the host’s load.' },
  NOTIFY_FAILED: { title: 'The notification could not be sent', action: 'Check the mail server or webhook settings and use the test button.' },
  INTERNAL: { title: 'Something went wrong inside TwinSnap', action: 'Retry; if it persists, send the log file (Settings) to support.' },
};

/** Turns anything thrown by an engine call into the text the UI shows. */
export function friendlyError(e: unknown): FriendlyError {
  const err = isAppError(e) ? e : new AppError('INTERNAL', e instanceof Error ? e.message : String(e));
  const entry = ERROR_MESSAGES[err.code] ?? BY_KIND[ERROR_CODES[err.code]?.kind ?? 'internal'];
  return {
    code: err.code,
    title: entry.title,
    detail: err.message,
    action: entry.action,
    notAvailable: err.code === 'NOT_IMPLEMENTED' || err.code === 'UNKNOWN_METHOD',
    retryable: err.retryable,
  };
}

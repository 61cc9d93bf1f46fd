import { AppError } from '../../../../shared/errors/app-error.js';
import type { ErrorCode } from '../../../../shared/errors/error-codes.js';
import type { PsAnswer } from './ps-invocation.js';

/**
 * The ONE place where PowerShell / Hyper-V failures become TwinSnap error codes. Inputs: the
 * decoded answer of a TwinSnap script (its `error` carries the exception message, type,
 * FullyQualifiedErrorId and category), stderr (anything there means the script did not even
 * run cleanly) and whether the call timed out. Texts come from reference hyper-v.md (§1.1, §1.5,
 * §1.7, §1.9, §1.10) and from TwinSnap's own `TWINSNAP:<CODE>` throws; tested against recorded
 * outputs in test/fixtures/transcripts/hyperv/.
 */

/** What one call produced. */
export interface PsOutcome {
  answer?: PsAnswer;
  stderr: string;
  timedOut: boolean;
}

/** Finer than an error code: what the adapter branches on. */
export type PsFailureReason =
  | 'timeout'
  | 'not-elevated'
  | 'module-missing'
  | 'vm-not-found'
  | 'network-not-found'
  | 'bad-state'
  | 'shutdown-unavailable'
  | 'prompt'
  | 'merge-timeout'
  | 'import-incompatible'
  | 'nic-connected'
  | 'not-a-twin-folder'
  | 'checkpoint-failed'
  | 'locked'
  | 'memory'
  | 'disk-full'
  | 'no-answer'
  | 'unknown';

/** A classified failure. */
export interface PsFailure {
  code: ErrorCode;
  reason: PsFailureReason;
  toolMessage: string;
  hint: string;
}

interface Rule {
  re: RegExp;
  code: ErrorCode;
  reason: PsFailureReason;
  hint: string;
}

const ELEVATION_HINT = 'twinsnap needs to run elevated (as administrator) or as a member of the local "Hyper-V Administrators" group (sign out and in again after adding the user)';

// First match wins; the haystack is "<fqid> <type> <category> <message>".
const RULES: Rule[] = [
  { re: /TWINSNAP:NOT_ELEVATED/, code: 'HV_NOT_ELEVATED', reason: 'not-elevated', hint: ELEVATION_HINT },
  {
    re: /CommandNotFoundException|is not recognized as the name of a cmdlet|module 'Hyper-V' could not be loaded|Hyper-V\\[\w-]+.*not recognized/i,
    code: 'HV_NOT_INSTALLED',
    reason: 'module-missing',
    hint: 'the hyper-v powershell module is not installed; enable "Hyper-V Module for Windows PowerShell" in windows features',
  },
  {
    re: /TWINSNAP:VM_NOT_FOUND|ObjectNotFound|unable to find a virtual machine|does not resolve to any virtual machine|InvalidParameter.*VMName/i,
    code: 'HV_VM_NOT_FOUND',
    reason: 'vm-not-found',
    hint: 'the vm does not exist (or is hidden because twinsnap is not elevated)',
  },
  {
    re: /TWINSNAP:SHUTDOWN_IC_UNAVAILABLE|Shutdown integration service is unavailable/i,
    code: 'HV_TOOLS_NOT_RUNNING',
    reason: 'shutdown-unavailable',
    hint: 'the shutdown integration service is not running in the guest, so it cannot be shut down cleanly; enable it (Integration Services) and make sure the guest runs it',
  },
  { re: /TWINSNAP:SHUTDOWN_TIMEOUT/, code: 'HV_COMMAND_TIMEOUT', reason: 'timeout', hint: 'the vm did not power off in time after the shutdown request' },
  { re: /TWINSNAP:SHUTDOWN_REFUSED/, code: 'HV_TOOLS_NOT_RUNNING', reason: 'shutdown-unavailable', hint: 'the guest refused the shutdown request of the shutdown integration service' },
  { re: /NonInteractive mode|Read and Prompt functionality is not available/i, code: 'HV_COMMAND_FAILED', reason: 'prompt', hint: 'hyper-v asked a question that a background service cannot answer' },
  {
    re: /TWINSNAP:MERGE_TIMEOUT/,
    code: 'HV_COMMAND_TIMEOUT',
    reason: 'merge-timeout',
    hint: 'the checkpoint merge is still running; it continues in the background — check the vm in hyper-v manager',
  },
  {
    re: /TWINSNAP:IMPORT_INCOMPATIBLE|Unable to import virtual machine due to configuration errors/i,
    code: 'HV_COMMAND_FAILED',
    reason: 'import-incompatible',
    hint: 'hyper-v could not import the twin (configuration incompatible with this host)',
  },
  {
    re: /TWINSNAP:CHECKPOINTS_ON/,
    code: 'HV_COMMAND_FAILED',
    reason: 'checkpoint-failed',
    hint: "the twin's automatic checkpoints could not be switched off, so it was not started (they would be merged under the archive)",
  },
  { re: /TWINSNAP:NETWORK_NOT_FOUND/, code: 'HV_NETWORK_NOT_FOUND', reason: 'network-not-found', hint: 'the virtual switch does not exist on this host' },
  { re: /TWINSNAP:NIC_CONNECTED/, code: 'HV_COMMAND_FAILED', reason: 'nic-connected', hint: 'a twin network adapter could not be disconnected; the twin was not started' },
  { re: /TWINSNAP:NOT_A_TWIN_FOLDER/, code: 'PATH_UNSAFE', reason: 'not-a-twin-folder', hint: 'refusing to delete a folder that twinsnap did not create' },
  {
    re: /TWINSNAP:BAD_STATE|current state|InvalidState|cannot be performed while the (object|virtual machine) is in/i,
    code: 'HV_VM_BAD_STATE',
    reason: 'bad-state',
    hint: 'the vm is not in a state that allows this',
  },
  { re: /UnauthorizedAccess|PermissionDenied|required permission|Access is denied|authorization policy/i, code: 'HV_NOT_ELEVATED', reason: 'not-elevated', hint: ELEVATION_HINT },
  {
    re: /application consistent checkpoint|checkpoint operation failed|Checkpoints are disabled|could not create.*checkpoint/i,
    code: 'HV_COMMAND_FAILED',
    reason: 'checkpoint-failed',
    hint: 'hyper-v could not create the checkpoint (checkpoints disabled, or the guest refused)',
  },
  { re: /being used by another process|locked and cannot be shut down/i, code: 'HV_VM_LOCKED', reason: 'locked', hint: 'the vm or its files are locked by another process' },
  {
    re: /not enough memory|insufficient system resources|Not enough memory in the system/i,
    code: 'INSUFFICIENT_MEMORY',
    reason: 'memory',
    hint: 'the host does not have enough free memory to start the vm',
  },
  { re: /not enough space on the disk|disk is full/i, code: 'DISK_FULL', reason: 'disk-full', hint: 'the disk holding the twin folder is full' },
];

function match(haystack: string, toolMessage: string): PsFailure {
  for (const r of RULES) if (r.re.test(haystack)) return { code: r.code, reason: r.reason, toolMessage, hint: r.hint };
  return { code: 'HV_COMMAND_FAILED', reason: 'unknown', toolMessage, hint: `powershell reported: ${toolMessage.slice(0, 300)}` };
}

/** Classifies one call: undefined for success, else a PsFailure. */
export function classifyPsOutcome(o: PsOutcome): PsFailure | undefined {
  if (o.timedOut) return { code: 'HV_COMMAND_TIMEOUT', reason: 'timeout', toolMessage: '', hint: 'powershell did not answer in time and was restarted' };
  if (o.answer?.ok === true) return undefined;
  if (o.answer?.ok === false) {
    const e = o.answer.error;
    const msg = (e.message ?? '').replace(/^TWINSNAP:\w+\s*/, '') || e.message;
    return match(`${e.fqid ?? ''} ${e.type ?? ''} ${e.category ?? ''} ${e.message ?? ''}`, msg);
  }
  const stderr = o.stderr.trim();
  if (!stderr) return { code: 'HV_COMMAND_FAILED', reason: 'no-answer', toolMessage: '', hint: 'powershell returned no answer (the script did not run)' };
  const f = match(stderr, stderr.split(/\r?\n/)[0]!);
  return f.reason === 'unknown' ? { ...f, reason: 'no-answer' } : f;
}

/** The AppError for a failure: `unable to <action> vm '<name>': <hint>`. */
export function psError(f: PsFailure, action: string, vmName: string): AppError {
  return new AppError(f.code, `unable to ${action} vm '${vmName}': ${f.hint}`, { details: { reason: f.reason, toolMessage: f.toolMessage } });
}

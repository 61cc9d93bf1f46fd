import { AppError } from '../../../../shared/errors/app-error.js';
import type { ErrorCode } from '../../../../shared/errors/error-codes.js';

/**
 * The ONE place where vmrun's output and exit codes become TwinSnap error codes. Facts (reference
 * vmware-workstation.md §1.4–1.5): vmrun prints errors on stdout as `Error: <message>`; success is
 * exit 0; failure is 255 on POSIX and 4294967295 (-1) on Windows; output may use CRLF.
 * Tested against recorded transcripts in test/fixtures/transcripts/vmrun/.
 */

/** One finished (or killed) vmrun call. */
export interface VmrunOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Finer than an error code: what the adapter branches on (idempotent clean-up, retries). */
export type VmrunFailureReason =
  | 'timeout'
  | 'tools-not-running'
  | 'tools-not-ready'
  | 'not-running'
  | 'vm-not-found'
  | 'not-a-vmx'
  | 'encrypted'
  | 'bad-config'
  | 'not-supported'
  | 'player-only'
  | 'invalid-parameter'
  | 'canceled'
  | 'locked'
  | 'already-running'
  | 'snapshot-not-found'
  | 'snapshot-exists'
  | 'permission'
  | 'memory'
  | 'unknown';

/** A classified failure. */
export interface VmrunFailure {
  code: ErrorCode;
  reason: VmrunFailureReason;
  /** vmrun's own words (the `Error:` line), for details and logs. */
  toolMessage: string;
  /** What to tell the user, lowercase and actionable, without the "unable to … vm 'x':" prefix. */
  hint: string;
}

interface Rule {
  re: RegExp;
  code: ErrorCode;
  reason: VmrunFailureReason;
  hint: string;
}

// Order matters: the first match wins (e.g. "password is required" beats "Cannot open VM").
const RULES: Rule[] = [
  {
    re: /password is required/i,
    code: 'HV_ENCRYPTED_VM',
    reason: 'encrypted',
    hint: 'the vm is encrypted; twinsnap cannot rewrite an encrypted configuration — remove the encryption or back it up powered off',
  },
  { re: /unknown file suffix/i, code: 'HV_VM_NOT_FOUND', reason: 'not-a-vmx', hint: 'the path is not a .vmx file' },
  {
    re: /cannot be found|does not exist.*virtual machine|virtual machine.*does not exist/i,
    code: 'HV_VM_NOT_FOUND',
    reason: 'vm-not-found',
    hint: 'the .vmx file does not exist or cannot be read by this user',
  },
  {
    re: /cannot read the virtual machine configuration file/i,
    code: 'HV_COMMAND_FAILED',
    reason: 'bad-config',
    hint: 'vmware cannot read the .vmx file (damaged, or missing config.version / virtualHW.version)',
  },
  {
    re: /VMware Tools are not running/i,
    code: 'HV_TOOLS_NOT_RUNNING',
    reason: 'tools-not-running',
    hint: 'vmware tools are not running in the guest; install or start them so the guest can be shut down cleanly',
  },
  {
    re: /POWEROP_SCRIPTS_NOT_AVAILABLE|\b3009\b/i,
    code: 'HV_TOOLS_NOT_RUNNING',
    reason: 'tools-not-ready',
    hint: 'vmware tools have just started and cannot run power scripts yet; retry in a few seconds',
  },
  {
    re: /VIX_SERVICEPROVIDER_VMWARE_WORKSTATION/i,
    code: 'HV_PLAYER_UNSUPPORTED',
    reason: 'player-only',
    hint: 'only vmware player is installed; twin backups need vmware workstation pro (free for personal use)',
  },
  {
    re: /operation is not supported/i,
    code: 'HV_PLAYER_UNSUPPORTED',
    reason: 'not-supported',
    hint: 'this vmware product does not support the operation (vmware player cannot take snapshots); use vmware workstation pro',
  },
  { re: /not powered on|VM_NOT_RUNNING|is not running/i, code: 'HV_VM_BAD_STATE', reason: 'not-running', hint: 'the vm is not powered on' },
  { re: /already running|VM_IS_RUNNING|is already powered on/i, code: 'HV_VM_BAD_STATE', reason: 'already-running', hint: 'the vm is already running' },
  {
    re: /already locked|FILE_ALREADY_LOCKED|is in use|locked by another/i,
    code: 'HV_VM_LOCKED',
    reason: 'locked',
    hint: 'the vm files are locked (open in the workstation window or another process); close it there and retry',
  },
  { re: /snapshot.*(not found|does not exist|no such)|(no|does not have a) snapshot/i, code: 'HV_COMMAND_FAILED', reason: 'snapshot-not-found', hint: 'the snapshot does not exist' },
  { re: /snapshot.*already exists|NONUNIQUE_NAME|more than one snapshot/i, code: 'HV_COMMAND_FAILED', reason: 'snapshot-exists', hint: 'a snapshot with this name already exists' },
  { re: /parameters was invalid/i, code: 'HV_COMMAND_FAILED', reason: 'invalid-parameter', hint: 'vmrun rejected a parameter (this vmware version may not support the command)' },
  { re: /operation was cancell?ed/i, code: 'HV_COMMAND_FAILED', reason: 'canceled', hint: "vmware cancelled the operation; the cause is in the vm folder's vmware.log" },
  {
    re: /insufficient permissions|access (is )?denied|permission denied/i,
    code: 'PERMISSION_DENIED',
    reason: 'permission',
    hint: 'permission denied; run twinsnap as the user who runs vmware and allow vmrun in the antivirus',
  },
  { re: /not enough (physical )?memory|insufficient memory|out of memory/i, code: 'INSUFFICIENT_MEMORY', reason: 'memory', hint: 'the host does not have enough free memory' },
];

/** Exit codes meaning failure (POSIX 255, Windows 4294967295 = -1). Anything non-zero fails. */
function failedExit(code: number | null): boolean {
  return code !== 0;
}

/** The `Error: …` text of an output, if any (vmrun uses stdout; stderr checked too). */
export function vmrunErrorText(o: Pick<VmrunOutcome, 'stdout' | 'stderr'>): string | undefined {
  const all = `${o.stdout}\n${o.stderr}`.replace(/\r\n/g, '\n');
  const m = /^\s*Error:\s*(.*(?:\n(?!\s*$).*)*)/m.exec(all);
  return m ? m[1]!.trim() : undefined;
}

/**
 * Classifies one vmrun outcome: undefined for success, otherwise a VmrunFailure. A zero exit with
 * an `Error:` line counts as failure too (defensive: some builds exit 0 after printing errors).
 */
export function classifyVmrunOutcome(o: VmrunOutcome): VmrunFailure | undefined {
  if (o.timedOut) {
    return { code: 'HV_COMMAND_TIMEOUT', reason: 'timeout', toolMessage: '', hint: 'vmrun did not answer in time and was killed (vmrun is known to hang); retry, or restart the vmware services' };
  }
  const text = vmrunErrorText(o);
  if (!failedExit(o.exitCode) && text === undefined) return undefined;
  const haystack = text ?? `${o.stdout}\n${o.stderr}`.trim();
  for (const r of RULES) {
    if (r.re.test(haystack)) return { code: r.code, reason: r.reason, toolMessage: haystack, hint: r.hint };
  }
  const shown = haystack || `exit code ${o.exitCode}`;
  return { code: 'HV_COMMAND_FAILED', reason: 'unknown', toolMessage: haystack, hint: `vmrun failed: ${shown.slice(0, 300)}` };
}

/** Builds the AppError for a failure: `unable to <action> vm '<name>': <hint>`. */
export function vmrunError(f: VmrunFailure, action: string, vmName: string, details: Record<string, unknown> = {}): AppError {
  return new AppError(f.code, `unable to ${action} vm '${vmName}': ${f.hint}`, {
    details: { ...details, reason: f.reason, toolMessage: f.toolMessage },
  });
}

import { runProcess } from '../../exec/run-process.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { classifyVmrunOutcome, vmrunError, type VmrunFailure } from './classify-vmrun-error.js';

/** Which `-T` host type vmrun is told (reference §1.1: ws for Workstation, player for Player). */
export type VmrunHostType = 'ws' | 'player';

/** One vmrun call: what it does in words (for messages), the VM it acts on, its time budget. */
export interface VmrunCall {
  /** Verb for error messages: `unable to <action> vm '<vmName>'`. */
  action: string;
  vmName: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The result of a call that did not throw. */
export interface VmrunReply {
  stdout: string;
  durationMs: number;
}

/**
 * Runs vmrun with an argv array (never a shell string; paths with spaces are one element,
 * reference §1.5), a timeout and a kill (runProcess), and classifies the outcome.
 */
export class VmrunRunner {
  constructor(
    readonly vmrunPath: string,
    readonly hostType: VmrunHostType,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Runs `vmrun -T <type> <args…>`; throws the classified AppError on failure. */
  async run(args: string[], call: VmrunCall): Promise<VmrunReply> {
    const r = await this.tryRun(args, call);
    if ('failure' in r) throw vmrunError(r.failure, call.action, call.vmName, { args: args.slice(0, 1) });
    return r;
  }

  /** Like run() but returns the classified failure instead of throwing (for idempotent clean-up). */
  async tryRun(args: string[], call: VmrunCall): Promise<VmrunReply | { failure: VmrunFailure; durationMs: number }> {
    const argv = ['-T', this.hostType, ...args];
    const started = this.clock.monotonic();
    const res = await runProcess(this.vmrunPath, argv, { timeoutMs: call.timeoutMs, signal: call.signal, maxOutputBytes: 1024 * 1024 });
    const durationMs = this.clock.monotonic() - started;
    const failure = classifyVmrunOutcome(res);
    this.logger.debug('vmrun', { cmd: args[0], durationMs: Math.round(durationMs), exit: res.exitCode, failure: failure?.reason });
    if (failure) return { failure, durationMs };
    return { stdout: res.stdout.replace(/\r\n/g, '\n'), durationMs };
  }
}

/** Parses `vmrun list`: `Total running VMs: N` then one .vmx path per line (reference §1.3). */
export function parseVmrunList(stdout: string): string[] {
  return stdout
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^Total running VMs:/i.test(l));
}

/**
 * A path key for comparing .vmx paths the way Vagrant does (reference §1.3): `\` → `/`, and the
 * whole path lower-cased on Windows (case-insensitive file systems).
 */
export function vmxPathKey(p: string, platform: NodeJS.Platform = process.platform): string {
  const s = p.replace(/\\/g, '/');
  return platform === 'win32' || /^[A-Za-z]:\//.test(s) ? s.toLowerCase() : s;
}

import { PowerShell } from 'node-powershell';
import { AppError } from '../../../shared/errors/app-error.js';

/**
 * One long-lived PowerShell process driven through node-powershell v5 (which spawns
 * `<exe> -NoLogo -NoProfile -NonInteractive -NoExit -Command -` and frames each command with
 * delimiter lines on stdin/stdout/stderr). This file is the only importer of node-powershell, so
 * that child processes stay inside engine/exec.
 *
 * - Commands run one at a time, in call order. A call's time limit starts when its command is
 *   sent, never while it waits behind another call (a call cancelled while waiting just leaves
 *   the queue).
 * - On timeout or cancellation of a running command the process is killed and the next call
 *   starts a fresh one (a timed-out PowerShell keeps running its command, so it cannot be
 *   reused — reference hyper-v.md §2.2).
 * - Callers pass ONLY fixed script text; values travel as base64 JSON (see hypervisor/hyperv).
 */

/** Options of PowerShellSession. */
export interface PowerShellSessionOptions {
  /** Executable: `powershell.exe` (Windows PowerShell 5.1), `pwsh`, or a simulator's path. */
  executable: string;
  env?: NodeJS.ProcessEnv;
}

/** The output of one command. */
export interface PowerShellReply {
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** A long-lived PowerShell; call dispose() when done. */
export class PowerShellSession {
  private shell: PowerShell | undefined;
  private spawnError: Error | undefined;
  /** Settles when the last queued call is done (never rejects). */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: PowerShellSessionOptions) {}

  private ensure(): PowerShell {
    if (this.shell) return this.shell;
    this.spawnError = undefined;
    const shell = new PowerShell({
      executable: this.opts.executable,
      executableOptions: { '-NoProfile': true, '-NonInteractive': true, '-ExecutionPolicy': 'Bypass' },
      spawnOptions: { env: this.opts.env ?? process.env, windowsHide: true },
      throwOnInvocationError: false,
      inputEncoding: 'utf-8',
      outputEncoding: 'utf-8',
    });
    // node-powershell keeps a private promise that rejects when the process fails or exits with an
    // error; observe it so it never becomes an unhandled rejection, and remember why.
    const exit = (shell as unknown as { exitPromise?: Promise<unknown> }).exitPromise;
    exit?.catch((e: Error) => {
      this.spawnError = e;
      if (this.shell === shell) this.shell = undefined;
    });
    exit?.then(() => {
      if (this.shell === shell) this.shell = undefined;
    });
    // An idle session must not keep the engine (or a CLI run) alive; a call in flight holds its
    // own timer, and the child exits on stdin EOF when this process ends.
    const child = (shell as unknown as { process?: import('node:child_process').ChildProcess }).process;
    child?.unref();
    for (const s of [child?.stdin, child?.stdout, child?.stderr]) (s as unknown as { unref?: () => void } | null | undefined)?.unref?.();
    this.shell = shell;
    return shell;
  }

  /** Runs one command line after the calls before it; rejects TIMEOUT / CANCELLED / TOOL_NOT_FOUND. */
  async invoke(command: string, timeoutMs: number, signal?: AbortSignal): Promise<PowerShellReply> {
    if (signal?.aborted) throw new AppError('CANCELLED', 'powershell call cancelled before it started');
    const before = this.queue;
    let done!: () => void;
    this.queue = new Promise<void>((r) => (done = r));
    try {
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<'abort'>((r) => {
        onAbort = () => r('abort');
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      const turn = await Promise.race([before.then(() => 'turn' as const), aborted]);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      if (turn === 'abort') throw new AppError('CANCELLED', 'powershell call cancelled while waiting for the session');
      return await this.run(command, timeoutMs, signal);
    } finally {
      done();
    }
  }

  private async run(command: string, timeoutMs: number, signal?: AbortSignal): Promise<PowerShellReply> {
    if (signal?.aborted) throw new AppError('CANCELLED', 'powershell call cancelled before it started');
    const shell = this.ensure();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<'timeout' | 'abort'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      onAbort = () => resolve('abort');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const outcome = await Promise.race([
        shell.invoke(command).then(
          (r) => ({ r }),
          (e: Error) => ({ e }),
        ),
        stop,
      ]);
      if (outcome === 'timeout' || outcome === 'abort') {
        await this.dispose();
        if (outcome === 'abort') throw new AppError('CANCELLED', 'powershell call cancelled');
        throw new AppError('TIMEOUT', `powershell did not answer within ${Math.round(timeoutMs / 1000)} s`, { details: { timeoutMs } });
      }
      if ('e' in outcome) {
        const why = this.spawnError ?? outcome.e;
        await this.dispose();
        const notFound = /ENOENT|not found|cannot find/i.test(`${why.message} ${(why as { cause?: Error }).cause?.message ?? ''}`);
        throw new AppError(notFound ? 'TOOL_NOT_FOUND' : 'HV_COMMAND_FAILED', `powershell '${this.opts.executable}' failed: ${why.message}`, { cause: why });
      }
      // node-powershell keeps every result in `history` forever; a long-lived session must not.
      const hist = (shell as unknown as { history?: unknown[] }).history;
      if (hist) hist.length = 0;
      return {
        stdout: outcome.r.stdout?.toString('utf8') ?? '',
        stderr: outcome.r.stderr?.toString('utf8') ?? '',
        durationMs: performance.now() - started,
      };
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Kills the process (if any). Safe to call twice; a later invoke() starts a new one. */
  async dispose(): Promise<void> {
    const s = this.shell;
    this.shell = undefined;
    if (!s) return;
    await Promise.race([s.dispose().catch(() => undefined), new Promise((r) => setTimeout(r, 3000).unref())]);
  }
}

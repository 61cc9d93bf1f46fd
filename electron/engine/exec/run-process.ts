import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { AppError } from '../../../shared/errors/app-error.js';

/** Options of runProcess. */
export interface RunOptions {
  /** Kill the process (SIGTERM, then SIGKILL after 2 s) when it runs longer than this. */
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  signal?: AbortSignal;
  /** Keep at most this many bytes of stdout/stderr each (default 4 MiB); the tail is kept. */
  maxOutputBytes?: number;
}

/** The outcome of a finished process. */
export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

/**
 * Runs `file` with an argv array (never a shell string), captures bounded output and enforces a
 * timeout with a kill. Resolves for any exit code; rejects only when the tool cannot start
 * (TOOL_NOT_FOUND / PERMISSION_DENIED) or is cancelled (CANCELLED).
 */
export function runProcess(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const max = opts.maxOutputBytes ?? 4 * 1024 * 1024;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new AppError('CANCELLED', `cancelled before starting '${file}'`));
    const spawnOpts: SpawnOptions = { cwd: opts.cwd, env: opts.env, shell: false, windowsHide: true, stdio: ['pipe', 'pipe', 'pipe'] };
    let child: ChildProcess;
    try {
      child = spawn(file, [...args], spawnOpts);
    } catch (cause) {
      return reject(new AppError('TOOL_NOT_FOUND', `unable to start '${file}': ${(cause as Error).message}`, { cause }));
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    const keepTail = (chunks: Buffer[], len: number, b: Buffer): number => {
      chunks.push(b);
      len += b.length;
      while (len > max && chunks.length > 1) len -= chunks.shift()!.length;
      return len;
    };
    child.stdout?.on('data', (b: Buffer) => (outLen = keepTail(out, outLen, b)));
    child.stderr?.on('data', (b: Buffer) => (errLen = keepTail(err, errLen, b)));
    let timedOut = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (cause: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const code = cause.code === 'EACCES' ? 'PERMISSION_DENIED' : 'TOOL_NOT_FOUND';
      reject(new AppError(code, `unable to start '${file}': ${cause.message}`, { cause, details: { file } }));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (cancelled) return reject(new AppError('CANCELLED', `'${file}' was cancelled`));
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        durationMs: performance.now() - started,
      });
    });
    child.stdin?.on('error', () => {});
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Looks for an executable on PATH (and given extra candidates); returns its path or undefined. */
export async function findExecutable(names: string[], extraPaths: string[] = []): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const { delimiter, join } = await import('node:path');
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const candidates = [...extraPaths, ...names.flatMap((n) => dirs.map((d) => join(d, n)))];
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

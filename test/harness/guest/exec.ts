import { spawn } from 'node:child_process';

/** Result of a finished child process. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link run}. */
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeoutMs?: number;
  /** Resolve instead of rejecting on a non-zero exit. */
  allowFailure?: boolean;
  /** Capture stdout as binary latin1 text (for raw dumps). */
  stdoutEncoding?: BufferEncoding;
}

/**
 * Runs a program with an argv array (never a shell), collects its output and rejects with a
 * readable message on a non-zero exit unless `allowFailure` is set. Test-harness only.
 */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const res: RunResult = {
        code,
        signal,
        stdout: Buffer.concat(out).toString(opts.stdoutEncoding ?? 'utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if ((code !== 0 || signal) && !opts.allowFailure) {
        reject(new Error(`${file} ${args.join(' ')} failed (${signal ?? code}): ${res.stderr.trim() || res.stdout.trim()}`));
        return;
      }
      resolve(res);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

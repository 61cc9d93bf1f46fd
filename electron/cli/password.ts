/**
 * Passwords of encrypted repositories on the command line: `--password-file FILE` (its first
 * line; the file must not be readable by other users — it is how the headless service keeps the
 * password), `TWINSNAP_PASSWORD`, else a prompt when stdin is a terminal (nothing echoed). New
 * passwords (`init --encrypt` takes the usual ones; `key add` / `key passwd`):
 * `--new-password-file FILE`, `TWINSNAP_NEW_PASSWORD`, else the prompt, asked twice.
 */
import { readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { AppError } from '../../shared/errors/app-error.js';

/** The first line of a password file, which must be the owner's alone (POSIX mode 0600 or stricter). */
export function readPasswordFile(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new AppError('NOT_FOUND', `password file '${file}' cannot be read: ${(e as Error).message}`, { cause: e });
  }
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new AppError('PERMISSION_DENIED', `password file '${file}' can be read by other users (mode ${(st.mode & 0o777).toString(8)}): make it the owner's alone with 'chmod 600 ${file}'`);
  }
  const line = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
  if (!line) throw new AppError('INVALID_REQUEST', `password file '${file}' is empty`);
  return line;
}

let promptAllowed = true;

/**
 * Long-running commands (serve, daemon) never stop to ask on the terminal: their repository
 * password comes from --password-file, TWINSNAP_PASSWORD, the secret store or the app's Unlock.
 */
export function disablePasswordPrompt(): void {
  promptAllowed = false;
}

/** Asks for a secret on the terminal without echoing it; undefined when stdin is not a terminal. */
export async function promptSecret(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY || !promptAllowed) return undefined;
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = true;
    });
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** `--scrypt-log2n N`: the scrypt cost of a new key (N = 2^log2n, r = 8, p = 1); undefined = the default. */
export function kdfOption(log2n: string | undefined): { N: number; r: number; p: number } | undefined {
  if (log2n === undefined) return undefined;
  const n = Number(log2n);
  if (!Number.isInteger(n) || n < 14 || n > 22) throw new AppError('USAGE', `--scrypt-log2n expects a whole number from 14 to 22, got '${log2n}'`);
  return { N: 2 ** n, r: 8, p: 1 };
}

/** The password of this run (file, then environment); the prompt is separate (`promptSecret`). */
export function givenPassword(passwordFile: string | undefined): string | undefined {
  if (passwordFile) return readPasswordFile(passwordFile);
  return process.env.TWINSNAP_PASSWORD || undefined;
}

/** A new password: file, environment, or the prompt twice (the two must match). */
export async function newPassword(file: string | undefined, what = 'new repository password'): Promise<string> {
  if (file) return readPasswordFile(file);
  if (process.env.TWINSNAP_NEW_PASSWORD) return process.env.TWINSNAP_NEW_PASSWORD;
  const a = await promptSecret(`${what}: `);
  if (a === undefined) throw new AppError('REPO_PASSWORD_REQUIRED', `no ${what} given: use --new-password-file FILE or TWINSNAP_NEW_PASSWORD, or run on a terminal`);
  if (a.length < 8) throw new AppError('INVALID_REQUEST', `the ${what} is too short: use at least 8 characters (a forgotten password loses every backup; keep the recovery kit)`);
  if ((await promptSecret(`repeat the ${what}: `)) !== a) throw new AppError('INVALID_REQUEST', 'the two passwords differ');
  return a;
}

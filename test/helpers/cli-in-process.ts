import { main } from '../../electron/cli/index.js';

/** What one in-process `twinsnap` run printed. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
  /** Binary stdout (e.g. `cat`), as written. */
  bytes: Buffer;
}

/** Runs the CLI in this process against `dataDir`, capturing text and binary output (not a TTY). */
export async function runCliInProcess(dataDir: string, args: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const chunks: Buffer[] = [];
  const code = await main(['--data-dir', dataDir, ...args], {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    stdoutBytes: async (b) => void chunks.push(Buffer.from(b)),
    isTTY: false,
  });
  return { code, out, err, bytes: Buffer.concat(chunks) };
}

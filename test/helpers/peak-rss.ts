import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a child process did: exit code, output and its peak resident set size. */
export interface PeakRssRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Peak RSS in MiB (KiB / 1024, as GNU time reports it). */
  peakRssMB: number;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/**
 * Runs `file args` as a child process and measures its peak RSS: GNU time's `%M` where installed
 * (CI installs it), else VmHWM sampled from /proc/<pid>/status every 20 ms.
 */
export function runWithPeakRss(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<PeakRssRun> {
  const timeOut = join(tmpdir(), `twinsnap-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const [cmd, argv] = GNU_TIME ? [GNU_TIME, ['-f', '%M', '-o', timeOut, file, ...args]] : [file, args];
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, argv, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let peakKiB = 0;
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const timer = GNU_TIME
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
            if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
          } catch {
            // exited
          }
        }, 20);
    c.on('error', reject);
    c.on('exit', (code) => {
      clearInterval(timer);
      if (GNU_TIME && existsSync(timeOut)) {
        peakKiB = Number(readFileSync(timeOut, 'utf8').trim().split('\n').pop());
        rmSync(timeOut, { force: true });
      }
      resolve({ code: code ?? 1, stdout, stderr, peakRssMB: peakKiB / 1024 });
    });
  });
}

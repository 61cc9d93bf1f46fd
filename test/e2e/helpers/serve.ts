import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from '@playwright/test';

/** The repository root. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** A running `twinsnap serve`. */
export interface ServeHandle {
  /** The URL printed by serve, with the access token. */
  url: string;
  /** The same origin without the token. */
  origin: string;
  token: string;
  port: number;
  dataDir: string;
  /** Everything serve printed on stderr so far (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Options of startServe. */
export interface ServeStartOptions {
  /** Extra environment (e.g. simulator tool paths). */
  env?: Record<string, string>;
  /** Extra CLI arguments (after the serve options). */
  globalArgs?: string[];
  /** Use this data folder instead of a fresh temporary one. */
  dataDir?: string;
  timeoutMs?: number;
}

/**
 * Starts `node bin/twinsnap.mjs serve --port 0 --json --data-dir <tmp>` and waits for the JSON
 * line with its URL. The renderer must be built (dist/renderer) beforehand.
 */
export async function startServe(opts: ServeStartOptions = {}): Promise<ServeHandle> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'twinsnap-e2e-'));
  const child: ChildProcess = spawn(process.execPath, ['bin/twinsnap.mjs', 'serve', '--port', '0', '--json', '--data-dir', dataDir, ...(opts.globalArgs ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const info = await new Promise<{ url: string; port: number }>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`twinsnap serve did not print its URL within ${opts.timeoutMs ?? 30000} ms; stderr: ${err}`));
    }, opts.timeoutMs ?? 30000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.trim().startsWith('{'));
      if (!line) return;
      try {
        const j = JSON.parse(line) as { url: string; port: number };
        clearTimeout(timer);
        resolvePromise(j);
      } catch {
        /* wait for the whole line */
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`twinsnap serve exited with ${code} before printing its URL; stderr: ${err}`));
    });
  });
  const u = new URL(info.url);
  return {
    url: info.url,
    origin: u.origin,
    token: u.searchParams.get('token') ?? '',
    port: info.port,
    dataDir,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A serial spec's own work folder, `twinsnap serve` over `<work>/data` and browser page. */
export interface SpecServe {
  work: string;
  server: ServeHandle;
  page: Page;
  /** Closes the page, stops serve and removes the work folder. */
  close(): Promise<void>;
}

/**
 * For a spec's beforeAll: a fresh work folder (`prefix` + random), `prepare(work)` (e.g. importing
 * a disk into `<work>/data`), then `twinsnap serve` with data folder `<work>/data` and a new page.
 */
export async function openSpecServe(browser: Browser, prefix: string, prepare?: (work: string) => void | Promise<void>): Promise<SpecServe> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  await prepare?.(work);
  const server = await startServe({ dataDir: join(work, 'data') });
  const page = await browser.newPage();
  return {
    work,
    server,
    page,
    async close() {
      await page.close();
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

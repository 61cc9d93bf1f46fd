/**
 * Helpers shared by the real-guest twin backup tests (twin-backup*.test.ts): running the CLI as a
 * child process, watching a job's journal, SIGKILLing the engine at a journal record and waiting
 * for the hypervisor tool calls it had started to finish (as they would on a real host).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { REPO_CONFIG_FILE, openRepository } from '../../electron/engine/repository/repository.js';
import { journalDir, readJournal } from '../../electron/engine/workflow/job-journal.js';
import type { DataDiskContents } from '../harness/guest/read-back.js';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** One journal record. */
export type JournalRecord = ReturnType<typeof readJournal>[number];

/** Polls `fn` until it is true; throws after `timeoutMs`. */
export async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 120_000, pollMs = 200): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** A running `node bin/twinsnap.mjs …` child with its collected output. */
export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed). */
  exit: Promise<number | null>;
  exited(): boolean;
}

/** Starts the CLI from source with `args` and `env`. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): CliRun {
  const child = spawn(process.execPath, [join(ROOT, 'bin/twinsnap.mjs'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let done = false;
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => ((done = true), r(code))));
  return { child, stdout: () => out, stderr: () => err, exit, exited: () => done };
}

/** Every record of every journal under `dataDir` (journals named in `skip` excluded). */
export function journalRecords(dataDir: string, skip: Set<string> = new Set()): JournalRecord[] {
  const dir = journalDir(dataDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.journal.jsonl') && !skip.has(f))
    .flatMap((f) => readJournal(join(dir, f)));
}

/** True when every journal under `dataDir` has its `end` record. */
export function allJournalsEnded(dataDir: string): boolean {
  const dir = journalDir(dataDir);
  return readdirSync(dir).every((f) => readJournal(join(dir, f)).some((r) => r.kind === 'end'));
}

/** Direct children of `pid` (Linux /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // the command name may hold spaces and parentheses: the fields after the last ')' are fixed
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Whether a process exists (and is not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Runs the CLI with `args` and SIGKILLs it as soon as `when` holds for the records of the
 * journals not in `seen` (it may also look at the host, e.g. "the twin runs"). Then waits until the tool processes the engine had started (its direct
 * children: the PowerShell session, vmrun calls) have finished what they were doing — a
 * killed client does not stop a hypervisor operation in flight. Adds the journals to `seen`.
 */
export async function cliKilledAt(
  args: string[],
  env: NodeJS.ProcessEnv,
  dataDir: string,
  seen: Set<string>,
  when: (records: JournalRecord[]) => boolean | Promise<boolean>,
  orphanWaitMs = 120_000,
): Promise<{ killed: boolean; stderr: string; orphansLeft: number[] }> {
  const cli = startCli(args, env);
  let killed = false;
  let orphans: number[] = [];
  while (!cli.exited()) {
    if (await when(journalRecords(dataDir, seen))) {
      orphans = childPids(cli.child.pid!);
      cli.child.kill('SIGKILL');
      killed = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await cli.exit;
  const until = Date.now() + orphanWaitMs;
  while (orphans.some(pidAlive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  const dir = journalDir(dataDir);
  for (const f of existsSync(dir) ? readdirSync(dir) : []) seen.add(f);
  return { killed, stderr: cli.stderr(), orphansLeft: orphans.filter(pidAlive) };
}

/**
 * The core claim, printed and asserted: the archived twin holds the clean-shutdown
 * marker, a sound database and every transaction acknowledged before `moment`, and is strictly
 * better than the crash-consistent copy of the same moment (`crash`).
 */
export function expectTwinBetterThanCrash(tag: string, moment: string, crashLabel: string, acksBeforeFreeze: number[] | undefined, twin: DataDiskContents, crash: DataDiskContents | undefined): void {
  const lastAck = acksBeforeFreeze?.at(-1) ?? 0;
  console.log(`[${tag}] acknowledged before ${moment}: ${acksBeforeFreeze?.length} (last ${lastAck})`);
  console.log(`[${tag}] clean twin archive : ${JSON.stringify(twin)}`);
  console.log(`[${tag}] ${crashLabel} : ${JSON.stringify(crash)}`);
  expect(lastAck).toBeGreaterThan(0);
  expect(twin.markerPresent).toBe(true);
  expect(twin.integrity).toBe('ok');
  expect(twin.walPresent).toBe(false);
  expect(twin.maxN).toBeGreaterThanOrEqual(lastAck);
  expect(twin.count).toBe(twin.maxN);
  // Strictly better than the crash-consistent copy of the same moment.
  expect(crash).toBeDefined();
  expect(crash!.markerPresent).toBe(false);
  expect(twin.maxN).toBeGreaterThanOrEqual(crash!.maxN);
}

/**
 * How long a long Hyper-V call (one that starts a PowerShell session of its own) takes on this
 * machine now: `recover()` of a VM with nothing to recover. Watchdog tests size their no-progress
 * limits from it, so a slow PowerShell start is not mistaken for a hung export.
 */
export async function longCallMs(hv: { getVm(id: string): Promise<unknown>; recover(r: { vmId: string }): Promise<void> }, vmId: string): Promise<number> {
  await hv.getVm(vmId);
  const t0 = performance.now();
  await hv.recover({ vmId });
  return performance.now() - t0;
}

/**
 * After an engine was SIGKILLed mid-backup and started again: if the default repository exists
 * (the kill may have come while the first backup was creating it, leaving its folders without the
 * configuration file), the engine's own access finishes it, a full verify finds no damage, and the
 * number of snapshots the killed job stored is returned (0 or 1).
 */
export async function repositoryAfterKill(repoPath: string, finish: () => Promise<unknown>, jobId: string): Promise<number | undefined> {
  if (!existsSync(repoPath)) return undefined;
  await finish();
  expect(existsSync(join(repoPath, REPO_CONFIG_FILE))).toBe(true);
  const repo = await openRepository(repoPath);
  try {
    expect(await repo.verify({ full: true })).toMatchObject({ ok: true, damaged: [] });
    const ids = await repo.snapshotIds();
    return ids.filter((id) => readFileSync(join(repoPath, 'snapshots', id, 'manifest.json'), 'utf8').includes(jobId)).length;
  } finally {
    await repo.close();
  }
}

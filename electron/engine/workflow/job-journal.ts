import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';

/**
 * One record of a job journal. Records are appended (and fsync'd) BEFORE each side effect
 * (`intent`) and right after it (`fact`), so a crash at any instant leaves enough on disk for
 * `recoverJobs()` to know what may exist: a suspended production VM, a twin, a partial snapshot.
 */
export type JournalRecord =
  | { kind: 'begin'; t: number; jobId: string; guest: string; hypervisor: string; vmId: string; policy: string; verify: boolean; pid?: number }
  | { kind: 'intent'; t: number; step: string; action: string; data?: Record<string, unknown> }
  | { kind: 'fact'; t: number; step: string; fact: string; data?: Record<string, unknown> }
  | { kind: 'step'; t: number; step: string; status: 'done' | 'skipped' | 'failed'; durationMs: number; detail?: string }
  /** `leftovers`: the job ended but its clean-up failed; recovery still has to clean up. */
  | { kind: 'end'; t: number; status: string; snapshotId?: string; error?: { code: string; message: string }; leftovers?: boolean };

/** Distributes Omit over a union (so each record variant keeps its own fields). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A record before the journal stamps its time. */
export type JournalInput = DistributiveOmit<JournalRecord, 't'>;

/** Folder of the journals inside the app data folder. */
export function journalDir(dataDir: string): string {
  return join(dataDir, 'jobs');
}

/**
 * The persistent journal of one job: a JSON-lines file `<dataDir>/jobs/<jobId>.journal.jsonl`.
 * Every append is written with one `write` and fsync'd before returning. Caller must `close()`.
 */
export class JobJournal {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    private readonly clock: Clock,
  ) {
    this.fd = openSync(file, 'a');
  }

  /** Opens (creating) the journal of `jobId`. */
  static open(dataDir: string, jobId: string, clock: Clock): JobJournal {
    const dir = journalDir(dataDir);
    mkdirSync(dir, { recursive: true });
    return new JobJournal(journalFile(dataDir, jobId), clock);
  }

  /**
   * Appends `rec`, durably unless `sync` is false (informational records: the next durable
   * append flushes them too). Throws if the journal cannot be written (the step must not proceed).
   */
  append(rec: JournalInput, sync = true): void {
    if (this.fd === undefined) throw new Error(`journal '${this.file}' is closed`);
    const line = `${JSON.stringify({ ...rec, t: this.clock.now() })}\n`;
    writeSync(this.fd, line);
    if (sync) fsyncSync(this.fd);
  }

  /** Closes the file handle. Idempotent. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Path of the journal of `jobId`. */
export function journalFile(dataDir: string, jobId: string): string {
  return join(journalDir(dataDir), `${jobId}.journal.jsonl`);
}

/**
 * Reads a journal. A torn last line (crash in the middle of a write) is ignored; any other
 * unparsable line is skipped too, so recovery always gets the records that are intact.
 */
export function readJournal(file: string): JournalRecord[] {
  if (!existsSync(file)) return [];
  const out: JournalRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as JournalRecord;
      if (r && typeof r === 'object' && typeof r.kind === 'string') out.push(r);
    } catch {
      // torn write: the record never completed, so its side effect never started
    }
  }
  return out;
}

/** Every journal in the data folder whose job has no `end` record (or ended with leftovers), oldest first. */
export function unfinishedJournals(dataDir: string): { jobId: string; file: string; records: JournalRecord[] }[] {
  const dir = journalDir(dataDir);
  if (!existsSync(dir)) return [];
  const out: { jobId: string; file: string; records: JournalRecord[] }[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.journal.jsonl')) continue;
    const file = join(dir, name);
    const records = readJournal(file);
    const end = records.filter((r) => r.kind === 'end').at(-1);
    if (end && !(end.kind === 'end' && end.leftovers)) continue;
    out.push({ jobId: name.slice(0, -'.journal.jsonl'.length), file, records });
  }
  return out;
}

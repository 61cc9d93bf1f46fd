/**
 * What this host knows of the Object Lock dates at a destination: object (repository-relative
 * path) → the retain-until date it put or extended there. Copies use it to extend only the locks
 * that truly end too early, and `offsite status` to read protected-until without one request per
 * restore point. A date here is a LOWER bound of the real one: locks only grow (COMPLIANCE can
 * never be shortened; a copy from another host only lengthens them), so trusting it never leaves
 * an object locked too briefly — the one exception is a GOVERNANCE lock shortened by someone
 * holding `s3:BypassGovernanceRetention`, which the README states. Unknown objects (a lost file,
 * another host's uploads) are simply extended once more. The file is a cache: deleting it is
 * always safe (it costs one extension per object on the next copy).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';

const DAY = 86_400_000;

/**
 * How far beyond the date a policy requires a shared object's lock is set, so that the next daily
 * copies find it long enough and send no extension at all: 10 % of the lock period, at most 30
 * days. A chunk every snapshot shares is then extended about once per headroom period instead of
 * once per copy (`--lock-days 400`: once in 30 days instead of daily, 30× fewer
 * PutObjectRetention requests; 90 days: every 9 days); the price is that an object the repository
 * no longer needs stays undeletable that much longer (≤ 10 % more locked storage time than asked
 * for, which also bounds what a prune has to wait). Proportional rather than a fixed number of
 * days, so a short trial lock (minutes) is not held for days.
 */
export function lockHeadroomMs(days: number): number {
  return Math.min(30 * DAY, Math.round(days * DAY * 0.1));
}

/** Lock dates of one destination, kept in a JSON file of the data folder. */
export class LockDates {
  private dirty = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly dates: Map<string, number>,
  ) {}

  /** The dates saved in `file` (none when it is missing or unreadable: a cache, never an error). */
  static async load(file: string): Promise<LockDates> {
    try {
      const j = JSON.parse(await readFile(file, 'utf8')) as { version?: number; until?: Record<string, number> };
      const m = new Map<string, number>();
      if (j.version === 1 && j.until && typeof j.until === 'object') for (const [k, v] of Object.entries(j.until)) if (typeof v === 'number' && Number.isFinite(v)) m.set(k, v);
      return new LockDates(file, m);
    } catch (e) {
      if (e instanceof SyntaxError || (e as NodeJS.ErrnoException).code === 'ENOENT') return new LockDates(file, new Map());
      throw new AppError('OFFSITE_FAILED', `the offsite lock dates in '${file}' could not be read: ${(e as Error).message}`, { cause: e, details: { file } });
    }
  }

  /** Dates kept in memory only (nothing saved). */
  static inMemory(): LockDates {
    return new LockDates(undefined, new Map());
  }

  /** The known retain-until of `rel` (epoch ms), if any. */
  get(rel: string): number | undefined {
    return this.dates.get(rel);
  }

  /** Records that `rel` is locked at least until `until` (a later known date is kept). */
  raise(rel: string, until: number): void {
    if ((this.dates.get(rel) ?? -Infinity) >= until) return;
    this.dates.set(rel, until);
    this.dirty = true;
  }

  /** Drops what the destination no longer has (pruned, or never arrived): a re-upload starts from nothing. */
  keepOnly(present: { has(rel: string): boolean }): void {
    for (const k of [...this.dates.keys()]) {
      if (present.has(k)) continue;
      this.dates.delete(k);
      this.dirty = true;
    }
  }

  /** Writes the file when something changed (temp file + rename: never a half-written file). */
  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify({ version: 1, until: Object.fromEntries(this.dates) }), { mode: 0o600 });
    await rename(tmp, this.file);
    this.dirty = false;
  }
}

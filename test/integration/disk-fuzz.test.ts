import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors/app-error.js';
import { FileSource } from '../../electron/engine/disk/core/file-source.js';
import { openDisk } from '../../electron/engine/disk/open-disk.js';
import { fuzzSeeds, type FuzzSeed } from '../fixtures/disk/disk-fixtures.js';

/** Cases per seed image (6 seeds). */
const CASES_PER_SEED = Number(process.env.TWINSNAP_FUZZ_CASES ?? 500);
/** Time cap of the whole run; on a slow machine it stops early (and says so). */
const BUDGET_MS = Number(process.env.TWINSNAP_FUZZ_MS ?? 45_000);
/** A single case taking longer than this counts as a hang. */
const CASE_LIMIT_MS = 5_000;
const EXPECTED_CODES = new Set(['DISK_CORRUPT', 'DISK_FORMAT_UNKNOWN', 'DISK_UNSUPPORTED', 'DISK_PARENT_MISSING', 'DISK_PARENT_MISMATCH', 'DISK_CHAIN_CYCLE', 'DISK_CHAIN_UNSAFE', 'NOT_FOUND']);

/** Small deterministic PRNG so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

type Mutation = { kind: string; apply: (b: Buffer) => Buffer };

function mutation(seed: FuzzSeed, size: number, r: () => number): Mutation {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const where = () => (seed.metadataPages.length > 0 && r() < 0.85 ? pick(seed.metadataPages) + Math.floor(r() * 4096) : Math.floor(r() * size));
  const choice = r();
  if (choice < 0.1) {
    const len = Math.floor(r() * size);
    return { kind: `truncate to ${len}`, apply: (b) => b.subarray(0, len) };
  }
  const at = Math.min(where(), size - 8);
  if (choice < 0.45) {
    const n = 1 + Math.floor(r() * 4);
    const flips = Array.from({ length: n }, () => [Math.min(size - 1, at + Math.floor(r() * 64)), 1 << Math.floor(r() * 8)]);
    return {
      kind: `flip ${flips.map(([o, m]) => `${o}^${m}`).join(',')}`,
      apply: (b) => {
        for (const [o, m] of flips) b[o] ^= m;
        return b;
      },
    };
  }
  const values = [0n, 1n, 0xffffffffn, 0x7fffffffn, 0xffffffffffffffffn, 0x8000000000000000n, BigInt(size), BigInt(size) * 512n, 0x100000000n];
  const v = pick(values);
  const aligned = at - (at % 4);
  const wide = r() < 0.5;
  return {
    kind: `set ${wide ? 'u64' : 'u32'}@${aligned}=${v}`,
    apply: (b) => {
      if (wide && aligned + 8 <= b.length) b.writeBigUInt64LE(v, aligned);
      else b.writeUInt32LE(Number(v & 0xffffffffn), aligned);
      return b;
    },
  };
}

/** Opens the mutated image and reads it the way a backup would; returns what happened. */
async function exercise(path: string, bytes: Buffer): Promise<string> {
  let disk;
  try {
    disk = await openDisk(path, { openSource: async (p) => (p === path ? FileSource.fromBuffer(p, bytes) : FileSource.open(p)) });
  } catch (e) {
    if (e instanceof AppError && EXPECTED_CODES.has(e.code)) return `open: ${e.code}`;
    throw e;
  }
  try {
    const window = Math.min(disk.size, 16 * 1024 * 1024);
    const extents = await disk.extents(0, window);
    let budget = 2 * 1024 * 1024;
    for (const e of extents) {
      if (e.kind !== 'data' || budget <= 0) continue;
      const n = Math.min(e.length, 256 * 1024, budget);
      await disk.read(e.offset, n);
      budget -= n;
    }
    await disk.read(0, Math.min(window, 1024 * 1024));
    return 'ok';
  } catch (e) {
    if (e instanceof AppError && EXPECTED_CODES.has(e.code)) return `read: ${e.code}`;
    throw e;
  } finally {
    await disk.close();
  }
}

let seeds: FuzzSeed[];
beforeAll(async () => {
  seeds = await fuzzSeeds();
});

describe('fuzzing the readers with mutated real images', () => {
  it('never crashes, hangs or throws anything but a typed disk error', { timeout: BUDGET_MS + 60_000 }, async () => {
    const outcomes = new Map<string, number>();
    let cases = 0;
    const started = performance.now();
    const perSeed = BUDGET_MS / seeds.length;
    for (const seed of seeds) {
      const original = await readFile(seed.path);
      const seedStart = performance.now();
      for (let i = 0; i < CASES_PER_SEED && performance.now() - seedStart < perSeed; i++) {
        const r = rng(i * 7919 + seed.name.length * 104729 + 1);
        const m = mutation(seed, original.length, r);
        const mutated = m.apply(Buffer.from(original));
        const caseStart = performance.now();
        let outcome: string;
        try {
          outcome = await Promise.race([exercise(seed.path, mutated), new Promise<string>((_, rej) => setTimeout(() => rej(new Error('case timed out')), CASE_LIMIT_MS).unref())]);
        } catch (e) {
          throw new Error(`${seed.name} case ${i} (${m.kind}) failed: ${(e as Error).stack ?? String(e)}`);
        }
        expect(performance.now() - caseStart, `${seed.name} case ${i} (${m.kind})`).toBeLessThan(CASE_LIMIT_MS);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        cases++;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`disk fuzz: ${cases} cases in ${seconds.toFixed(1)} s`, Object.fromEntries(outcomes));
    expect(cases).toBeGreaterThanOrEqual(Math.min(600, CASES_PER_SEED * seeds.length));
    // Both paths must be exercised: mutations that still read, and ones that are rejected.
    expect([...outcomes.keys()].some((k) => k === 'ok')).toBe(true);
    expect([...outcomes.keys()].some((k) => k.includes('DISK_CORRUPT'))).toBe(true);
  });
});

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors/app-error.js';
import type { ByteSource } from '../../electron/engine/fs/byte-source.js';
import type { FsNode, GuestFilesystem } from '../../electron/engine/fs/guest-fs.js';
import { openDriver } from '../../electron/engine/fs/mount.js';
import { readPartitionTable } from '../../electron/engine/fs/partitions.js';
import { ensureFsFixtures } from '../fixtures/fs/fs-fixtures.js';

/** An in-memory image with byte mutations on top; records which ranges are read (metadata). */
class MutatedSource implements ByteSource {
  readonly reads: [number, number][] = [];
  constructor(
    private readonly base: Buffer,
    private readonly muts: Map<number, number> = new Map(),
    private readonly record = false,
  ) {}
  get size(): number {
    return this.base.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(this.base.length, offset + length);
    if (offset >= end) return Buffer.alloc(0);
    if (this.record && length <= 1024 * 1024) this.reads.push([offset, end]);
    const b = Buffer.from(this.base.subarray(offset, end));
    for (const [o, v] of this.muts) if (o >= offset && o < end) b[o - offset] = v;
    return b;
  }
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lists up to `maxEntries` entries and reads the first 64 KiB of up to 20 files. */
async function exercise(fs: GuestFilesystem, maxEntries: number): Promise<number> {
  const stack: FsNode[] = [await fs.root()];
  const seen = new Set<string>();
  let n = 0;
  let files = 0;
  while (stack.length && n < maxEntries) {
    const d = stack.pop()!;
    if (seen.has(d.key)) continue;
    seen.add(d.key);
    for (const k of await fs.readdir(d)) {
      n++;
      if (k.type === 'dir' && k.name !== 'htree')
        stack.push(k); // the 3000-entry folder is covered by the oracle test
      else if (k.type === 'file' && files < 20) {
        files++;
        const c = await fs.open(k);
        await c.read(0, 65536);
        for (const s of k.streams ?? []) await (await fs.open(k, s)).read(0, 4096);
      }
    }
  }
  return n;
}

const VOLUMES = ['part-ntfs.img', 'part-fat12.img', 'part-fat16.img', 'part-exfat.img', 'part-ext4.img', 'part-ext2.img', 'part-ext4i.img'];
const BUDGET_MS = Number(process.env.FS_FUZZ_MS ?? 6000);

describe('fuzzed filesystem metadata yields typed errors, never crashes or hangs', () => {
  let dir = '';
  beforeAll(() => {
    dir = ensureFsFixtures().dir;
  }, 600_000);

  it.each(VOLUMES)(
    '%s',
    async (name) => {
      const base = readFileSync(`${dir}/${name}`);
      const clean = new MutatedSource(base, new Map(), true);
      const type = name.includes('ntfs') ? 'ntfs' : name.includes('exfat') ? 'exfat' : name.includes('fat') ? 'fat' : 'ext';
      const total = await exercise(await openDriver(type, clean), 400);
      expect(total).toBeGreaterThan(5);
      // metadata byte ranges read during the clean pass are the mutation targets
      const targets = clean.reads.filter(([s, e]) => e - s <= 1024 * 1024);
      const r = rng(name.length * 7919);
      let runs = 0;
      let typedErrors = 0;
      let slowest = 0;
      const started = performance.now();
      const heapBefore = process.memoryUsage().heapUsed;
      while (performance.now() - started < BUDGET_MS) {
        const muts = new Map<number, number>();
        const count = 1 + Math.floor(r() * 8);
        for (let i = 0; i < count; i++) {
          const [s, e] = targets[Math.floor(r() * targets.length)];
          const off = s + Math.floor(r() * (e - s));
          const kind = r();
          muts.set(off, kind < 0.3 ? 0 : kind < 0.5 ? 0xff : Math.floor(r() * 256));
        }
        const t0 = performance.now();
        try {
          await exercise(await openDriver(type, new MutatedSource(base, muts)), 400);
        } catch (e) {
          if (!isAppError(e)) throw new Error(`untyped error with mutations ${JSON.stringify([...muts])}: ${(e as Error).stack}`);
          expect(['FS_CORRUPT', 'FS_UNSUPPORTED']).toContain(e.code);
          typedErrors++;
        }
        slowest = Math.max(slowest, performance.now() - t0);
        runs++;
      }
      expect(runs).toBeGreaterThan(10);
      expect(slowest).toBeLessThan(5000);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(512 * 1024 * 1024);
      console.log(`${name}: ${runs} mutated images, ${typedErrors} typed errors, slowest ${slowest.toFixed(0)} ms`);
    },
    120_000,
  );

  it('partition tables: mutated MBR/EBR/GPT never throw and never loop', async () => {
    const base = readFileSync(`${dir}/mbr.img`).subarray(0, 60 * 1024 * 1024);
    const r = rng(42);
    const heads = [0, 446, 462, 478, 494, 38797312 + 446, 38797312 + 462, 57671680 + 446];
    for (let i = 0; i < 3000; i++) {
      const muts = new Map<number, number>();
      for (let k = 0; k < 4; k++) muts.set(heads[Math.floor(r() * heads.length)] + Math.floor(r() * 16), Math.floor(r() * 256));
      const t = await readPartitionTable(new MutatedSource(base, muts));
      expect(t.partitions.length).toBeLessThan(300);
      for (const p of t.partitions) expect(p.offset + p.size).toBeLessThanOrEqual(base.length);
    }
  }, 120_000);
});

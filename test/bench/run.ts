// `npm run bench`: runs every area's benchmark (ours and the named peer on the same data, same
// run) and prints one table of ratios. `--quick` uses small inputs; `--only disk,repository`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFn, BenchRow } from './bench-row.js';

const AREAS = ['disk', 'repository', 'fs', 'twin', 'offsite'] as const;

async function load(area: string): Promise<BenchFn | undefined> {
  try {
    const mod = (await import(`./${area}.bench.ts`)) as { bench?: BenchFn };
    return mod.bench;
  } catch (e) {
    console.error(`(skipping ${area}: ${(e as Error).message})`);
    return undefined;
  }
}

function fmt(n: number | undefined, digits = 2): string {
  return n === undefined || !Number.isFinite(n) ? '—' : n >= 100 ? n.toFixed(0) : n.toFixed(digits);
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice(7).split(',') : undefined;
const rows: BenchRow[] = [];
for (const area of AREAS) {
  if (only && !only.includes(area)) continue;
  const fn = await load(area);
  if (!fn) continue;
  const scratch = mkdtempSync(join(process.env.TWINSNAP_BENCH_DIR ?? tmpdir(), `twinsnap-bench-${area}-`));
  try {
    console.error(`running ${area} benchmark${quick ? ' (quick)' : ''}…`);
    rows.push(...(await fn({ scratch, quick })));
  } catch (e) {
    rows.push({ area, name: 'benchmark failed', ours: NaN, unit: '', note: (e as Error).message });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const header = ['area', 'measurement', 'TwinSnap', 'peer', 'ratio', 'goal', 'met'];
const table = rows.map((r) => [
  r.area,
  r.name,
  `${fmt(r.ours)} ${r.unit}`,
  r.peer === undefined ? '—' : `${fmt(r.peer)} ${r.unit} (${r.peerName ?? 'peer'})`,
  r.ratio === undefined ? '—' : `${fmt(r.ratio)}${r.ratioMeaning ? ` (${r.ratioMeaning})` : ''}`,
  r.goal ?? '—',
  r.met === undefined ? '—' : r.met ? 'yes' : 'NO',
]);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const t of table) console.log(`| ${t.join(' | ')} |`);
for (const r of rows.filter((x) => x.note)) console.log(`- ${r.area} / ${r.name}: ${r.note}`);

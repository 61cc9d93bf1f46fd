import { convertDisk, diskInfo, WRITE_FORMATS, type DiskInfo, type WriteFormat } from '../../engine/engine.js';
import type { CommandModule } from '../cli-context.js';

/** `--allow-chain-dir DIR` (repeatable): folders outside the image's own where its chain may reach. */
export const ALLOW_CHAIN_DIR = [
  '--allow-chain-dir <dir>',
  "a folder outside the image's own where its parents/extents may live (repeatable)",
  (v: string, prev: string[]) => [...prev, v],
  [] as string[],
] as const;

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** Human size: "64 MiB", "2.5 GiB". */
function human(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(n % GiB === 0 ? 0 : 2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 2)} MiB`;
  return `${n} bytes`;
}

function renderInfo(d: DiskInfo): string {
  const lines = [
    `file:           ${d.path}`,
    `format:         ${d.format}${d.subformat ? ` (${d.subformat})` : ''}`,
    `virtual size:   ${human(d.virtualSize)} (${d.virtualSize} bytes)`,
    `allocated:      ${human(d.allocatedBytes)} (${d.allocatedBytes} bytes)`,
    `chain:`,
    ...d.chain.flatMap((c, i) => [`  ${i}: ${c.path} [${c.format}${c.subformat ? `/${c.subformat}` : ''}]`, ...(c.extents ?? []).map((x) => `       extent ${x}`)]),
  ];
  return lines.join('\n');
}

/** `disk info FILE` and `disk convert SRC DST --format F`. */
export const diskCommands: CommandModule = (program, ctx) => {
  const disk = program.command('disk').description('inspect and convert virtual disk images (vmdk, vhdx, vhd, qcow2, raw)');
  disk
    .command('info')
    .description('show format, virtual size, chain and allocated bytes of a disk image')
    .argument('<file>', 'disk image (any supported format; parents are found next to it)')
    .option('--json', 'print machine-readable JSON')
    .option(...ALLOW_CHAIN_DIR)
    .action(async (file: string, o: { json?: boolean; allowChainDir: string[] }) => {
      const info = await diskInfo(file, { allowedDirs: o.allowChainDir });
      if (o.json) ctx.io.stdout(`${JSON.stringify(info, null, 2)}\n`);
      else ctx.print(info, renderInfo);
    });
  disk
    .command('convert')
    .description('convert a disk image (with its whole chain) to another format')
    .argument('<src>', 'source image')
    .argument('<dst>', 'destination file (written as <dst>.part, then renamed)')
    .requiredOption('--format <format>', `output format: ${WRITE_FORMATS.join(', ')}`)
    .option(...ALLOW_CHAIN_DIR)
    .action(async (src: string, dst: string, o: { format: string; allowChainDir: string[] }) => {
      if (!WRITE_FORMATS.includes(o.format as WriteFormat)) ctx.usage(`unknown --format '${o.format}' (use ${WRITE_FORMATS.join(', ')})`);
      const started = performance.now();
      let lastShown = 0;
      const onProgress = ctx.io.isTTY
        ? (done: number, total: number) => {
            const now = performance.now();
            if (now - lastShown < 200 && done < total) return;
            lastShown = now;
            const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
            const rate = done / MiB / Math.max(0.001, (now - started) / 1000);
            ctx.io.stderr(`\rconverting: ${String(pct).padStart(3)}%  ${human(done)} of ${human(total)}  ${rate.toFixed(0)} MiB/s   `);
          }
        : undefined;
      let virtualSize: number;
      try {
        ({ virtualSize } = await convertDisk(src, dst, o.format as WriteFormat, { allowedDirs: o.allowChainDir, onProgress }));
      } finally {
        if (onProgress) ctx.io.stderr('\n');
      }
      const seconds = (performance.now() - started) / 1000;
      ctx.print({ src, dst, format: o.format, virtualSize, seconds: Number(seconds.toFixed(3)) }, (r) => `wrote ${r.dst} (${r.format}, ${human(r.virtualSize)}) in ${r.seconds.toFixed(1)} s`);
    });
};

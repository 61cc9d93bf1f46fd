import type { VirtualDisk } from '../virtual-disk.js';
import type { OutputFile } from './output-file.js';
import { scanDisk, type ScanOptions } from './scan-disk.js';

const CLUSTER_BITS = 16;
const CS = 2 ** CLUSTER_BITS;
const L2_ENTRIES = CS / 8;
const COPIED_HI = 0x80000000;
const REFCOUNTS_PER_BLOCK = CS / 2; // refcount_order 4 (16-bit)

function putOffset(b: Buffer, at: number, offset: number): void {
  b.writeUInt32BE((COPIED_HI | Math.floor(offset / 2 ** 32)) >>> 0, at);
  b.writeUInt32BE(offset % 2 ** 32, at + 4);
}

/**
 * Writes `src` as a qcow2 v3 image (64 KiB clusters, no backing file) in one streaming pass:
 * data clusters are appended in order, each L2 table right after the clusters it maps, then
 * the L1 table, the refcount blocks and the refcount table at the end; the header goes last.
 * Memory: one L2 table plus the L1 table.
 */
export async function writeQcow2(src: VirtualDisk, out: OutputFile, scan: Omit<ScanOptions, 'unit'>): Promise<void> {
  const size = src.size;
  const l1Size = Math.ceil(size / (CS * L2_ENTRIES));
  const l1 = Buffer.alloc(Math.max(CS, Math.ceil((l1Size * 8) / CS) * CS));
  let end = CS; // cluster 0 holds the header
  let l2: Buffer | undefined;
  let l2Index = -1;
  const flushL2 = async () => {
    if (!l2) return;
    putOffset(l1, l2Index * 8, end);
    await out.write(l2, end);
    end += CS;
    l2 = undefined;
  };
  const pad = Buffer.alloc(CS);
  for await (const run of scanDisk(src, { ...scan, unit: CS })) {
    for (let p = 0; p < run.data.length; p += CS) {
      const cluster = (run.offset + p) / CS;
      const idx = Math.floor(cluster / L2_ENTRIES);
      if (idx !== l2Index) {
        await flushL2();
        l2 = Buffer.alloc(CS);
        l2Index = idx;
      }
      putOffset(l2!, (cluster % L2_ENTRIES) * 8, end + p);
    }
    const data = run.data.length % CS === 0 ? run.data : Buffer.concat([run.data, pad.subarray(0, CS - (run.data.length % CS))]);
    await out.write(data, end);
    end += data.length;
  }
  await flushL2();
  const l1Offset = end;
  await out.write(l1, l1Offset);
  end += l1.length;
  // Refcount blocks and table must cover every cluster, themselves included.
  const used = end / CS;
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = used + blocks + tableClusters;
    const nb = Math.ceil(total / REFCOUNTS_PER_BLOCK);
    const nt = Math.ceil((nb * 8) / CS);
    if (nb === blocks && nt === tableClusters) break;
    blocks = nb;
    tableClusters = nt;
  }
  const total = used + blocks + tableClusters;
  const table = Buffer.alloc(tableClusters * CS);
  const block = Buffer.alloc(CS);
  for (let b = 0; b < blocks; b++) {
    block.fill(0);
    const first = b * REFCOUNTS_PER_BLOCK;
    for (let c = first; c < Math.min(total, first + REFCOUNTS_PER_BLOCK); c++) block.writeUInt16BE(1, (c - first) * 2);
    table.writeBigUInt64BE(BigInt(end), b * 8);
    await out.write(block, end);
    end += CS;
  }
  const tableOffset = end;
  await out.write(table, tableOffset);
  end += table.length;
  const h = Buffer.alloc(CS);
  h.writeUInt32BE(0x514649fb, 0);
  h.writeUInt32BE(3, 4);
  h.writeUInt32BE(CLUSTER_BITS, 20);
  h.writeBigUInt64BE(BigInt(size), 24);
  h.writeUInt32BE(l1Size, 36);
  h.writeBigUInt64BE(BigInt(l1Offset), 40);
  h.writeBigUInt64BE(BigInt(tableOffset), 48);
  h.writeUInt32BE(tableClusters, 56);
  h.writeUInt32BE(4, 96); // refcount_order
  h.writeUInt32BE(104, 100); // header_length; an end-of-extensions marker (zeros) follows
  await out.write(h, 0);
}

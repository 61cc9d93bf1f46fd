import type { ByteSource } from '../byte-source.js';
import { BufferSource, readExact } from '../byte-source.js';
import { ensure } from '../fs-error.js';
import type { FileContent, FsNode, GuestFilesystem } from '../guest-fs.js';
import { ClusterStream, FatTable, type ClusterRun } from './fat-table.js';

/** The upper half of code page 850 (the OEM code page mtools and Western Windows use). */
const CP850_HIGH = 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u00ad±‗¾¶§÷¸°¨·¹³²■\u00a0';

interface FatRef {
  /** First cluster (0 = the FAT12/16 fixed root). */
  cluster: number;
  size: number;
  dir: boolean;
}

const MAX_DIR_BYTES = 64 * 1024 * 1024;

/**
 * Read-only FAT12/16/32 driver with VFAT long names (checksummed), the NT lower-case flags
 * (0x08 base, 0x10 extension) and CP850 short names. The FAT type is decided by cluster
 * count. Timestamps are local time without a zone and are reported as if UTC.
 */
export class FatVolume implements GuestFilesystem {
  fsType = 'fat';
  readonly caseInsensitive = true;
  readonly warnings: string[] = [];
  private fat!: FatTable;
  private clusterSize = 0;
  private heap = 0;
  private rootOff = 0;
  private rootBytes = 0;
  private rootCluster = 0;

  private constructor(private readonly src: ByteSource) {}

  /** Opens the FAT volume at the start of `src`. */
  static async open(src: ByteSource): Promise<FatVolume> {
    const v = new FatVolume(src);
    await v.init();
    return v;
  }

  private async init(): Promise<void> {
    const b = await readExact(this.src, 0, 512, 'fat boot sector');
    const bps = b.readUInt16LE(11);
    const spc = b[13];
    const rsvd = b.readUInt16LE(14);
    const nfats = b[16];
    const rootEnt = b.readUInt16LE(17);
    const tot = b.readUInt16LE(19) || b.readUInt32LE(32);
    const fatSz = b.readUInt16LE(22) || b.readUInt32LE(36);
    ensure([512, 1024, 2048, 4096].includes(bps) && spc > 0 && (spc & (spc - 1)) === 0, 'fat: bad sector or cluster size');
    ensure(rsvd > 0 && nfats > 0 && nfats <= 4 && fatSz > 0 && tot > 0, 'fat: bad boot parameters');
    const rootSecs = Math.ceil((rootEnt * 32) / bps);
    const dataSec = tot - (rsvd + nfats * fatSz + rootSecs);
    ensure(dataSec > 0, 'fat: no data region');
    const clusters = Math.floor(dataSec / spc);
    const bits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
    this.fsType = `fat${bits}`;
    this.clusterSize = bps * spc;
    const fatOff = rsvd * bps;
    let activeFat = 0;
    if (bits === 32) {
      const ext = b.readUInt16LE(40);
      if (ext & 0x80) activeFat = Math.min(ext & 0x0f, nfats - 1);
      this.rootCluster = b.readUInt32LE(44);
    }
    this.fat = new FatTable(this.src, fatOff + activeFat * fatSz * bps, fatSz * bps, bits, clusters + 2);
    this.rootOff = (rsvd + nfats * fatSz) * bps;
    this.rootBytes = rootSecs * bps;
    this.heap = this.rootOff + this.rootBytes;
    ensure(this.heap < this.src.size, 'fat: data region outside the volume');
  }

  async root(): Promise<FsNode> {
    const ref: FatRef = { cluster: this.rootCluster, size: 0, dir: true };
    return { name: '', type: 'dir', size: 0, key: `fat:${this.rootCluster}`, ref };
  }

  private async runs(ref: FatRef, maxBytes: number): Promise<ClusterRun[]> {
    if (ref.cluster === 0) return [];
    return this.fat.chain(ref.cluster, Math.ceil(maxBytes / this.clusterSize) || 1);
  }

  async readdir(dir: FsNode): Promise<FsNode[]> {
    const ref = dir.ref as FatRef;
    let data: Buffer;
    if (ref.cluster === 0) data = await readExact(this.src, this.rootOff, this.rootBytes, 'fat root directory');
    else {
      const runs = await this.runs(ref, MAX_DIR_BYTES);
      const size = runs.reduce((s, r) => s + r.count * this.clusterSize, 0);
      data = await new ClusterStream(this.src, this.heap, this.clusterSize, runs, size).read(0, size);
    }
    return this.parseDir(data);
  }

  private parseDir(d: Buffer): FsNode[] {
    const out: FsNode[] = [];
    let lfn: string[] = [];
    let lfnSum = -1;
    let lfnNext = 0;
    for (let p = 0; p + 32 <= d.length; p += 32) {
      const first = d[p];
      if (first === 0) break;
      if (first === 0xe5) {
        lfn = [];
        continue;
      }
      const attr = d[p + 11];
      if ((attr & 0x3f) === 0x0f) {
        const ord = first & 0x3f;
        if (first & 0x40) {
          lfn = new Array(ord).fill('');
          lfnSum = d[p + 13];
          lfnNext = ord;
        }
        if (ord !== lfnNext || ord === 0 || d[p + 13] !== lfnSum || lfn.length < ord) {
          lfn = [];
          continue;
        }
        let part = '';
        let done = false;
        for (const [o, n] of [
          [1, 5],
          [14, 6],
          [28, 2],
        ] as const) {
          for (let i = 0; i < n && !done; i++) {
            const c = d.readUInt16LE(p + o + i * 2);
            if (c === 0 || c === 0xffff) done = true;
            else part += String.fromCharCode(c);
          }
          if (done) break;
        }
        lfn[ord - 1] = part;
        lfnNext = ord - 1;
        continue;
      }
      if (attr & 0x08) {
        lfn = [];
        continue; // volume label
      }
      const raw = d.subarray(p, p + 11);
      let sum = 0;
      for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + raw[i]) & 0xff;
      let name: string;
      if (lfn.length && lfnNext === 0 && sum === lfnSum) name = lfn.join('');
      else name = shortName(raw, d[p + 12]);
      lfn = [];
      if (name === '.' || name === '..') continue;
      const cluster = (this.fsType === 'fat32' ? d.readUInt16LE(p + 20) * 65536 : 0) + d.readUInt16LE(p + 26);
      const isDir = (attr & 0x10) !== 0;
      const size = isDir ? 0 : d.readUInt32LE(p + 28);
      const ref: FatRef = { cluster, size, dir: isDir };
      out.push({
        name,
        type: isDir ? 'dir' : 'file',
        size,
        mtimeMs: dosTime(d.readUInt16LE(p + 24), d.readUInt16LE(p + 22), 0),
        key: isDir ? `fat:${ref.cluster}` : `fat:f${p}:${ref.cluster}`,
        ref,
      });
    }
    return out;
  }

  async open(node: FsNode, stream?: string): Promise<FileContent> {
    ensure(!stream, 'fat has no alternate data streams');
    const ref = node.ref as FatRef;
    if (ref.size === 0 || ref.cluster === 0) return new BufferSource(Buffer.alloc(0));
    const runs = await this.runs(ref, ref.size);
    return new ClusterStream(this.src, this.heap, this.clusterSize, runs, ref.size);
  }
}

/** Decodes an 8.3 name with the NT lower-case flags. */
function shortName(raw: Buffer, ntres: number): string {
  const dec = (b: Buffer) => {
    let s = '';
    for (let i = 0; i < b.length; i++) {
      let c = b[i];
      if (i === 0 && c === 0x05) c = 0xe5;
      s += c < 0x80 ? String.fromCharCode(c) : CP850_HIGH[c - 0x80];
    }
    return s.replace(/ +$/, '');
  };
  let base = dec(raw.subarray(0, 8));
  let ext = dec(raw.subarray(8, 11));
  if (ntres & 0x08) base = base.toLowerCase();
  if (ntres & 0x10) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}

/** Converts DOS date/time fields to epoch ms (treated as UTC). */
export function dosTime(date: number, time: number, tenMs: number): number | undefined {
  if (date === 0) return undefined;
  const y = 1980 + (date >> 9);
  const mo = ((date >> 5) & 0x0f) - 1;
  const d = date & 0x1f;
  const ms = Date.UTC(y, mo, d, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2) + tenMs * 10;
  return Number.isFinite(ms) ? ms : undefined;
}

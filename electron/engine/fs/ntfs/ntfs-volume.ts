import type { ByteSource } from '../byte-source.js';
import { readExact, readParts } from '../byte-source.js';
import { ensure, filetimeToMs, fsCorrupt, u64 } from '../fs-error.js';
import type { FileContent, FsNode, GuestFilesystem } from '../guest-fs.js';
import { BufferSource } from '../byte-source.js';
import { LruCache } from '../../core/lru-cache.js';
import { AT, applyFixups, parseRecord, type MftRecord, type NtfsAttr, type Run } from './ntfs-record.js';
import { NtfsStream, type StreamLayout } from './ntfs-stream.js';
import { listIndex } from './ntfs-index.js';

/** Options for opening an NTFS volume. */
export interface NtfsOptions {
  /** Byte budget for parsed MFT records. */
  recordCacheBytes?: number;
  /** Byte budget for decompressed compression units. */
  unitCacheBytes?: number;
}

/** A file record with its extension records merged in (attribute lists resolved). */
export interface NtfsFile {
  index: number;
  rec: MftRecord;
  attrs: NtfsAttr[];
}

const MAX_EXTENSIONS = 4096;
/** $MFT window reads kept in flight while listing. */
const SCAN_AHEAD = 4;
const EMPTY_READ: Promise<Buffer[]> = Promise.resolve([]);

/** Copies `dst.length` bytes starting at `at` inside parts[part] (continuing into the next parts); returns the bytes copied. */
function copyOut(parts: Buffer[], part: number, at: number, dst: Buffer): number {
  let n = 0;
  for (let p = part, from = at; p < parts.length && n < dst.length; p++, from = 0) n += parts[p].copy(dst, n, from, Math.min(parts[p].length, from + dst.length - n));
  return n;
}
/** "FILE" as a little-endian number. */
const FILE_MAGIC = 0x454c4946;

function hasAttributeList(attrs: NtfsAttr[]): boolean {
  for (const a of attrs) if (a.type === AT.ATTRIBUTE_LIST) return true;
  return false;
}
const ROOT = 5;

/** Reparse tags shown as links. */
const TAG_SYMLINK = 0xa000000c;
const TAG_JUNCTION = 0xa0000003;

/**
 * Read-only NTFS driver: boot sector, $MFT (including its own attribute list), FILE records
 * with fixups, attribute lists spanning extension records, resident / non-resident / sparse /
 * LZNT1-compressed streams, $I30 indexes, ADS, hard links and reparse points.
 */
export class NtfsVolume implements GuestFilesystem {
  readonly fsType = 'ntfs';
  readonly caseInsensitive = true;
  readonly warnings: string[] = [];
  clusterSize = 0;
  recordSize = 0;
  indexBlockSize = 0;
  private mftLayout!: StreamLayout;
  private mft!: NtfsStream;
  private readonly records: LruCache<number, NtfsFile>;
  readonly unitCache: LruCache<string, Buffer>;

  private constructor(
    readonly src: ByteSource,
    opts: NtfsOptions,
  ) {
    this.records = new LruCache(opts.recordCacheBytes ?? 4 * 1024 * 1024);
    this.unitCache = new LruCache(opts.unitCacheBytes ?? 16 * 1024 * 1024);
  }

  /** Opens the volume at the start of `src`. Throws FS_CORRUPT on an unusable boot sector/$MFT. */
  static async open(src: ByteSource, opts: NtfsOptions = {}): Promise<NtfsVolume> {
    const v = new NtfsVolume(src, opts);
    await v.init();
    return v;
  }

  private async init(): Promise<void> {
    const bs = await readExact(this.src, 0, 512, 'ntfs boot sector');
    ensure(bs.toString('latin1', 3, 11) === 'NTFS    ', 'not an ntfs boot sector');
    const bps = bs.readUInt16LE(11);
    ensure(bps >= 256 && bps <= 4096 && (bps & (bps - 1)) === 0, 'ntfs: bad bytes per sector');
    const spcRaw = bs[13];
    const spc = spcRaw <= 128 ? spcRaw : spcRaw >= 244 ? 2 ** (256 - spcRaw) : 0;
    ensure(spc > 0 && (spc & (spc - 1)) === 0, 'ntfs: bad sectors per cluster');
    this.clusterSize = bps * spc;
    ensure(this.clusterSize <= 2 * 1024 * 1024, 'ntfs: cluster size too large');
    const sizeField = (v: number) => (v < 128 ? v * this.clusterSize : 2 ** (256 - v));
    this.recordSize = sizeField(bs[64]);
    this.indexBlockSize = sizeField(bs[68]);
    ensure(this.recordSize >= 512 && this.recordSize <= 65536 && this.recordSize % 512 === 0, 'ntfs: bad mft record size');
    ensure(this.indexBlockSize >= 512 && this.indexBlockSize <= 65536 && this.indexBlockSize % 512 === 0, 'ntfs: bad index block size');
    const mftLcn = u64(bs, 48, 'ntfs $MFT location');
    const mftOff = mftLcn * this.clusterSize;
    const raw0 = Buffer.from(await readExact(this.src, mftOff, this.recordSize, '$MFT record 0'));
    applyFixups(raw0, 'FILE', 'mft record 0');
    const rec0 = parseRecord(raw0, 0);
    const data0 = rec0.attrs.filter((a) => a.type === AT.DATA && a.name === '' && a.nonResident);
    ensure(data0.length > 0, 'ntfs: $MFT has no data attribute');
    // Bootstrap with record 0's own segments; then resolve its attribute list if any.
    this.setMftLayout(data0);
    if (rec0.attrs.some((a) => a.type === AT.ATTRIBUTE_LIST)) {
      const full = await this.mergeExtensions({ index: 0, rec: rec0, attrs: rec0.attrs });
      this.setMftLayout(full.attrs.filter((a) => a.type === AT.DATA && a.name === '' && a.nonResident));
    }
    await this.checkDirty();
  }

  private setMftLayout(segs: NtfsAttr[]): void {
    this.mftLayout = layoutOf(segs);
    this.mft = new NtfsStream(this.src, this.clusterSize, this.mftLayout, this.unitCache, 'mft');
  }

  /** Number of records the $MFT can hold. */
  get recordCount(): number {
    return Math.floor(this.mftLayout.dataSize / this.recordSize);
  }

  private async checkDirty(): Promise<void> {
    try {
      const vol = await this.file(3);
      const vi = vol.attrs.find((a) => a.type === AT.VOLUME_INFORMATION);
      if (vi?.value && vi.value.length >= 12 && (vi.value.readUInt16LE(10) & 0x0001) !== 0) {
        this.warnings.push('ntfs volume is marked dirty ($LogFile not replayed): recent changes may be missing or metadata may lag');
        return;
      }
      const log = await this.file(2);
      const data = log.attrs.filter((a) => a.type === AT.DATA && a.name === '');
      if (data.length && data[0].nonResident) {
        const s = new NtfsStream(this.src, this.clusterSize, layoutOf(data), this.unitCache, 'logfile');
        const page = await s.read(0, 4096);
        if (page.length >= 0x60 && page.toString('latin1', 0, 4) === 'RSTR') {
          const raOff = page.readUInt16LE(0x18);
          if (raOff + 0x10 <= page.length) {
            const raFlags = page.readUInt16LE(raOff + 0x0c);
            const clientInUse = page.readUInt16LE(raOff + 0x0a);
            if ((raFlags & 0x0002) === 0 && clientInUse !== 0xffff) this.warnings.push('ntfs $LogFile is not clean: recent changes may be missing or metadata may lag');
          }
        }
      }
    } catch (e) {
      this.warnings.push(`could not check the ntfs dirty state: ${(e as Error).message}`);
    }
  }

  /** Reads and parses record `index` (fixups applied), without extension merging. */
  private async record(index: number): Promise<MftRecord> {
    ensure(index >= 0 && index < this.recordCount, `ntfs: file reference ${index} outside the $MFT`);
    const raw = Buffer.from(await this.mft.read(index * this.recordSize, this.recordSize));
    ensure(raw.length === this.recordSize, `ntfs: mft record ${index} truncated`);
    if (raw.toString('latin1', 0, 4) !== 'FILE') throw fsCorrupt(`ntfs: mft record ${index} is not in use or damaged`);
    applyFixups(raw, 'FILE', `mft record ${index}`);
    const rec = parseRecord(raw, index);
    return rec;
  }

  /**
   * Loads many base records with few large reads of the $MFT (records that are close together
   * are read as one window), filling the record cache. Errors are left for `file()` to report.
   */
  async prefetch(indices: number[]): Promise<Map<number, NtfsFile>> {
    const got = new Map<number, NtfsFile>();
    await this.scanRecords(indices, true, (f) => got.set(f.index, f));
    return got;
  }

  /**
   * Reads the base records `indices` (those not cached) in $MFT order, about 1 MiB of $MFT per
   * read with a few reads in flight, and hands each parsed record (without attribute list) to
   * `visit`; records that are not in use, damaged or need extension records are left out for
   * `file()`. With `cache` false, nothing is kept after `visit` (a big folder's records would
   * only evict each other) and records are parsed in place in the window (no copy).
   */
  private async scanRecords(indices: number[], cache: boolean, visit: (f: NtfsFile) => void): Promise<void> {
    const todo = [...new Set(indices)].filter((i) => i >= 0 && i < this.recordCount && !this.records.get(i)).sort((a, b) => a - b);
    const rs = this.recordSize;
    const maxSpan = Math.max(1, Math.floor((1024 * 1024) / rs));
    const windows: { k: number; j: number; first: number }[] = [];
    for (let k = 0; k < todo.length;) {
      const first = todo[k];
      let j = k;
      while (j + 1 < todo.length && todo[j + 1] - first < maxSpan) j++;
      windows.push({ k, j, first });
      k = j + 1;
    }
    // Uncached records are parsed in one scratch buffer (visit() keeps nothing that points into
    // it) from zero-copy views of the $MFT; cached records get a private copy each.
    const scratch = cache ? undefined : Buffer.allocUnsafe(rs);
    const reads: Promise<Buffer[]>[] = [];
    const start = (w: number) => {
      if (w >= windows.length) return;
      const { j, first } = windows[w];
      const p = readParts(this.mft, first * rs, (todo[j] - first + 1) * rs);
      p.catch(() => {});
      reads[w] = p;
    };
    for (let w = 0; w < SCAN_AHEAD; w++) start(w);
    try {
      for (let w = 0; w < windows.length; w++) {
        const { k, j, first } = windows[w];
        const parts = await reads[w];
        start(w + SCAN_AHEAD);
        let part = 0;
        let partStart = 0; // window offset of parts[part]
        for (let m = k; m <= j; m++) {
          const idx = todo[m];
          const off = (idx - first) * rs;
          while (part < parts.length && partStart + parts[part].length <= off) partStart += parts[part++].length;
          if (part >= parts.length) break;
          const raw = scratch ?? Buffer.allocUnsafe(rs);
          if (copyOut(parts, part, off - partStart, raw) < rs) break;
          let f: NtfsFile;
          try {
            if (raw.readUInt32LE(0) !== FILE_MAGIC) continue;
            applyFixups(raw, 'FILE', `mft record ${idx}`);
            const rec = parseRecord(raw, idx);
            if ((rec.flags & 0x0001) === 0 || rec.base !== 0 || hasAttributeList(rec.attrs)) continue;
            f = { index: idx, rec, attrs: rec.attrs };
          } catch {
            continue; // reported by file()
          }
          if (cache) this.remember(f);
          visit(f);
        }
        reads[w] = EMPTY_READ;
      }
    } finally {
      await Promise.allSettled(reads);
    }
  }

  private remember(f: NtfsFile): void {
    const cost = 256 + this.recordSize * (1 + (f.attrs.length > 16 ? 1 : 0)) + f.attrs.reduce((s, a) => s + 96 + a.runs.length * 32, 0);
    this.records.set(f.index, f, cost);
  }

  /** Loads a base record with its attribute list resolved, through the record cache. */
  async file(index: number): Promise<NtfsFile> {
    const hit = this.records.get(index);
    if (hit) return hit;
    const rec = await this.record(index);
    ensure((rec.flags & 0x0001) !== 0, `ntfs: mft record ${index} is not in use`);
    let f: NtfsFile = { index, rec, attrs: rec.attrs };
    if (rec.attrs.some((a) => a.type === AT.ATTRIBUTE_LIST)) f = await this.mergeExtensions(f);
    this.remember(f);
    return f;
  }

  private async mergeExtensions(f: NtfsFile): Promise<NtfsFile> {
    const al = f.rec.attrs.find((a) => a.type === AT.ATTRIBUTE_LIST)!;
    const list = al.nonResident ? await new NtfsStream(this.src, this.clusterSize, layoutOf([al]), this.unitCache, `al${f.index}`).read(0, Math.min(al.dataSize, 16 * 1024 * 1024)) : al.value!;
    const ext = new Set<number>();
    for (let p = 0, guard = 0; p + 26 <= list.length && guard < 65536; guard++) {
      const len = list.readUInt16LE(p + 4);
      ensure(len >= 26 && p + len <= list.length, `ntfs: attribute list of record ${f.index} is malformed`);
      const ref = list.readUIntLE(p + 16, 6);
      if (ref !== f.index) ext.add(ref);
      p += len;
    }
    ensure(ext.size <= MAX_EXTENSIONS, `ntfs: record ${f.index} has too many extension records`);
    const attrs = f.rec.attrs.filter((a) => a.type !== AT.ATTRIBUTE_LIST);
    for (const idx of ext) {
      const r = await this.record(idx);
      if (r.base !== f.index) {
        this.warnings.push(`ntfs: record ${idx} listed as an extension of ${f.index} belongs elsewhere; ignored`);
        continue;
      }
      attrs.push(...r.attrs);
    }
    return { index: f.index, rec: f.rec, attrs };
  }

  async root(): Promise<FsNode> {
    return this.nodeFor(ROOT, '');
  }

  /** Builds the node of record `index` under the given name. */
  async nodeFor(index: number, name: string): Promise<FsNode> {
    const f = await this.file(index);
    return describe(f, name);
  }

  async readdir(dir: FsNode): Promise<FsNode[]> {
    const f = await this.file((dir.ref as { index: number }).index);
    const entries = await listIndex(this, f);
    // one entry per (record, name): names seen per record (a record has one name per folder unless hard-linked)
    const seen = new Map<number, string | string[]>();
    const uniq = entries.filter((e) => {
      if (e.ref === f.index) return false;
      if (f.index === ROOT && e.ref < 24 && e.name.startsWith('$')) return false; // metadata files
      const had = seen.get(e.ref);
      if (had === undefined) seen.set(e.ref, e.name);
      else if (typeof had === 'string') {
        if (had === e.name) return false;
        seen.set(e.ref, [had, e.name]);
      } else {
        if (had.includes(e.name)) return false;
        had.push(e.name);
      }
      return true;
    });
    // records are read in MFT order, about 1 MiB of $MFT at a time, described as they arrive
    // and not kept (a big folder's records would only evict each other from the cache)
    const slots: (FsNode | undefined)[] = new Array(uniq.length);
    const handled = new Uint8Array(uniq.length);
    const byRef = new Map<number, number[]>();
    for (let i = 0; i < uniq.length; i++) {
      const at = byRef.get(uniq[i].ref);
      if (at) at.push(i);
      else byRef.set(uniq[i].ref, [i]);
    }
    const take = (child: NtfsFile, i: number) => {
      handled[i] = 1;
      const e = uniq[i];
      if (e.seq !== 0 && child.rec.seq !== e.seq) return; // stale index entry
      slots[i] = describe(child, e.name);
    };
    await this.scanRecords([...byRef.keys()], uniq.length <= 256, (f) => {
      for (const i of byRef.get(f.index) ?? []) take(f, i);
    });
    for (let i = 0; i < uniq.length; i++) {
      if (handled[i]) continue;
      const e = uniq[i];
      let child = this.records.get(e.ref);
      if (!child) {
        try {
          child = await this.file(e.ref);
        } catch {
          slots[i] = { name: e.name, type: 'other', size: 0, key: `ntfs:${e.ref}`, ref: undefined };
          continue;
        }
      }
      take(child, i);
    }
    const out = slots.filter((n): n is FsNode => n !== undefined);
    return out;
  }

  /** A readable stream of attribute `type`/`name` of `f` (resident or non-resident). */
  streamOf(f: NtfsFile, type: number, name: string): FileContent | undefined {
    const segs = f.attrs.filter((a) => a.type === type && a.name === name);
    if (segs.length === 0) return undefined;
    if (!segs[0].nonResident) return new BufferSource(segs[0].value ?? Buffer.alloc(0));
    return new NtfsStream(this.src, this.clusterSize, layoutOf(segs), this.unitCache, `${f.index}:${type}:${name}`);
  }

  async open(node: FsNode, stream?: string): Promise<FileContent> {
    const idx = (node.ref as { index: number } | undefined)?.index;
    if (idx === undefined) throw fsCorrupt(`ntfs: ${node.name} cannot be read`);
    const ref = { f: await this.file(idx) };
    const s = this.streamOf(ref.f, AT.DATA, stream ?? '');
    if (!s) {
      if (stream) throw fsCorrupt(`ntfs: ${node.name} has no stream named ${stream}`);
      return new BufferSource(Buffer.alloc(0));
    }
    const segs = ref.f.attrs.filter((a) => a.type === AT.DATA && a.name === (stream ?? ''));
    if (segs.some((a) => a.flags & 0x4000)) this.warnings.push(`ntfs: ${node.name} is encrypted (EFS); restored bytes are ciphertext`);
    return s;
  }
}

/** Merges the VCN-ordered segments of one attribute into a stream layout. */
export function layoutOf(segs: NtfsAttr[]): StreamLayout {
  const sorted = [...segs].sort((a, b) => a.startVcn - b.startVcn);
  const first = sorted[0];
  ensure(first.startVcn === 0, 'ntfs: attribute has no vcn 0 segment');
  const runs: Run[] = [];
  for (const s of sorted) runs.push(...s.runs);
  ensure(first.initSize <= first.allocSize || first.allocSize === 0 || first.initSize <= first.dataSize, 'ntfs: inconsistent attribute sizes');
  return {
    runs,
    dataSize: first.dataSize,
    initSize: Math.min(first.initSize, first.dataSize),
    compUnit: first.compUnit,
    compressed: (first.flags & 0x00ff) !== 0,
  };
}

function describe(f: NtfsFile, name: string): FsNode {
  // one pass over the attributes (this runs for every entry of a listing)
  let si: NtfsAttr | undefined;
  let main: NtfsAttr | undefined;
  let rp: NtfsAttr | undefined;
  let streams: string[] | undefined;
  for (const a of f.attrs) {
    if (a.type === AT.STANDARD_INFORMATION) si ??= a;
    else if (a.type === AT.DATA) {
      if (a.name === '') {
        if (!main && (!a.nonResident || a.startVcn === 0)) main = a;
      } else if (!streams) streams = [a.name];
      else if (!streams.includes(a.name)) streams.push(a.name);
    } else if (a.type === AT.REPARSE_POINT) rp ??= a;
  }
  const mtimeMs = si?.value ? filetimeToMs(si.value, 8) : undefined;
  const isDir = (f.rec.flags & 0x0002) !== 0;
  const node: FsNode = {
    name,
    type: isDir ? 'dir' : 'file',
    size: isDir ? 0 : (main?.dataSize ?? 0),
    mtimeMs,
    key: `ntfs:${f.index}`,
    ref: { index: f.index },
  };
  if (streams) node.streams = streams;
  const attrs = si?.value && si.value.length >= 36 ? si.value.readUInt32LE(32) : 0;
  if (!isDir && attrs & 0x4 && main?.value && main.value.length >= 8) {
    // ntfs-3g / Interix special files: symlinks ("IntxLNK\1" + UTF-16 target), devices
    const magic = main.value.toString('latin1', 0, 8);
    if (magic === 'IntxLNK\x01') {
      node.type = 'symlink';
      node.target = main.value.toString('utf16le', 8);
    } else if (magic === 'IntxCHR\0' || magic === 'IntxBLK\0') node.type = 'other';
  }
  if (rp?.value && rp.value.length >= 8) {
    const tag = rp.value.readUInt32LE(0);
    if (tag === TAG_SYMLINK || tag === TAG_JUNCTION) {
      node.type = 'symlink';
      node.target = reparseTarget(rp.value, tag === TAG_SYMLINK ? 20 : 16);
    } else if (!isDir) node.type = 'other';
  }
  return node;
}

function reparseTarget(v: Buffer, pathBuf: number): string | undefined {
  if (v.length < pathBuf) return undefined;
  const subOff = v.readUInt16LE(8);
  const subLen = v.readUInt16LE(10);
  const prOff = v.readUInt16LE(12);
  const prLen = v.readUInt16LE(14);
  const pick = prLen > 0 ? [prOff, prLen] : [subOff, subLen];
  const s = pathBuf + pick[0];
  if (s + pick[1] > v.length) return undefined;
  return v.toString('utf16le', s, s + pick[1]);
}

// .vmx / .vmsd reading and writing for the vmrun simulator.
// Format: `key = "value"` lines, `#` comments, keys case-insensitive, values escaped as `|XX`.
import * as fs from 'node:fs';

/** Decodes VMware's `|XX` escapes (bytes of the UTF-8 encoding). */
export function decodeValue(v) {
  if (!v.includes('|')) return v;
  const bytes = [];
  const buf = Buffer.from(v, 'utf8');
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x7c && i + 2 < buf.length && /^[0-9a-fA-F]{2}$/.test(buf.subarray(i + 1, i + 3).toString('latin1'))) {
      bytes.push(parseInt(buf.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else {
      bytes.push(buf[i]);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Encodes a value with `|XX` escapes for `|`, `"` and control characters. */
export function encodeValue(v) {
  return String(v).replace(/[|"\x00-\x1f\x7f]/g, (c) => '|' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/**
 * A parsed config file that keeps the original lines so rewriting preserves order, comments
 * and unknown keys. Keys are matched case-insensitively.
 */
export class VmxFile {
  constructor(path, text) {
    this.path = path;
    this.lines = text.replace(/\r\n/g, '\n').split('\n');
    if (this.lines.length && this.lines[this.lines.length - 1] === '') this.lines.pop();
  }

  static read(path) {
    return new VmxFile(path, fs.readFileSync(path, 'utf8'));
  }

  static parseLine(line) {
    const m = /^\s*([^#=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) return undefined;
    let raw = m[2];
    if (raw.startsWith('"')) {
      const end = raw.lastIndexOf('"');
      raw = end > 0 ? raw.slice(1, end) : raw.slice(1);
    }
    return { key: m[1], value: decodeValue(raw) };
  }

  /** All keys as a Map of lower-cased key → { key, value } (last one wins). */
  entries() {
    const map = new Map();
    for (const line of this.lines) {
      const e = VmxFile.parseLine(line);
      if (e) map.set(e.key.toLowerCase(), e);
    }
    return map;
  }

  get(key) {
    return this.entries().get(key.toLowerCase())?.value;
  }

  has(key) {
    return this.entries().has(key.toLowerCase());
  }

  set(key, value) {
    const lk = key.toLowerCase();
    const line = `${key} = "${encodeValue(value)}"`;
    let done = false;
    this.lines = this.lines.flatMap((l) => {
      const e = VmxFile.parseLine(l);
      if (e && e.key.toLowerCase() === lk) {
        if (done) return [];
        done = true;
        return [`${e.key} = "${encodeValue(value)}"`];
      }
      return [l];
    });
    if (!done) this.lines.push(line);
  }

  delete(key) {
    const lk = key.toLowerCase();
    this.lines = this.lines.filter((l) => VmxFile.parseLine(l)?.key.toLowerCase() !== lk);
  }

  /** Deletes every key starting with `prefix` (case-insensitive). */
  deletePrefix(prefix) {
    const lp = prefix.toLowerCase();
    this.lines = this.lines.filter((l) => !VmxFile.parseLine(l)?.key.toLowerCase().startsWith(lp));
  }

  text() {
    return this.lines.join('\n') + '\n';
  }

  /** Writes atomically (temp file + rename). */
  write() {
    const tmp = `${this.path}.sim-tmp-${process.pid}`;
    fs.writeFileSync(tmp, this.text());
    fs.renameSync(tmp, this.path);
  }
}

/** True for TRUE/true/1/yes. */
export function isTrue(v, dflt = false) {
  if (v === undefined || v === '') return dflt;
  return /^(true|1|yes|on)$/i.test(v);
}

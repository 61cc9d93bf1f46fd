import { AppError } from '../../../../shared/errors/app-error.js';

/**
 * A `.vmx` (or `.vmsd`, `.vmxf`-free key/value) file held as its lines, so that rewriting one key
 * keeps every other line — unknown keys, comments, order, a `#!` first line — byte for byte.
 *
 * Syntax (reference vmware-workstation.md §2.1): `key = "value"` per line, `#` comments, keys are
 * case-insensitive, `.encoding` names the charset, special characters in values are escaped as
 * `|XX` (hex byte). Values written by TwinSnap escape `"`, `|` and control characters that way.
 */
export class VmxFile {
  private lines: VmxLine[];
  /** The charset the file was decoded with (the `.encoding` value, default UTF-8). */
  readonly encoding: string;

  private constructor(lines: VmxLine[], encoding: string) {
    this.lines = lines;
    this.encoding = encoding;
  }

  /** Parses file bytes; honours `.encoding`. Throws HV_COMMAND_FAILED for non-text input. */
  static parse(bytes: Uint8Array | string): VmxFile {
    if (typeof bytes === 'string') return new VmxFile(splitLines(bytes).map(parseLine), 'UTF-8');
    if (bytes.length > MAX_VMX_BYTES) {
      throw new AppError('HV_COMMAND_FAILED', `configuration file is too large (${bytes.length} bytes); a .vmx is at most a few kilobytes`);
    }
    if (bytes.includes(0)) throw new AppError('HV_COMMAND_FAILED', 'configuration file is binary, not a .vmx text file (is the vm encrypted?)');
    const declared = /^\s*\.encoding\s*=\s*"([^"]*)"/im.exec(Buffer.from(bytes).toString('latin1'))?.[1] ?? 'UTF-8';
    let text: string;
    let encoding = declared;
    try {
      text = new TextDecoder(declared, { fatal: false }).decode(stripBom(bytes));
    } catch {
      encoding = 'UTF-8';
      text = new TextDecoder('utf-8').decode(stripBom(bytes));
    }
    return new VmxFile(splitLines(text).map(parseLine), encoding);
  }

  /** Value of `key` (case-insensitive, `|XX` escapes decoded); the last occurrence wins. */
  get(key: string): string | undefined {
    const k = key.toLowerCase();
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const l = this.lines[i]!;
      if (l.key !== undefined && l.key.toLowerCase() === k) return l.value;
    }
    return undefined;
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets `key` in place (keeps its position and spelling) or appends it; removes duplicates. */
  set(key: string, value: string): this {
    const k = key.toLowerCase();
    let done = false;
    this.lines = this.lines.filter((l) => {
      if (l.key === undefined || l.key.toLowerCase() !== k) return true;
      if (done) return false;
      done = true;
      l.value = value;
      l.raw = undefined;
      return true;
    });
    if (!done) this.lines.push({ key, value });
    return this;
  }

  /** Removes every occurrence of `key`. */
  delete(key: string): this {
    const k = key.toLowerCase();
    this.lines = this.lines.filter((l) => l.key === undefined || l.key.toLowerCase() !== k);
    return this;
  }

  /** Removes every key matching `re` (tested against the lower-cased key). */
  deleteMatching(re: RegExp): this {
    this.lines = this.lines.filter((l) => l.key === undefined || !re.test(l.key.toLowerCase()));
    return this;
  }

  /** All key/value pairs in file order (keys as spelled in the file). */
  entries(): [string, string][] {
    return this.lines.filter((l) => l.key !== undefined).map((l) => [l.key!, l.value!]);
  }

  /** A deep copy. */
  clone(): VmxFile {
    return new VmxFile(
      this.lines.map((l) => ({ ...l })),
      this.encoding,
    );
  }

  /** The file as text; untouched lines are reproduced exactly. */
  toString(): string {
    return this.lines.map((l) => l.raw ?? `${l.key} = "${escapeValue(l.value ?? '')}"`).join('\n') + '\n';
  }

  /**
   * The file as bytes. Files declared in another charset are rewritten as UTF-8 (and their
   * `.encoding` line updated) when they now hold non-ASCII text, because Node has no encoder for
   * legacy charsets; VMware reads whatever `.encoding` says.
   */
  toBuffer(): Buffer {
    const isUtf8 = /^utf-?8$/i.test(this.encoding);
    if (!isUtf8) {
      const text = this.toString();
      if (/^[\x00-\x7f]*$/.test(text)) return Buffer.from(text, 'latin1');
      const copy = this.clone();
      if (copy.has('.encoding')) copy.set('.encoding', 'UTF-8');
      else copy.lines.unshift({ key: '.encoding', value: 'UTF-8' });
      return Buffer.from(copy.toString(), 'utf8');
    }
    return Buffer.from(this.toString(), 'utf8');
  }
}

/** Larger than any real .vmx; protects against reading a disk image by mistake. */
const MAX_VMX_BYTES = 4 * 1024 * 1024;

interface VmxLine {
  /** Exact original text (undefined once the line was edited). */
  raw?: string;
  key?: string;
  value?: string;
}

function stripBom(b: Uint8Array): Uint8Array {
  return b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? b.subarray(3) : b;
}

function splitLines(text: string): string[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

// Backslashes are literal in .vmx values (Windows paths), so a quoted value simply ends at `"`.
const LINE_RE = /^\s*([^=#\s][^=]*?)\s*=\s*(?:"([^"]*)"|(.*?))\s*$/;

function parseLine(raw: string): VmxLine {
  if (/^\s*(#|$)/.test(raw)) return { raw };
  const m = LINE_RE.exec(raw);
  if (!m) return { raw };
  return { raw, key: m[1]!, value: unescapeValue(m[2] ?? m[3] ?? '') };
}

/** Encodes a value for a .vmx line: `"`, `|` and control characters become `|XX`. */
export function escapeValue(v: string): string {
  return v.replace(/[|"\x00-\x1f\x7f]/g, (c) => `|${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Decodes `|XX` escapes; runs of escaped bytes are read as UTF-8 (latin1 if invalid). */
export function unescapeValue(v: string): string {
  return v.replace(/(?:\|[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = Buffer.from(
      run
        .split('|')
        .slice(1)
        .map((h) => parseInt(h, 16)),
    );
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return bytes.toString('latin1');
    }
  });
}

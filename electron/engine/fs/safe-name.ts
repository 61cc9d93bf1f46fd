import { createHash } from 'node:crypto';

const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
const MAX_BYTES = 240;

/**
 * Maps a guest file name to a name that is safe on Linux, macOS and Windows. The rule is the
 * same on every host, so results are predictable:
 * - `/ \ : * ? " < > |`, control characters (U+0000–U+001F, U+007F) are percent-encoded
 *   as `%XX` (UTF-8, upper-case hex); lone UTF-16 surrogates become `%uXXXX`;
 * - trailing dots and spaces are percent-encoded (`%2E`, `%20`), so `.` → `%2E` and `..` → `%2E%2E`;
 * - the empty name becomes `%00`;
 * - a reserved Windows device name (CON, PRN, AUX, NUL, COM0–9, LPT0–9, CONIN$, CONOUT$), with
 *   or without an extension, gets `_` appended to its base: `CON.txt` → `CON_.txt`;
 * - names longer than 240 UTF-8 bytes are cut and get `~` + 8 hex digits of their SHA-256.
 * A `%` in the original name is kept as is.
 */
export function safeName(name: string): string {
  if (name === '') return '%00';
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < name.length) {
      const d = name.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += name[i] + name[i + 1];
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) out += `%u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (c < 0x20 || c === 0x7f || '/\\:*?"<>|'.includes(name[i])) out += pct(name[i]);
    else out += name[i];
  }
  const m = /[. ]+$/.exec(out);
  if (m) out = out.slice(0, m.index) + [...m[0]].map(pct).join('');
  const dot = out.indexOf('.');
  const base = dot < 0 ? out : out.slice(0, dot);
  if (RESERVED.test(base.trimEnd())) out = `${base}_${dot < 0 ? '' : out.slice(dot)}`;
  if (Buffer.byteLength(out) > MAX_BYTES) {
    const h = createHash('sha256').update(name).digest('hex').slice(0, 8);
    let cut = out;
    while (Buffer.byteLength(cut) > MAX_BYTES - 9) cut = cut.slice(0, -1);
    if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
    out = `${cut}~${h}`;
  }
  return out;
}

function pct(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

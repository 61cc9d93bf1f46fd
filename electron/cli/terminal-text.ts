/**
 * Text for a terminal: names that come from guests, files, backups or the network can hold
 * control characters that a terminal obeys (ESC/CSI/OSC sequences set the title, rewrite the
 * screen or forge hyperlinks; CR and newline forge lines; bidi overrides reorder what is shown).
 * Human-readable CLI output shows them escaped instead; `--json` output is left as it is.
 */
// C0 controls (incl. TAB, CR, LF, ESC), DEL, C1 controls (incl. NEL, CSI, OSC), the Arabic
// letter mark, LRM/RLM, line/paragraph separators, bidi embeddings/overrides and isolates
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` with every terminal control character shown as an escape (`\x1b`, `\n`, `\u202e` …). */
export function terminalSafe(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

/** A copy of `v` with every string in it (deeply, keys included) made {@link terminalSafe}. */
export function terminalSafeDeep<T>(v: T): T {
  if (typeof v === 'string') return terminalSafe(v) as T;
  if (Array.isArray(v)) return v.map((x) => terminalSafeDeep(x)) as T;
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[terminalSafe(k)] = terminalSafeDeep(x);
    return out as T;
  }
  return v;
}

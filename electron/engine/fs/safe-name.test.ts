import { describe, expect, it } from 'vitest';
import { safeName } from './safe-name.js';

describe('safeName', () => {
  it.each([
    ['normal.txt', 'normal.txt'],
    ['100%.txt', '100%.txt'],
    ['', '%00'],
    ['.', '%2E'],
    ['..', '%2E%2E'],
    ['a/b', 'a%2Fb'],
    ['a\\b', 'a%5Cb'],
    ['C:evil', 'C%3Aevil'],
    ['tab\there\n', 'tab%09here%0A'],
    ['del\x7f', 'del%7F'],
    ['q?*<>|"', 'q%3F%2A%3C%3E%7C%22'],
    ['trailing. .', 'trailing%2E%20%2E'],
    ['CON', 'CON_'],
    ['con.txt', 'con_.txt'],
    ['LPT9.tar.gz', 'LPT9_.tar.gz'],
    ['console', 'console'],
    ['Ünïcödé ✓ 日本語.txt', 'Ünïcödé ✓ 日本語.txt'],
    ['😀', '😀'],
    ['lone\ud800x', 'lone%uD800x'],
  ])('%j → %j', (input, want) => {
    expect(safeName(input)).toBe(want);
  });

  it('never yields a separator, a relative component or an overlong name', () => {
    const long = 'é'.repeat(300);
    const s = safeName(long);
    expect(Buffer.byteLength(s)).toBeLessThanOrEqual(240);
    expect(s).toMatch(/~[0-9a-f]{8}$/);
    for (let c = 0; c < 0x80; c++) {
      const out = safeName(String.fromCharCode(c));
      expect(out).not.toMatch(/[/\\:\x00-\x1f]/);
      expect(['.', '..', '']).not.toContain(out);
    }
  });
});

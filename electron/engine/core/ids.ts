import { randomBytes } from 'node:crypto';

/**
 * A sortable id: UTC time (compact ISO, to the second) + random suffix, e.g.
 * `20261122T154500Z-3f9a1c`. Sorting ids sorts by time; safe in file names.
 */
export function timeId(epochMs: number, bytes = 3): string {
  const t = new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${t}-${randomBytes(bytes).toString('hex')}`;
}

/** A random hex token of `bytes` bytes (access tokens, temp names). */
export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

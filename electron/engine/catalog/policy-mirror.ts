import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join, dirname } from 'node:path';
import type { GuestSchedule, RetentionPolicy } from '../../../shared/domain/policy.js';
import { nameGuestId, type GuestId } from '../../../shared/domain/guest-id.js';

/** File name of the mirror beside the catalog. */
export const POLICY_MIRROR_FILE = 'policies.json';

/**
 * What the catalog holds that the repository cannot give back: per-guest schedules, retention
 * policies and app settings. Mirrored into `policies.json` beside the catalog on every change,
 * so a catalog that has to be rebuilt (corrupt, truncated or deleted) gets them back.
 */
export interface PolicyMirror {
  format: 1;
  schedules: GuestSchedule[];
  /** `guestId` is absent in mirrors written before guest ids (read as `name:<guest>`). */
  retention: { guestId: GuestId; guest: string; policy: RetentionPolicy }[];
  settings: Record<string, unknown>;
}

/** The mirror file of a catalog file. */
export function policyMirrorPath(catalogFile: string): string {
  return join(dirname(catalogFile), POLICY_MIRROR_FILE);
}

/**
 * Writes the mirror atomically (temp file, fsync, rename) and owner-only (0600: retention and
 * schedules are nobody else's business). Synchronous, as the catalog API is.
 */
export function writePolicyMirror(file: string, m: PolicyMirror): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    const buf = Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
    for (let at = 0; at < buf.length;) at += writeSync(fd, buf, at, buf.length - at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
}

/** Reads the mirror; undefined when there is none or it is not a mirror we wrote (never throws). */
export function readPolicyMirror(file: string): PolicyMirror | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Partial<PolicyMirror>;
    if (m.format !== 1 || !Array.isArray(m.schedules) || !Array.isArray(m.retention) || typeof m.settings !== 'object' || m.settings === null) return undefined;
    // mirrors written before guest ids key everything by name: read them as `name:` ids
    const schedules = m.schedules.map((s) => (s.guestId ? s : { ...s, guestId: nameGuestId(s.guest) }));
    const retention = m.retention.map((r) => (r.guestId ? r : { ...r, guestId: nameGuestId(r.guest) }));
    return { ...(m as PolicyMirror), schedules, retention };
  } catch {
    return undefined;
  }
}

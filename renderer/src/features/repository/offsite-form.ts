import type { OffsiteOverview } from '../../../../shared/domain/engine.js';
import type { Req } from '../../../../shared/ipc/schemas.js';

/** The Offsite section's form, as typed (strings, so a half-typed number is kept). */
export interface OffsiteForm {
  /** `s3://BUCKET/PREFIX`. */
  to: string;
  /** Empty: AWS S3 of the region. */
  endpoint: string;
  region: string;
  pathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  objectLock: boolean;
  lockDays: string;
  /** COMPLIANCE (nobody can delete early; the default) or GOVERNANCE (trials: a privileged user can). */
  lockMode: 'COMPLIANCE' | 'GOVERNANCE';
  /** HH:MM, local time of the daily maintenance the copy runs after. */
  dailyAt: string;
}

const S3_URL = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The form for a status: the saved setup (keys never come back: empty fields keep the stored ones), else defaults (Object Lock on, 30 days). */
export function formFrom(o: OffsiteOverview | null): OffsiteForm {
  const s = o?.settings;
  return {
    to: s?.to ?? '',
    endpoint: s?.endpoint ?? '',
    region: s?.region ?? '',
    pathStyle: s?.pathStyle ?? true,
    accessKeyId: '',
    secretAccessKey: '',
    objectLock: s ? s.lockDays !== undefined : true,
    lockDays: String(s?.lockDays ?? 30),
    lockMode: s?.lockMode ?? 'COMPLIANCE',
    dailyAt: o?.dailyAt ?? '03:30',
  };
}

/** What keeps the form from being tested or saved, in words (null: nothing). */
export function formProblem(f: OffsiteForm, keysStored: boolean): string | null {
  if (!S3_URL.test(f.to.trim())) return 'enter the destination as s3://BUCKET/PREFIX (bucket: lowercase letters, digits, dots, hyphens)';
  if (f.endpoint.trim() && !/^https?:\/\/[^\s/]+/.test(f.endpoint.trim())) return 'the endpoint must be an http:// or https:// URL (leave it empty for AWS S3)';
  if (f.region.trim() && !/^[a-z0-9-]{1,64}$/.test(f.region.trim())) return 'the region looks like us-east-1 or eu-central-003';
  const id = f.accessKeyId.trim();
  const secret = f.secretAccessKey;
  if (Boolean(id) !== Boolean(secret)) return 'enter both the access key ID and the secret access key';
  if (!id && !keysStored) return 'enter the access key ID and secret access key of a user that may write the bucket';
  if (f.objectLock && !(/^\d+$/.test(f.lockDays) && Number(f.lockDays) >= 1 && Number(f.lockDays) <= 36500)) return 'Object Lock days must be a whole number from 1 to 36500';
  if (!HHMM.test(f.dailyAt)) return 'the daily time is HH:MM (24 hours)';
  return null;
}

/** The destination part of `offsite.configure` / `offsite.test` (keys only when typed). */
export function destinationOf(f: OffsiteForm): Req<'offsite.configure'>['destination'] {
  return {
    to: f.to.trim(),
    ...(f.endpoint.trim() ? { endpoint: f.endpoint.trim() } : {}),
    ...(f.region.trim() ? { region: f.region.trim() } : {}),
    // path-style only means something with an endpoint (AWS itself: virtual-hosted addressing)
    ...(f.endpoint.trim() ? { pathStyle: f.pathStyle } : {}),
    ...(f.accessKeyId.trim() ? { accessKeyId: f.accessKeyId.trim(), secretAccessKey: f.secretAccessKey } : {}),
    ...(f.objectLock ? { lockDays: Number(f.lockDays), ...(f.lockMode === 'GOVERNANCE' ? { lockMode: f.lockMode } : {}) } : {}),
  };
}

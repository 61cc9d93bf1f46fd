/**
 * An S3-compatible destination (AWS S3, Backblaze B2, Wasabi, MinIO, Ceph RGW) through the
 * official AWS SDK v3: `s3://BUCKET/PREFIX` + endpoint/region/path-style + keys, whole-object
 * put/get/list, and the mapping of S3 failures to typed AppErrors that name the destination.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
  type ObjectLockMode,
} from '@aws-sdk/client-s3';
import { AppError, isAppError } from '../../../shared/errors/app-error.js';

/** Where an offsite copy lives and how to reach it. */
export interface S3Target {
  bucket: string;
  /** Key prefix without leading/trailing slash ('' = bucket root). */
  prefix: string;
  /** Endpoint URL (none: AWS S3 of `region`). */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`); default: on when an endpoint is given. */
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** SDK attempts per request (default 3). */
  maxAttempts?: number;
}

/** One object of a listing. */
export interface RemoteEntry {
  size: number;
  /** The ETag as listed: the MD5 of the content for a single-part upload on most services (not with SSE-KMS). */
  etag?: string;
}

/** Object Lock retention to put on uploaded objects. */
export interface ObjectLock {
  mode: 'COMPLIANCE' | 'GOVERNANCE';
  until: Date;
}

/** Parses `s3://BUCKET[/PREFIX]` (USAGE error otherwise). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new AppError('USAGE', `'${url}' is not an S3 destination: expected s3://BUCKET/PREFIX (bucket: 3–63 lowercase letters, digits, dots, hyphens)`);
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((p) => p === '.' || p === '..')) throw new AppError('USAGE', `'${url}': the prefix must not contain '.' or '..' parts`);
  return { bucket: m[1]!, prefix };
}

/** The one spelling of an S3 location (`s3://BUCKET/PREFIX`, no trailing or doubled slashes): what keys it (saved passwords, open repositories). */
export function normalS3Url(url: string): string {
  const { bucket, prefix } = parseS3Url(url);
  return `s3://${bucket}${prefix ? `/${prefix.replace(/\/{2,}/g, '/')}` : ''}`;
}

/** True when a repository location names an S3 destination rather than a folder. */
export const isS3Url = (s: string | undefined): s is string => typeof s === 'string' && s.startsWith('s3://');

/**
 * A target from a URL and the environment: endpoint from `endpoint` or `TWINSNAP_S3_ENDPOINT`,
 * region from `region` or `AWS_REGION` (default us-east-1), path-style from `forcePathStyle` (default: on with an endpoint), keys from `keys` or `AWS_ACCESS_KEY_ID` /
 * `AWS_SECRET_ACCESS_KEY` (the SDK's default chain otherwise: profiles, instance roles).
 */
export function s3TargetFrom(
  url: string,
  opts: { endpoint?: string; region?: string; forcePathStyle?: boolean; keys?: { accessKeyId: string; secretAccessKey: string }; env?: NodeJS.ProcessEnv } = {},
): S3Target {
  const env = opts.env ?? process.env;
  const endpoint = opts.endpoint ?? (env.TWINSNAP_S3_ENDPOINT || undefined);
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) throw new AppError('USAGE', `S3 endpoint '${endpoint}' must be an http(s):// URL`);
  return {
    ...parseS3Url(url),
    endpoint,
    region: opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: opts.forcePathStyle ?? (endpoint !== undefined && env.TWINSNAP_S3_VIRTUAL_HOSTED !== '1'),
    accessKeyId: opts.keys?.accessKeyId ?? env.AWS_ACCESS_KEY_ID,
    secretAccessKey: opts.keys?.secretAccessKey ?? env.AWS_SECRET_ACCESS_KEY,
  };
}

/** One S3 destination: whole objects under `prefix`, keyed by their repository-relative path. */
export class S3Destination {
  readonly client: S3Client;
  /** `s3://bucket/prefix (endpoint)`: how every message names it. */
  readonly name: string;

  constructor(readonly target: S3Target) {
    // the pinned SDK runs on Node 20 (package.json engines); its notice about later SDK versions
    // needing Node 22 would otherwise be printed into every CLI command's output
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      region: target.region ?? 'us-east-1',
      ...(target.endpoint ? { endpoint: target.endpoint } : {}),
      forcePathStyle: target.forcePathStyle ?? target.endpoint !== undefined,
      maxAttempts: target.maxAttempts ?? 3,
      ...(target.accessKeyId && target.secretAccessKey ? { credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey } } : {}),
    });
    this.name = `s3://${target.bucket}${target.prefix ? `/${target.prefix}` : ''}${target.endpoint ? ` at ${target.endpoint}` : ''}`;
  }

  /** The object key of a repository-relative path. */
  key(rel: string): string {
    return this.target.prefix ? `${this.target.prefix}/${rel}` : rel;
  }

  /** Checks that the bucket exists and the keys may use it. */
  async check(): Promise<void> {
    await this.call('checking the bucket', () => this.client.send(new HeadBucketCommand({ Bucket: this.target.bucket })));
  }

  /** Whether the bucket has Object Lock enabled. */
  async objectLockEnabled(): Promise<boolean> {
    try {
      const r = await this.call('reading the Object Lock configuration', () => this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.target.bucket })));
      return r.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
    } catch (e) {
      if (isAppError(e) && /ObjectLockConfigurationNotFound|NoSuchObjectLockConfiguration/i.test(String(e.details?.s3Code))) return false;
      throw e;
    }
  }

  /** Every object under the prefix: repository-relative path → size (one ListObjectsV2 walk). */
  async list(sub = ''): Promise<Map<string, number>> {
    return new Map([...(await this.entries(sub))].map(([k, e]) => [k, e.size]));
  }

  /** Every object under the prefix with its size and ETag (without quotes; one ListObjectsV2 walk). */
  async entries(sub = ''): Promise<Map<string, RemoteEntry>> {
    const out = new Map<string, RemoteEntry>();
    const base = this.target.prefix ? `${this.target.prefix}/` : '';
    let token: string | undefined;
    do {
      const r = await this.call('listing the objects', () => this.client.send(new ListObjectsV2Command({ Bucket: this.target.bucket, Prefix: base + sub, ContinuationToken: token, MaxKeys: 1000 })));
      for (const o of r.Contents ?? []) if (o.Key?.startsWith(base)) out.set(o.Key.slice(base.length), { size: o.Size ?? 0, ...(o.ETag ? { etag: o.ETag.replace(/"/g, '') } : {}) });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Uploads one whole object (optionally under Object Lock retention). */
  async put(rel: string, body: Buffer, lock?: ObjectLock): Promise<void> {
    await this.call(`uploading '${rel}'`, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.target.bucket,
          Key: this.key(rel),
          Body: body,
          ContentLength: body.length,
          ...(lock ? { ObjectLockMode: lock.mode as ObjectLockMode, ObjectLockRetainUntilDate: lock.until } : {}),
        }),
      ),
    );
  }

  /** Sets (extends) the retention of an existing object. */
  async extendRetention(rel: string, lock: ObjectLock): Promise<void> {
    await this.call(`extending the lock of '${rel}'`, () =>
      this.client.send(new PutObjectRetentionCommand({ Bucket: this.target.bucket, Key: this.key(rel), Retention: { Mode: lock.mode, RetainUntilDate: lock.until } })),
    );
  }

  /** The retention date of an object (undefined: not locked). */
  async retention(rel: string): Promise<Date | undefined> {
    try {
      const r = await this.call(`reading the lock of '${rel}'`, () => this.client.send(new GetObjectRetentionCommand({ Bucket: this.target.bucket, Key: this.key(rel) })));
      return r.Retention?.RetainUntilDate;
    } catch (e) {
      if (isAppError(e) && /NoSuchObjectLockConfiguration|ObjectLockConfigurationNotFound|InvalidRequest/i.test(String(e.details?.s3Code))) return undefined;
      throw e;
    }
  }

  /** Every version (and delete marker) under the prefix: repository-relative path → version ids. */
  async versions(sub = ''): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const base = this.target.prefix ? `${this.target.prefix}/` : '';
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      const r = await this.call('listing object versions', () =>
        this.client.send(new ListObjectVersionsCommand({ Bucket: this.target.bucket, Prefix: base + sub, KeyMarker: keyMarker, VersionIdMarker: versionMarker })),
      );
      for (const v of [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])]) {
        if (!v.Key?.startsWith(base) || !v.VersionId) continue;
        const rel = v.Key.slice(base.length);
        out.set(rel, [...(out.get(rel) ?? []), v.VersionId]);
      }
      if (!r.IsTruncated) return out;
      keyMarker = r.NextKeyMarker;
      versionMarker = r.NextVersionIdMarker;
    }
  }

  /** Deletes one object for good: every version of it when `versionIds` are given, else the key. */
  async remove(rel: string, versionIds?: string[]): Promise<void> {
    for (const VersionId of versionIds?.length ? versionIds : [undefined]) {
      await this.call(`deleting '${rel}'`, () => this.client.send(new DeleteObjectCommand({ Bucket: this.target.bucket, Key: this.key(rel), ...(VersionId ? { VersionId } : {}) })));
    }
  }

  /** Downloads one object into memory. */
  async get(rel: string): Promise<Buffer> {
    const r = await this.call(`downloading '${rel}'`, () => this.client.send(new GetObjectCommand({ Bucket: this.target.bucket, Key: this.key(rel) })));
    return Buffer.from(await r.Body!.transformToByteArray());
  }

  /** Downloads one object to `path` (temp file + rename: the file appears only when complete). */
  async download(rel: string, path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.dl-${randomBytes(3).toString('hex')}`;
    try {
      await this.call(`downloading '${rel}'`, async () => {
        const r = await this.client.send(new GetObjectCommand({ Bucket: this.target.bucket, Key: this.key(rel) }));
        await pipeline(r.Body as Readable, createWriteStream(tmp, { mode: 0o600 }));
      });
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /** Runs one S3 request, turning its failure into a typed AppError naming the destination. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw s3Error(e, this.name, what);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

/** Maps an SDK/network failure to an AppError (code by S3 error name, HTTP status or errno). */
export function s3Error(e: unknown, dest: string, what: string): AppError {
  if (isAppError(e)) return e;
  const err = e as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const s3Code = err.Code ?? err.name ?? '';
  const status = err.$metadata?.httpStatusCode;
  const details = { destination: dest, s3Code, status };
  const msg = (code: ConstructorParameters<typeof AppError>[0], text: string) => new AppError(code, `${dest}: ${text} (while ${what})`, { cause: e, details });
  if (/InvalidAccessKeyId|SignatureDoesNotMatch|InvalidToken|ExpiredToken|CredentialsProviderError/.test(s3Code) || /Could not load credentials/i.test(err.message ?? ''))
    return msg('OFFSITE_AUTH_FAILED', `the access key or secret key was refused (${s3Code}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the keys saved in the app`);
  if (/NoSuchBucket/.test(s3Code) || (status === 404 && /HeadBucket|checking the bucket/.test(what)))
    return msg('OFFSITE_BUCKET_NOT_FOUND', `bucket '${destBucket(dest)}' does not exist; create it first (with Object Lock if the copies must be immutable)`);
  if (/QuotaExceeded/.test(s3Code)) return msg('OFFSITE_QUOTA_EXCEEDED', 'the bucket or user quota is used up; raise the quota or free space, then run the copy again (it resumes)');
  if (s3Code === 'AccessDenied' && /delet/i.test(what)) return msg('OFFSITE_LOCKED', 'the object is locked (Object Lock) or the keys may not delete it');
  if (s3Code === 'AccessDenied' || status === 403) return msg('OFFSITE_AUTH_FAILED', `access denied (${s3Code || status}); the keys may not use this bucket`);
  const errno = err.code ?? '';
  if (/ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|socket hang up/.test(`${errno} ${err.message ?? ''}`) || /TimeoutError|NetworkingError/.test(s3Code))
    return msg('OFFSITE_UNREACHABLE', `the endpoint did not answer or dropped the connection (${errno || s3Code || err.message}); run again to resume`);
  return msg('OFFSITE_FAILED', `${s3Code || 'request failed'}${status ? ` (HTTP ${status})` : ''}: ${err.message ?? String(e)}`);
}

const destBucket = (dest: string) => /^s3:\/\/([^/ ]+)/.exec(dest)?.[1] ?? dest;

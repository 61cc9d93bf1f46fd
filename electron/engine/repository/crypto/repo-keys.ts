/**
 * Keys of an encrypted repository (format 2, see ../README.md "Encrypted repositories").
 *
 * A random 32-byte master key is made once per repository and never stored in the clear: each
 * `keys/<id>.json` holds it wrapped (AES-256-GCM) under a key derived from one password or
 * recovery key with scrypt. Changing a password rewraps that one file; no data is touched.
 * HKDF-SHA256 derives from the master key the subkeys that are actually used: one encrypts
 * every object (AES-256-GCM), one names chunks (HMAC-SHA256 of their plain data), one seeds the
 * change-detection fingerprints.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { RepositoryKey } from '../../../../shared/domain/engine.js';

/** The cipher of every sealed object and key file. */
export const CIPHER = 'aes-256-gcm';
/** scrypt cost of new keys: 2^16 × 8 × 128 B = 64 MiB of memory per unlock (see README "Keys"). */
export const DEFAULT_KDF: KdfCost = { N: 2 ** 16, r: 8, p: 1 };
const NONCE = 12;
const TAG = 16;
const SEALED_MAGIC = Buffer.from('TSE1', 'latin1');

/** scrypt cost parameters. */
export interface KdfCost {
  N: number;
  r: number;
  p: number;
}

/** The non-secret encryption parameters kept in `twinsnap-repo.json` (format 2). */
export interface EncryptionParams {
  cipher: typeof CIPHER;
  chunkNames: 'hmac-sha256';
  kdf: 'scrypt';
  subkeys: 'hkdf-sha256';
}

/** One `keys/<id>.json`: the master key wrapped under one password or recovery key. */
export interface KeyFile {
  format: 1;
  id: string;
  kind: 'password' | 'recovery';
  label: string;
  createdAt: string;
  kdf: { name: 'scrypt'; salt: string } & KdfCost;
  wrapped: { cipher: typeof CIPHER; nonce: string; data: string };
}

/** What a key file shows without its secret (key list, repository info). */
export type KeySummary = RepositoryKey;

/** Kinds of sealed objects; each is bound to its kind and name (associated data). */
export type ObjectKind = 'manifest' | 'index' | 'fingerprints' | 'config-file' | 'chunk';

function scrypt(password: string, salt: Buffer, cost: KdfCost): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (e, k) => (e ? reject(e) : resolve(k))));
}

function keyAad(repoId: string, keyId: string): Buffer {
  return Buffer.from(`twinsnap key\0${repoId}\0${keyId}`);
}

/** Checks scrypt cost parameters (power-of-two N ≥ 2^10, sane r/p) of a key file or request. */
export function checkKdfCost(c: KdfCost): void {
  const ok = Number.isInteger(c.N) && c.N >= 1024 && c.N <= 2 ** 22 && (c.N & (c.N - 1)) === 0 && Number.isInteger(c.r) && c.r >= 1 && c.r <= 32 && Number.isInteger(c.p) && c.p >= 1 && c.p <= 16;
  if (!ok) throw new AppError('INVALID_REQUEST', `scrypt parameters N=${c.N}, r=${c.r}, p=${c.p} are out of range (N a power of two 2^10…2^22, r 1…32, p 1…16)`);
}

/** Wraps `master` under `password` as a new key file. */
export async function wrapMasterKey(repoId: string, master: Buffer, password: string, o: { kind: KeyFile['kind']; label: string; createdAt: string; cost?: KdfCost }): Promise<KeyFile> {
  const cost = o.cost ?? DEFAULT_KDF;
  checkKdfCost(cost);
  const id = randomBytes(8).toString('hex');
  const salt = randomBytes(32);
  const kek = await scrypt(password, salt, cost);
  const nonce = randomBytes(NONCE);
  const c = createCipheriv(CIPHER, kek, nonce);
  c.setAAD(keyAad(repoId, id));
  const data = Buffer.concat([c.update(master), c.final(), c.getAuthTag()]);
  return {
    format: 1,
    id,
    kind: o.kind,
    label: o.label,
    createdAt: o.createdAt,
    kdf: { name: 'scrypt', ...cost, salt: salt.toString('base64') },
    wrapped: { cipher: CIPHER, nonce: nonce.toString('base64'), data: data.toString('base64') },
  };
}

/** The master key if `password` opens `key`, else undefined (wrong password or a damaged file). */
export async function unwrapMasterKey(repoId: string, key: KeyFile, password: string): Promise<Buffer | undefined> {
  const cost = { N: key.kdf?.N, r: key.kdf?.r, p: key.kdf?.p };
  checkKdfCost(cost);
  const kek = await scrypt(password, Buffer.from(key.kdf.salt, 'base64'), cost);
  const data = Buffer.from(key.wrapped.data, 'base64');
  if (data.length !== 32 + TAG) return undefined;
  try {
    const d = createDecipheriv(CIPHER, kek, Buffer.from(key.wrapped.nonce, 'base64'));
    d.setAAD(keyAad(repoId, key.id));
    d.setAuthTag(data.subarray(32));
    return Buffer.concat([d.update(data.subarray(0, 32)), d.final()]);
  } catch {
    return undefined;
  }
}

/** The secret-free view of a key file. */
export function keySummary(k: KeyFile): KeySummary {
  return { id: k.id, kind: k.kind, label: k.label, createdAt: k.createdAt, kdf: { name: 'scrypt', N: k.kdf.N, r: k.kdf.r, p: k.kdf.p } };
}

/** A new random recovery key: 256 bits as 8 groups of 8 base32 characters (easy to type from paper). */
export function newRecoveryKey(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no I, O, 0, 1
  const bytes = randomBytes(64);
  let s = '';
  for (let i = 0; i < 64; i++) s += alphabet[bytes[i]! & 31];
  return s.match(/.{8}/g)!.join('-');
}

/** A recovery key as typed: case and separators do not matter. */
export function normalizeRecoveryKey(s: string): string {
  const c = s.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return c.length === 64 ? c.match(/.{8}/g)!.join('-') : s;
}

/**
 * The unlocked keys of a repository: seals and opens objects, names chunks. Sealed object:
 * `'TSE1' | 12-byte random nonce | AES-256-GCM ciphertext | 16-byte tag`, associated data
 * `twinsnap object \0 <repo id> \0 <kind> \0 <name>` — an object moved to another name or kind
 * (a manifest copied into another snapshot, an index swapped between disks) fails to open.
 */
export class RepoKeys {
  /** AES-256-GCM key of every object. */
  readonly dataKey: Buffer;
  /** HMAC-SHA256 key that names chunks. */
  readonly chunkIdKey: Buffer;
  /** The two XXH64 seeds of change-detection fingerprints. */
  readonly fingerprintSeeds: [bigint, bigint];

  private readonly masterKey: Buffer;

  constructor(
    readonly repoId: string,
    master: Buffer,
    /** The key file that unlocked it. */
    readonly keyId: string,
  ) {
    this.masterKey = Buffer.from(master);
    const sub = (info: string, n = 32) => Buffer.from(hkdfSync('sha256', master, Buffer.from(repoId), `twinsnap ${info}`, n));
    this.dataKey = sub('data encryption');
    this.chunkIdKey = sub('chunk names');
    const fp = sub('fingerprint seeds', 16);
    this.fingerprintSeeds = [fp.readBigUInt64LE(0), fp.readBigUInt64LE(8)];
  }

  /** The master key (to wrap it under another password). */
  master(): Buffer {
    return Buffer.from(this.masterKey);
  }

  /** A chunk's name: HMAC-SHA256 of its plain data under the chunk-name key, hex. */
  chunkName(plain: Uint8Array): string {
    return createHmac('sha256', this.chunkIdKey).update(plain).digest('hex');
  }

  /** True when `digest` names `plain` (constant time). */
  namesChunk(digest: string, plain: Uint8Array): boolean {
    const a = Buffer.from(this.chunkName(plain), 'hex');
    const b = Buffer.from(digest, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private aad(kind: ObjectKind, name: string): Buffer {
    return Buffer.from(`twinsnap object\0${this.repoId}\0${kind}\0${name}`);
  }

  /** Encrypts one object under its kind and name. */
  seal(kind: ObjectKind, name: string, plain: Uint8Array | string): Buffer {
    const nonce = randomBytes(NONCE);
    const c = createCipheriv(CIPHER, this.dataKey, nonce);
    c.setAAD(this.aad(kind, name));
    const body = c.update(typeof plain === 'string' ? Buffer.from(plain) : plain);
    return Buffer.concat([SEALED_MAGIC, nonce, body, c.final(), c.getAuthTag()]);
  }

  /** Decrypts one object; undefined when it is damaged, not sealed, or sealed under another kind or name. */
  open(kind: ObjectKind, name: string, sealed: Buffer): Buffer | undefined {
    if (sealed.length < 4 + NONCE + TAG || !sealed.subarray(0, 4).equals(SEALED_MAGIC)) return undefined;
    try {
      const d = createDecipheriv(CIPHER, this.dataKey, sealed.subarray(4, 4 + NONCE));
      d.setAAD(this.aad(kind, name));
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      return Buffer.concat([d.update(sealed.subarray(4 + NONCE, sealed.length - TAG)), d.final()]);
    } catch {
      return undefined;
    }
  }
}

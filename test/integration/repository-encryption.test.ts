/**
 * Encrypted repositories (format 2): nothing of a backed-up image, its configuration, its guest
 * name or its job log is findable in the repository's files (a marker string, also found in a
 * plain repository so the search can fail); passwords, the recovery key and a password change;
 * a flipped byte in every kind of object, a swapped chunk and objects moved between snapshots are
 * each detected on read and named by verify.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository, type Repository } from '../../electron/engine/repository/repository.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';
import { TEST_KDF, TEST_PASSWORD, initTestRepository, type RepoKind } from '../helpers/test-repository.js';

const MiB = 1024 * 1024;
const MARKER = `TWINSNAP-SECRET-MARKER-${randomBytes(6).toString('hex')}`;
let dir: string;

/** Every file under `root` (relative path → bytes). */
function filesOf(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(root, { recursive: true }) as string[]) {
    const p = join(root, f);
    if (statSync(p).isFile()) out.set(relative(root, p), readFileSync(p));
  }
  return out;
}

/** An image with the marker in random data (stored raw), in compressible text and in a zero-padded block. */
function markedImage(path: string): Buffer {
  const a = randomBytes(2 * MiB);
  Buffer.from(MARKER).copy(a, 12345);
  const b = Buffer.from(`${MARKER}\n`.repeat(MiB / (MARKER.length + 1) + 1)).subarray(0, MiB);
  const c = Buffer.alloc(MiB);
  Buffer.from(MARKER).copy(c, 4096);
  const img = Buffer.concat([a, b, c]);
  writeFileSync(path, img);
  return img;
}

async function backupMarked(repo: Repository, img: string, guest = `guest-${MARKER}`) {
  const disk = await RawFileDisk.open(img);
  try {
    return await repo.createSnapshot({
      guest,
      consistency: 'cold',
      log: [`backed up ${MARKER}`],
      configFiles: [{ name: 'vm.vmx', data: `displayName = "${MARKER}"\n` }],
      disks: [{ name: 'disk0', disk, sourceFormat: 'raw', fileName: 'disk0.img' }],
    });
  } finally {
    await disk.close();
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-enc-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('no plaintext in an encrypted repository', () => {
  it.each<[RepoKind, boolean]>([
    ['plain', true],
    ['encrypted', false],
  ])('%s repository: marker findable in its files = %s', async (kind, findable) => {
    const img = join(dir, `${kind}.img`);
    const data = markedImage(img);
    const repo = await initTestRepository(join(dir, `${kind}-repo`), kind, { workers: 2 });
    try {
      const s = await backupMarked(repo, img);
      const hits = [...filesOf(repo.path)].filter(([, b]) => b.includes(MARKER) || b.includes(Buffer.from(MARKER, 'utf16le'))).map(([f]) => f);
      if (findable) expect(hits.length).toBeGreaterThan(0);
      else expect(hits).toEqual([]);
      // and the backup is still whole
      const out = join(dir, `${kind}.out`);
      await repo.exportDisk(s.id, 'disk0', { format: 'raw', to: out });
      expect(readFileSync(out).equals(data)).toBe(true);
      expect((await repo.verify({ full: true })).ok).toBe(true);
    } finally {
      await repo.close();
    }
  });
});

describe('passwords and keys', () => {
  let path: string;
  let snapId: string;
  let recovery: string;
  beforeAll(async () => {
    path = join(dir, 'keys-repo');
    const repo = await initTestRepository(path, 'encrypted', { workers: 1 });
    recovery = repo.recoveryKey!;
    snapId = (await backupMarked(repo, join(dir, 'encrypted.img'))).id;
    await repo.close();
  });

  it('says it is encrypted and with what; the configuration holds no secret', async () => {
    const repo = await openRepository(path, { password: TEST_PASSWORD });
    const info = await repo.info();
    expect(info).toMatchObject({ encrypted: true, format: 2, cipher: 'AES-256-GCM', chunkNames: 'HMAC-SHA256', kdf: { name: 'scrypt', ...TEST_KDF } });
    expect(info.encrypted && info.keys.map((k) => k.kind).sort()).toEqual(['password', 'recovery']);
    await repo.close();
    const cfg = readFileSync(join(path, 'twinsnap-repo.json'), 'utf8');
    expect(JSON.parse(cfg)).toMatchObject({ format: 2, encryption: { cipher: 'aes-256-gcm', kdf: 'scrypt' } });
    expect(cfg).not.toContain(TEST_PASSWORD);
    expect(recovery).toMatch(/^([A-Z2-9]{8}-){7}[A-Z2-9]{8}$/);
  });

  it('a missing or wrong password is a clear error', async () => {
    await expect(openRepository(path)).rejects.toMatchObject({ code: 'REPO_PASSWORD_REQUIRED' });
    await expect(openRepository(path, { password: async () => undefined })).rejects.toMatchObject({ code: 'REPO_PASSWORD_REQUIRED' });
    await expect(openRepository(path, { password: 'Tr0ub4dor&3' })).rejects.toMatchObject({ code: 'REPO_PASSWORD_WRONG', message: expect.stringContaining('wrong password') });
  });

  it('the recovery key opens it, typed in lower case without dashes', async () => {
    const repo = await openRepository(path, { password: recovery.toLowerCase().replaceAll('-', ' ') });
    expect((await repo.listSnapshots()).map((s) => s.id)).toEqual([snapId]);
    await repo.close();
  });

  it('a password change rewraps the key only: old password refused, new one opens, no data file changes', async () => {
    const before = filesOf(path);
    const repo = await openRepository(path, { password: TEST_PASSWORD });
    await repo.changePassword('new password', TEST_KDF);
    await repo.close();
    const after = filesOf(path);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((f) => !before.get(f)?.equals(after.get(f) ?? Buffer.alloc(0)) && !f.startsWith('locks'));
    expect(changed.every((f) => f.startsWith('keys/'))).toBe(true);
    expect(changed.length).toBe(2); // old key file gone, new one added
    await expect(openRepository(path, { password: TEST_PASSWORD })).rejects.toMatchObject({ code: 'REPO_PASSWORD_WRONG' });
    const r2 = await openRepository(path, { password: 'new password' });
    expect((await r2.verify({ full: true })).ok).toBe(true);
    // a second password, then the last-key rule
    const added = await r2.addKey({ password: 'second', label: 'admin', kdf: TEST_KDF });
    expect((await r2.listKeys()).map((k) => k.label)).toContain('admin');
    await r2.removeKey(added.id);
    for (const k of await r2.listKeys()) if (k.kind === 'recovery') await r2.removeKey(k.id);
    const [only] = await r2.listKeys();
    await expect(r2.removeKey(only!.id)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await r2.close();
  });
});

describe('tampering in an encrypted repository', () => {
  let repo: Repository;
  let a: string;
  let b: string;
  const snapFile = (id: string, rel: string) => join(repo.layout.snapshot(id), rel);
  const flip = (f: string, at?: number) => {
    const buf = readFileSync(f);
    const p = at ?? Math.floor(buf.length / 2);
    buf[p] = buf[p]! ^ 1;
    writeFileSync(f, buf);
  };
  const restoreFails = async (id: string, code: string, message?: string) => {
    await expect(repo.restoreSnapshot(id, { to: join(dir, `r-${randomBytes(3).toString('hex')}`) })).rejects.toMatchObject({ code, ...(message ? { message: expect.stringContaining(message) } : {}) });
  };
  /** Snapshots `verify` names (full), with their problems. */
  const damaged = async () => (await repo.verify({ full: true })).details.map((d) => [d.snapshotId, d.problems.join('; ')] as const);

  beforeAll(async () => {
    repo = await initTestRepository(join(dir, 'tamper-repo'), 'encrypted', { workers: 2 });
    const img = join(dir, 'tamper.img');
    writeFileSync(img, randomBytes(3 * MiB));
    a = (await backupMarked(repo, img, 'a')).id;
    writeFileSync(img, randomBytes(3 * MiB));
    b = (await backupMarked(repo, img, 'b')).id;
  });
  afterAll(() => repo.close());

  /** Saves the repository's snapshot and chunk files, runs `f`, puts them back. */
  async function withDamage(f: () => Promise<void>): Promise<void> {
    const saved = filesOf(repo.path);
    try {
      await f();
    } finally {
      for (const [rel, bytes] of saved) if (!rel.startsWith('locks')) writeFileSync(join(repo.path, rel), bytes);
    }
    expect((await repo.verify({ full: true })).ok).toBe(true);
  }

  it('a flipped byte in a chunk: verify names the snapshot, restore fails with CHUNK_CORRUPT (authentication)', () =>
    withDamage(async () => {
      const [dg] = [...(await repo.referencedDigests(a))];
      flip(repo.layout.chunk(dg!));
      expect(await damaged()).toEqual([[a, expect.stringContaining('fails authentication')]]);
      await restoreFails(a, 'CHUNK_CORRUPT', dg);
      const disk = await repo.openSnapshotDisk(a, 'disk0'); // the main-thread reader too
      await expect(disk.read(0, 3 * MiB)).rejects.toMatchObject({ code: 'CHUNK_CORRUPT' });
      await disk.close();
    }));

  it('a chunk swapped for another (both valid): the one read under the wrong name fails', () =>
    withDamage(async () => {
      const [x] = [...(await repo.referencedDigests(a))];
      const [y] = [...(await repo.referencedDigests(b))];
      copyFileSync(repo.layout.chunk(y!), repo.layout.chunk(x!));
      expect(await damaged()).toEqual([[a, expect.stringContaining(x!)]]);
      await restoreFails(a, 'CHUNK_CORRUPT', 'another chunk under this name');
    }));

  it.each([
    ['manifest', 'manifest.json'],
    ['index', 'disks/disk0.fidx'],
    ['configuration file', 'config/vm.vmx'],
  ])('a flipped byte in a %s: verify names it, restore fails with MANIFEST_CORRUPT', (_what, rel) =>
    withDamage(async () => {
      flip(snapFile(b, rel), 40);
      expect(await damaged()).toEqual([[b, expect.stringContaining('authentication')]]);
      await restoreFails(b, 'MANIFEST_CORRUPT', 'authentication');
      if (rel === 'manifest.json') await expect(repo.readManifest(b)).rejects.toMatchObject({ code: 'MANIFEST_CORRUPT' });
    }),
  );

  it.each(['manifest.json', 'disks/disk0.fidx', 'config/vm.vmx'])('%s moved into another snapshot fails authentication', (rel) =>
    withDamage(async () => {
      copyFileSync(snapFile(a, rel), snapFile(b, rel));
      expect(await damaged()).toEqual([[b, expect.stringContaining('authentication')]]);
      await restoreFails(b, 'MANIFEST_CORRUPT');
    }),
  );

  it('a damaged fingerprint file is not trusted: the next backup hashes every chunk', () =>
    withDamage(async () => {
      const img = join(dir, 'fp.img');
      writeFileSync(img, randomBytes(2 * MiB));
      const first = await backupMarked(repo, img, 'fp');
      const again = await repo.readManifest((await backupMarked(repo, img, 'fp')).id);
      expect(again.disks[0]!.unchangedChunks).toBe(2); // fingerprints reused when intact
      flip(snapFile(again.id, 'disks/disk0.fp'), 30);
      const third = await repo.readManifest((await backupMarked(repo, img, 'fp')).id);
      expect(third.disks[0]!.unchangedChunks ?? 0).toBe(0);
      await repo.forget([first.id, again.id, third.id]);
    }));
});

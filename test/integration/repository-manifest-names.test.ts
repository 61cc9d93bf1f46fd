/**
 * The repository is not trusted for paths: a manifest edited by hand (a repository on a NAS or
 * a USB disk anyone can change; its digest is a checksum, not a signature) names files outside
 * the restore target. Restore (whole VM and `disks` mode) refuses it before writing anything,
 * `verify` (fast and full) reports the snapshot as damaged and names the field, and nothing
 * appears outside the target.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../shared/domain/job.js';
import { main } from '../../electron/cli/index.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine } from '../../electron/engine/engine.js';
import { fileNameProblem, openRepository } from '../../electron/engine/repository/repository.js';
import { safeName } from '../../electron/engine/repository/snapshot/manifest.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const tmp = makeTempDir('twinsnap-manifest-names-');
const dataDir = join(tmp.path, 'data');
const repoDir = join(dataDir, 'repository');
let id = '';
let original = '';
const silent = { stdout: () => {}, stderr: () => {}, stdoutBytes: async () => {}, isTTY: false };

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--data-dir', dataDir, ...args], { ...silent, stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

/** Rewrites the manifest as an attacker would: edit, then recompute the digest. */
function tamper(edit: (m: { configFiles: { name: string; file: string }[]; disks: { name: string; fileName: string; index: string }[] }) => void): void {
  const outer = JSON.parse(original);
  edit(outer.manifest);
  outer.digest = createHash('sha256').update(JSON.stringify(outer.manifest)).digest('hex');
  writeFileSync(join(repoDir, 'snapshots', id, 'manifest.json'), JSON.stringify(outer));
}

beforeAll(async () => {
  const img = join(tmp.path, 'disk.img');
  writeFileSync(img, Buffer.alloc(2 * 1024 * 1024, 0x5a));
  const vmx = join(tmp.path, 'office.vmx');
  writeFileSync(vmx, 'displayName = "office"\n');
  const r = await cli('--json', 'import-disk', '--guest', 'office', img, '--config', vmx);
  expect(r.code, r.err).toBe(0);
  id = JSON.parse(r.out).id;
  original = readFileSync(join(repoDir, 'snapshots', id, 'manifest.json'), 'utf8');
}, 120_000);
afterAll(() => tmp.cleanup());

describe('names from a manifest are validated before they touch the file system', { timeout: 60_000 }, () => {
  it('refuses separators, .., empty, control characters, device names and trailing dots or spaces', () => {
    for (const bad of [
      '',
      '.',
      '..',
      '../x.vmx',
      'a/b',
      'a\\b',
      '..\\..\\x',
      'C:x',
      'x\u0000',
      'x\ny',
      'x\u001b[2J',
      'x\u0085',
      'CON',
      'con.vmx',
      'Nul.txt',
      'COM1',
      'lpt9.log',
      'AUX .txt',
      'disk.',
      'disk ',
      'a'.repeat(256),
    ]) {
      expect(fileNameProblem(bad), JSON.stringify(bad)).toBeDefined();
    }
    // what backups write always passes the check
    for (const bad of ['CON', 'con.vmx', 'disk.', 'x ', '..', '', 'LPT1.log', 'a\u001b[31m.vmx']) expect(fileNameProblem(safeName(bad)), `${bad} → ${safeName(bad)}`).toBeUndefined();
    for (const good of ['office.vmx', 'disk.vmdk', 'scsi0-0.vmdk', '.hidden', 'a..b', 'CONSOLE.txt', 'COM10', 'Ünïcödé ✓.vmx']) expect(fileNameProblem(good), good).toBeUndefined();
  });

  it('a configuration file name with ../ : restore writes nothing outside, verify (fast and full) names the damage', async () => {
    tamper((m) => {
      m.configFiles[0]!.name = '../../escaped.vmx';
    });
    const to = join(tmp.path, 'restores', 'vm1');
    const r = await cli('--json', 'restore', id, '--to', to);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/MANIFEST_CORRUPT|corrupt/);
    expect(r.err).toContain('../../escaped.vmx');
    expect(existsSync(join(tmp.path, 'escaped.vmx'))).toBe(false);
    expect(existsSync(join(tmp.path, 'restores', 'escaped.vmx'))).toBe(false);
    expect(existsSync(to)).toBe(false);
    for (const full of [[], ['--full']]) {
      const v = await cli('--json', 'verify', ...full);
      expect(v.code).toBe(1);
      const res = JSON.parse(v.out);
      expect(res.damaged).toEqual([id]);
      expect(JSON.stringify(res.details)).toContain('configuration file name');
    }
  });

  it('a disk file name that is a device name, a path or has control characters: whole-VM restore and the disks mode refuse it', async () => {
    const repo = await openRepository(repoDir);
    try {
      for (const fileName of ['CON.img', '../../../escaped-disk.img', 'x\u001b]0;pwned\u0007.img']) {
        tamper((m) => {
          m.disks[0]!.fileName = fileName;
        });
        const to = join(tmp.path, 'restores', `d-${readdirSync(tmp.path).length}`);
        await expect(repo.restoreSnapshot(id, { to })).rejects.toMatchObject({ code: 'MANIFEST_CORRUPT' });
        expect((await repo.verify({ full: true })).damaged).toEqual([id]);
      }
    } finally {
      await repo.close();
    }
    // the `disks` restore mode of the service (the app's "export the disks")
    tamper((m) => {
      m.disks[0]!.fileName = '../../../escaped-disk.img';
    });
    const engine = await createEngine({ dataDir, logger: nullLogger, hypervisors: [] });
    try {
      const to = join(tmp.path, 'restores', 'disks-only');
      // refused when the job is asked for (the service reads the manifest first) or by the job
      let code: string | undefined;
      const finished = new Promise<JobInfo>((resolve) => {
        const off = engine.onEvent((event, payload) => {
          if (event === 'jobs.finished') {
            off();
            resolve(payload as JobInfo);
          }
        });
      });
      try {
        await engine.service.call('restore.start', { snapshotId: id, mode: 'disks', to });
        const job = await finished;
        expect(job.status).toBe('failed');
        code = job.error?.code;
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code).toBe('MANIFEST_CORRUPT');
      expect(existsSync(to) ? readdirSync(to) : []).toEqual([]);
      expect(existsSync(join(tmp.path, 'escaped-disk.img'))).toBe(false);
      expect(existsSync(join(tmp.path, '..', 'escaped-disk.img'))).toBe(false);
    } finally {
      await engine.close();
    }
  });

  it('an index path that leaves the snapshot folder is damage too; the untouched manifest verifies ok', async () => {
    tamper((m) => {
      m.disks[0]!.index = '../../../../../etc/hostname';
    });
    const v = JSON.parse((await cli('--json', 'verify')).out);
    expect(v.damaged).toEqual([id]);
    writeFileSync(join(repoDir, 'snapshots', id, 'manifest.json'), original);
    expect((await cli('verify')).code).toBe(0);
  });
});

describe('manifests before and after guest ids', () => {
  it('catalog rebuild reads a manifest without guestId (older versions) as name:<guest>; a malformed guestId makes the manifest corrupt', async () => {
    expect(JSON.parse(original).manifest).toMatchObject({ guestId: 'name:office', guest: 'office' });
    const snapshots = async () => (JSON.parse((await cli('--json', 'snapshots')).out) as { id: string; guestId: string; guest: string }[]).map((s) => [s.id, s.guestId, s.guest]);
    try {
      tamper((m) => void delete (m as { guestId?: string }).guestId);
      expect((await cli('catalog', 'rebuild')).code).toBe(0);
      expect(await snapshots()).toEqual([[id, 'name:office', 'office']]);
      tamper((m) => void Object.assign(m, { guestId: 'vmware:../../etc' }));
      const repo = await openRepository(repoDir);
      await expect(repo.readManifest(id)).rejects.toMatchObject({ code: 'MANIFEST_CORRUPT', message: expect.stringContaining('is not a guest id') });
      await repo.close();
    } finally {
      writeFileSync(join(repoDir, 'snapshots', id, 'manifest.json'), original);
    }
    expect((await cli('catalog', 'rebuild')).code).toBe(0);
    expect(await snapshots()).toEqual([[id, 'name:office', 'office']]);
  });
});

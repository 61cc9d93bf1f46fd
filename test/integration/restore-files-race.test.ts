/**
 * `restore-files` writes only inside its target, even under a race: a concurrent process keeps
 * swapping the folders being restored into for symlinks to a folder outside the target while
 * 2 000 files are restored from a real ext4 image (mkfs.ext4 -d). Nothing may appear outside.
 * A file in the target hard-linked to a file outside is never written through, and existing
 * files are handled by the chosen policy (keep both — the default —, skip, overwrite).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreFiles } from '../../electron/engine/fs/restore-files.js';
import { SnapshotBrowser } from '../../electron/engine/fs/snapshot-browser.js';
import { main } from '../../electron/cli/index.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';

const FOLDERS = 10;
const PER_FOLDER = 200;
const tmp = makeTempDir('twinsnap-restore-race-');
let img = '';
let disk: RawFileDisk;
let browser: SnapshotBrowser;

/** Every file below `dir` (following nothing). */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

beforeAll(async () => {
  const src = join(tmp.path, 'src');
  for (let d = 0; d < FOLDERS; d++) {
    mkdirSync(join(src, 'docs', `sub${d}`), { recursive: true });
    for (let f = 0; f < PER_FOLDER; f++) writeFileSync(join(src, 'docs', `sub${d}`, `file${f}.txt`), `folder ${d} file ${f}\n`);
  }
  writeFileSync(join(src, 'report.docx'), 'the restored report\n');
  img = join(tmp.path, 'ext4.img');
  execFileSync('mkfs.ext4', ['-q', '-F', '-N', '4096', '-d', src, img, '32M'], { stdio: 'ignore' });
  disk = await RawFileDisk.open(img);
  browser = new SnapshotBrowser([{ name: 'disk0', disk: { size: disk.size, read: (o: number, l: number) => disk.read(o, l) } }], { blockCacheBytes: 8 * 1024 * 1024 });
}, 120_000);

afterAll(async () => {
  await disk?.close();
  tmp.cleanup();
});

/** The attacker: a separate process that swaps every real folder below target/docs for a symlink to `outside`, until `stop` exists. */
const ATTACKER = `
const fs = require('fs'), path = require('path');
const [target, outside, stop, ready] = process.argv.slice(1);
let k = 0;
fs.writeFileSync(ready, '');
const end = Date.now() + 60000;
const pause = (ms) => { const t = Date.now() + ms; while (Date.now() < t); };
// let the restore get going (a folder or two written), then swap whatever folder it is in
while (Date.now() < end && !fs.existsSync(stop) && !fs.existsSync(path.join(target, 'docs', 'sub1'))) pause(1);
while (Date.now() < end && !fs.existsSync(stop)) {
  const cands = [];
  for (let d = 0; d < ${FOLDERS}; d++) cands.push(path.join(target, 'docs', 'sub' + d));
  if (k > 6) cands.push(path.join(target, 'docs'));
  for (const p of cands) {
    try {
      if (!fs.lstatSync(p).isDirectory()) continue;
      fs.renameSync(p, path.join(target, 'moved-' + k++));
      fs.symlinkSync(outside, p);
      pause(3);
    } catch {}
  }
}
`;

describe('restore-files under attack', { timeout: 120_000 }, () => {
  it('a folder swapped for a symlink to outside during a restore of 2 000 files: nothing is written outside', async () => {
    const target = join(tmp.path, 'race-target');
    const outside = join(tmp.path, 'outside');
    mkdirSync(target);
    mkdirSync(outside);
    const stop = join(tmp.path, 'stop');
    const ready = join(tmp.path, 'ready');
    const attacker = spawn(process.execPath, ['-e', ATTACKER, target, outside, stop, ready], { stdio: 'ignore' });
    const exited = new Promise((r) => attacker.once('exit', r));
    let res: Awaited<ReturnType<typeof restoreFiles>>;
    try {
      while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 20));
      // every 300 files the restore stalls for 30 ms (the event loop blocked, as a slow disk
      // would), so the attacker gets to run mid-restore even on a loaded machine
      const stall = new Int32Array(new SharedArrayBuffer(4));
      let n = 0;
      res = await restoreFiles(browser, ['disk0/p0/docs'], target, { onFile: () => void (++n % 300 === 0 && Atomics.wait(stall, 0, 0, 30)) });
    } finally {
      writeFileSync(stop, '');
      await exited;
    }
    expect(walk(outside)).toEqual([]);
    expect(readdirSync(target).filter((n) => n.startsWith('moved-')).length, 'the attacker did swap folders').toBeGreaterThan(0);
    // some files were written before and between the swaps (into the folders the restore holds
    // open, wherever the attacker moved them inside the target); the rest failed, loudly
    expect(res.restored).toBeGreaterThan(0);
    expect(res.failed.length).toBeGreaterThan(0);
    // no temporary files are left behind anywhere in the target
    expect(walk(target).filter((p) => p.includes('.twinsnap-restore-'))).toEqual([]);
  });

  it('a file in the target hard-linked to a file outside is never modified, with any policy', async () => {
    const outsideFile = join(tmp.path, 'victim.txt');
    writeFileSync(outsideFile, 'precious data outside the target\n');
    for (const existing of ['keep-both', 'skip', 'overwrite'] as const) {
      const target = join(tmp.path, `hardlink-${existing}`);
      mkdirSync(target);
      linkSync(outsideFile, join(target, 'report.docx'));
      const res = await restoreFiles(browser, ['disk0/p0/report.docx'], target, { existing, now: new Date(2026, 11, 7, 15, 30).getTime() });
      expect(readFileSync(outsideFile, 'utf8'), existing).toBe('precious data outside the target\n');
      const names = readdirSync(target).sort();
      if (existing === 'keep-both') {
        expect(res).toMatchObject({ restored: 1, keptBoth: 1, overwritten: 0, skippedExisting: 0, failed: [] });
        expect(names).toEqual(['report (restored 2026-12-07 1530).docx', 'report.docx']);
        expect(readFileSync(join(target, 'report (restored 2026-12-07 1530).docx'), 'utf8')).toBe('the restored report\n');
        expect(statSync(join(target, 'report.docx')).nlink).toBe(2);
      } else if (existing === 'skip') {
        expect(res).toMatchObject({ restored: 0, keptBoth: 0, overwritten: 0, skippedExisting: 1, failed: [] });
        expect(names).toEqual(['report.docx']);
      } else {
        expect(res).toMatchObject({ restored: 1, keptBoth: 0, overwritten: 1, skippedExisting: 0, failed: [] });
        expect(names).toEqual(['report.docx']);
        expect(readFileSync(join(target, 'report.docx'), 'utf8')).toBe('the restored report\n');
        expect(statSync(join(target, 'report.docx')).nlink).toBe(1);
      }
    }
  });

  it('a symlink in place of a file or folder is replaced or avoided, never followed', async () => {
    const target = join(tmp.path, 'symlinks');
    const outside = join(tmp.path, 'outside-2');
    mkdirSync(target);
    mkdirSync(outside);
    writeFileSync(join(outside, 'report.docx'), 'outside\n');
    symlinkSync(join(outside, 'report.docx'), join(target, 'report.docx'));
    symlinkSync(outside, join(target, 'docs'));
    const res = await restoreFiles(browser, ['disk0/p0/report.docx', 'disk0/p0/docs'], target, { existing: 'overwrite' });
    expect(readFileSync(join(outside, 'report.docx'), 'utf8')).toBe('outside\n');
    expect(readdirSync(outside)).toEqual(['report.docx']);
    expect(lstatSync(join(target, 'report.docx')).isFile()).toBe(true);
    expect(res.overwritten).toBe(1);
    // a folder cannot be "overwritten" by a merge through a link: that item fails, named
    expect(res.failed).toEqual([{ path: 'disk0/p0/docs', reason: expect.stringMatching(/'docs' exists and is not a folder/) }]);
    // keep both: the folder is restored beside the link
    const kb = await restoreFiles(browser, ['disk0/p0/docs'], target, { now: new Date(2026, 11, 7, 15, 30).getTime() });
    expect(kb).toMatchObject({ restored: FOLDERS * PER_FOLDER, failed: [] });
    expect(readdirSync(outside)).toEqual(['report.docx']);
    expect(readdirSync(join(target, 'docs (restored 2026-12-07 1530)'))).toHaveLength(FOLDERS);
    expect(lstatSync(join(target, 'docs')).isSymbolicLink()).toBe(true);
    // skip: the link is left alone and counted as an existing item skipped
    expect(await restoreFiles(browser, ['disk0/p0/docs'], target, { existing: 'skip' })).toMatchObject({ restored: 0, skippedExisting: 1, failed: [] });
    expect(readdirSync(outside)).toEqual(['report.docx']);
  });

  it('the CLI resolves a relative --to, prints each outcome and exits 1 with the count when items failed', async () => {
    const dataDir = join(tmp.path, 'data');
    const cli = async (...args: string[]) => {
      let out = '';
      let err = '';
      const code = await main(['--data-dir', dataDir, ...args], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdoutBytes: async () => {}, isTTY: false });
      return { code, out, err };
    };
    const imp = await cli('--json', 'import-disk', '--guest', 'g', img);
    expect(imp.code, imp.err).toBe(0);
    const snap = JSON.parse(imp.out).id as string;
    const target = join(tmp.path, 'cli-target');
    mkdirSync(target);
    writeFileSync(join(target, 'report.docx'), 'mine\n');
    const r = await cli('restore-files', snap, 'ext4/p0/report.docx', 'ext4/p0/no-such-file', '--to', relative(process.cwd(), target));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/restored 1 file\(s\).*1 kept beside an existing file/);
    expect(r.out).toMatch(/FAILED ext4\/p0\/no-such-file/);
    expect(r.err).toMatch(/1 item\(s\) failed to restore \[RESTORE_INCOMPLETE\]/);
    expect(readFileSync(join(target, 'report.docx'), 'utf8')).toBe('mine\n');
    expect(readdirSync(target).sort()).toEqual([expect.stringMatching(/^report \(restored \d{4}-\d\d-\d\d \d{4}\)\.docx$/), 'report.docx']);
    const skip = await cli('--json', 'restore-files', snap, 'ext4/p0/report.docx', '--to', target, '--existing', 'skip');
    expect(skip.code).toBe(0);
    expect(JSON.parse(skip.out)).toMatchObject({ restored: 0, skippedExisting: 1, existing: 'skip' });
    // the engine itself refuses a relative destination (it would depend on its working folder)
    const { createEngine } = await import('../../electron/engine/engine.js');
    const engine = await createEngine({ dataDir });
    try {
      await expect(engine.service.call('files.restore', { snapshotId: snap, paths: ['disk0/p0/report.docx'], to: 'relative/dir' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    } finally {
      await engine.close();
    }
    await expect(restoreFiles(browser, ['disk0/p0/report.docx'], 'relative/dir')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    expect(existsSync(join(process.cwd(), 'relative'))).toBe(false);
  });
});

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { initRepository } from '../../electron/engine/repository/repository.js';
import { main } from '../../electron/cli/index.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';

// Repositories from the UI (issue 17.2): create one here / connect an existing one, with checks;
// a folder that is not a repository is never saved as one. The CLI does the same.
let dir: string;
let engine: Engine;
const silent = { stdout: () => {}, stderr: () => {}, stdoutBytes: async () => {}, isTTY: false };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-repo-setup-'));
  const hv = new ScriptedHypervisor();
  hv.addVm({ id: join(dir, 'vms', 'Web', 'Web.vmx'), name: 'Web', configPath: join(dir, 'vms', 'Web', 'Web.vmx'), disks: [{ slot: 'scsi0:0', path: join(dir, 'vms', 'Web', 'Web.vmdk') }] });
  engine = await createEngine({ dataDir: join(dir, 'data'), hypervisors: [hv], logger: nullLogger });
});
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const savedRepository = () => JSON.parse(readFileSync(join(dir, 'data', 'config.json'), 'utf8')).repository as string;

describe('repositories from the UI', () => {
  it('checks a new folder, creates a repository there and uses it', async () => {
    const usb = join(dir, 'usb', 'TwinSnap');
    expect(await engine.service.call('repository.check', { path: usb })).toMatchObject({ path: usb, state: 'missing', writable: true, current: false, problems: [] });
    const s = await engine.service.call('repository.create', { path: usb });
    expect(s.repository).toBe(usb);
    expect(savedRepository()).toBe(usb);
    expect(await engine.service.call('repository.check', { path: usb })).toMatchObject({ state: 'repository', snapshots: 0, current: true, problems: [] });
    await expect(engine.service.call('repository.create', { path: usb })).rejects.toMatchObject({ code: 'ALREADY_EXISTS', message: expect.stringContaining('connect it instead') });
  });

  it('never saves a folder that is not a repository as one (Settings saved was a lie)', async () => {
    const before = savedRepository();
    const docs = join(dir, 'Documents');
    mkdirSync(docs);
    writeFileSync(join(docs, 'letter.txt'), 'hello');
    await expect(engine.service.call('settings.set', { patch: { repository: docs } })).rejects.toMatchObject({
      code: 'REPO_NOT_FOUND',
      message: expect.stringContaining('create one there or connect'),
    });
    await expect(engine.service.call('repository.connect', { path: docs })).rejects.toMatchObject({ code: 'REPO_NOT_FOUND' });
    const check = await engine.service.call('repository.check', { path: docs });
    expect(check).toMatchObject({ state: 'not-empty', problems: [expect.stringContaining('holds other files')] });
    await expect(engine.service.call('repository.create', { path: docs })).rejects.toMatchObject({ code: 'PATH_UNSAFE' });
    expect(savedRepository()).toBe(before);
    expect((await engine.service.call('settings.get', {})).repository).toBe(before);
  });

  it('recognises an existing repository and connects it', async () => {
    const nas = join(dir, 'nas', 'backups');
    await (await initRepository(nas)).close();
    expect(await engine.service.call('repository.check', { path: nas })).toMatchObject({ state: 'repository', snapshots: 0, current: false });
    expect((await engine.service.call('repository.connect', { path: nas })).repository).toBe(nas);
    expect(savedRepository()).toBe(nas);
  });

  it('refuses a folder inside the data of a VM', async () => {
    const inVm = join(dir, 'vms', 'Web', 'backups');
    const check = await engine.service.call('repository.check', { path: inVm });
    expect(check).toMatchObject({ insideVm: 'Web', problems: [expect.stringContaining("inside the files of the vm 'Web'")] });
    await expect(engine.service.call('repository.create', { path: inVm })).rejects.toMatchObject({ code: 'PATH_UNSAFE' });
  });

  it('twinsnap repository init / connect do the same from the command line', async () => {
    const data = join(dir, 'cli-data');
    const made = join(dir, 'cli-repo');
    expect(await main(['--data-dir', data, 'repository', 'init', made], silent)).toBe(0);
    expect(JSON.parse(readFileSync(join(data, 'config.json'), 'utf8')).repository).toBe(made);
    expect(await main(['--data-dir', data, 'repository', 'connect', join(dir, 'Documents')], silent)).toBe(1);
    expect(await main(['--data-dir', data, 'repository', 'connect', join(dir, 'nas', 'backups')], silent)).toBe(0);
    expect(JSON.parse(readFileSync(join(data, 'config.json'), 'utf8')).repository).toBe(join(dir, 'nas', 'backups'));
  });
});

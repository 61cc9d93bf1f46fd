import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { initRepository } from '../../electron/engine/repository/repository.js';
import { repositoryCheck } from '../../electron/engine/workflow/preflight.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';

// Pre-flight checks the repository before anything is frozen: a backup that could not be stored
// never pauses production nor boots a twin (issue 17.3).
let dir: string;
let engine: Engine;
let hv: ScriptedHypervisor;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-pf-repo-'));
  const disk = join(dir, 'ledger.img');
  writeFileSync(disk, Buffer.alloc(1024 * 1024, 1));
  hv = new ScriptedHypervisor();
  hv.addVm({ id: '/vms/ledger/ledger.vmx', name: 'Ledger', state: 'running', toolsRunning: true, disks: [{ slot: 'scsi0:0', path: disk }] });
  engine = await createEngine({ dataDir: join(dir, 'data'), hypervisors: [hv], logger: nullLogger });
});
afterEach(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pre-flight repository check', () => {
  it('a repository that went away (USB disk unplugged) fails the backup at pre-flight: no freeze, no twin, production untouched', async () => {
    const usb = join(dir, 'usb', 'repo');
    await (await initRepository(usb)).close();
    await engine.service.call('settings.set', { patch: { repository: usb } });
    rmSync(join(dir, 'usb'), { recursive: true, force: true });
    const { jobIds } = await engine.service.call('jobs.backupNow', { guests: ['Ledger'] });
    const outcome = await engine.context.jobs.manager.wait(jobIds[0]!);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'REPO_NOT_FOUND', message: expect.stringContaining(usb) } });
    const job = await engine.service.call('jobs.get', { jobId: jobIds[0]! });
    expect(job.steps.find((s) => s.id === 'preflight')).toMatchObject({ status: 'failed' });
    expect(hv.calls.map((c) => c.op)).not.toContain('freeze');
    expect(hv.calls.map((c) => c.op)).not.toContain('startTwin');
    expect(hv.vms.get('/vms/ledger/ledger.vmx')!.state).toBe('running');
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('a repository with room passes and the backup is stored', async () => {
    hv.vms.get('/vms/ledger/ledger.vmx')!.state = 'off';
    const { jobIds } = await engine.service.call('jobs.backupNow', { guests: ['Ledger'] });
    const outcome = await engine.context.jobs.manager.wait(jobIds[0]!);
    expect(outcome).toMatchObject({ status: 'succeeded', consistency: 'cold' });
    const log = await engine.service.call('jobs.log', { jobId: jobIds[0]! });
    // the first backup expects the data the disk holds (1 MiB written, all non-zero)
    expect(log.map((l) => l.message)).toContainEqual(expect.stringMatching(/^check repository: repository '.*' is writable, \d+ MiB free ≥ 1 MiB expected new data$/));
  });

  it('too little room is DISK_FULL with what to do', () => {
    const c = repositoryCheck({ path: '/mnt/nas/repo', freeBytes: 10 * 1024 * 1024, neededBytes: 4096 * 1024 * 1024 });
    expect(c).toMatchObject({ id: 'repository', ok: false, code: 'DISK_FULL', message: expect.stringMatching(/10 MiB free .* about 4096 MiB: free space there/) });
    expect(repositoryCheck({ error: { code: 'PERMISSION_DENIED', message: 'no write access' } })).toMatchObject({ ok: false, code: 'PERMISSION_DENIED' });
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../shared/domain/job.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { main } from '../../electron/cli/index.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const silent = { stdout: () => {}, stderr: () => {}, stdoutBytes: async () => {}, isTTY: false };
let dir: string;
let engine: Engine;
let snapshotId: string;
let source: string;

function waitFinished(e: Engine, jobId: string): Promise<JobInfo> {
  return new Promise((resolve) => {
    const off = e.onEvent((event, payload) => {
      if (event === 'jobs.finished' && (payload as JobInfo).id === jobId) {
        off();
        resolve(payload as JobInfo);
      }
    });
  });
}

beforeAll(async () => {
  dir = makeTempDir('twinsnap-restore-').path;
  // A 24 MiB sparse VMDK with data at both ends and a hole in the middle, and a .vmx beside it.
  const raw = join(dir, 'src.raw');
  execFileSync('qemu-img', ['create', '-f', 'raw', raw, '24M']);
  execFileSync('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 0 3M', '-c', 'write -P 0xa7 20M 1M', raw]);
  source = join(dir, 'Accounting.vmdk');
  execFileSync('qemu-img', ['convert', '-O', 'vmdk', raw, source]);
  const vmx = join(dir, 'Accounting.vmx');
  writeFileSync(vmx, '.encoding = "UTF-8"\ndisplayName = "Accounting"\nscsi0:0.fileName = "Accounting.vmdk"\n');
  const dataDir = join(dir, 'data');
  expect(await main(['--data-dir', dataDir, 'import-disk', '--guest', 'Accounting', source, '--config', vmx], silent)).toBe(0);
  engine = await createEngine({ dataDir, logger: nullLogger, hypervisors: [] });
  const snaps = await engine.service.call('snapshots.list', { guest: 'Accounting' });
  expect(snaps).toHaveLength(1);
  snapshotId = snaps[0]!.id;
});
afterAll(async () => engine?.close());

describe('restore.start', () => {
  it('restores the whole VM folder as a new VM whose disk equals the source (qemu-img compare)', async () => {
    const to = join(dir, 'restored-vm');
    const { jobId } = await engine.service.call('restore.start', { snapshotId, mode: 'new-vm', to });
    const job = await waitFinished(engine, jobId);
    expect(job).toMatchObject({ status: 'succeeded', kind: 'restore', guest: 'Accounting' });
    expect(job.steps[0]!.detail).toContain(to);
    expect(readdirSync(to).sort()).toEqual(['Accounting.vmdk', 'Accounting.vmx']);
    execFileSync('qemu-img', ['compare', '-q', source, join(to, 'Accounting.vmdk')]);
  });

  it('exports the disks only, in another format that qemu-img checks and compares equal', async () => {
    const to = join(dir, 'disks-only');
    const { jobId } = await engine.service.call('restore.start', { snapshotId, mode: 'disks', to, format: 'qcow2' });
    const job = await waitFinished(engine, jobId);
    expect(job.status).toBe('succeeded');
    const out = join(to, 'Accounting.qcow2');
    execFileSync('qemu-img', ['check', '-q', out]);
    execFileSync('qemu-img', ['compare', '-q', source, out]);
  });

  it('refuses a snapshot that does not exist and an occupied destination with typed errors', async () => {
    await expect(engine.service.call('restore.start', { snapshotId: '20990101T000000Z-000000', mode: 'new-vm', to: join(dir, 'x') })).rejects.toMatchObject({
      code: 'SNAPSHOT_NOT_FOUND',
    });
    const { jobId } = await engine.service.call('restore.start', { snapshotId, mode: 'new-vm', to: join(dir, 'restored-vm') });
    const job = await waitFinished(engine, jobId);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'ALREADY_EXISTS' } });
    expect(existsSync(join(dir, 'restored-vm', 'Accounting.vmx'))).toBe(true);
  });
});

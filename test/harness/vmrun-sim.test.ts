/**
 * vmrun-sim against the real test guest: boot, suspend/resume, live snapshot, soft stop through
 * the ACPI handler, Tools refusal, hostile paths. Oracles: qemu-img, e2fsck/debugfs, sqlite3.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './guest/build-guest.js';
import { run, type RunResult } from './guest/exec.js';
import { makeTestVm, type TestVm } from './guest/make-test-vm.js';
import { inspectDataDisk, readAcks } from './guest/read-back.js';

const VMRUN = path.join(REPO_ROOT, 'test/harness/vmrun-sim/vmrun');
// A folder and a VM name that would execute something if any layer used a shell.
const HOSTILE_DIR = `Prod 'q' "dq" $(touch PWNED1) \`touch PWNED2\`; touch PWNED3 a,b ‘uq’ “dq” ü 日本`;
const HOSTILE_NAME = `VM $(touch PWNED4) "x" ‘y’ ü, z`;

let work: string;
let env: NodeJS.ProcessEnv;

function vmrun(...args: string[]): Promise<RunResult> {
  return run(VMRUN, args, { env, allowFailure: true, timeoutMs: 120_000, cwd: work });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function serialLog(vm: TestVm): string {
  return vm.vmxPath.replace(/\.vmx$/, '.serial0.log');
}

async function waitAcks(vm: TestVm, atLeast: number): Promise<number[]> {
  return waitFor(`ACK ${atLeast}`, async () => {
    const acks = await readAcks(serialLog(vm));
    return acks.length && acks[acks.length - 1]! >= atLeast ? acks : undefined;
  });
}

async function vmxKey(vm: TestVm, key: string): Promise<string | undefined> {
  const text = await readFile(vm.vmxPath, 'utf8');
  const line = text.split('\n').find((l) => l.toLowerCase().startsWith(key.toLowerCase() + ' ='));
  return line ? /"(.*)"/.exec(line)?.[1] : undefined;
}

async function findPwned(dir: string): Promise<string[]> {
  const hits: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.name.startsWith('PWNED')) hits.push(e.name);
  }
  return hits;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'vmrun-sim-test-'));
  env = { ...process.env, VMRUN_SIM_STATE: path.join(work, 'state'), VMRUN_SIM_TIMINGS: path.join(work, 'timings.jsonl') };
});

afterAll(async () => {
  const list = await vmrun('list');
  for (const vmx of list.stdout.split('\n').slice(1).filter(Boolean)) await vmrun('stop', vmx, 'hard');
  await rm(work, { recursive: true, force: true });
});

describe('vmrun-sim command line', () => {
  it('prints vmrun-style errors on stdout with exit code 255', async () => {
    expect(await vmrun('list')).toMatchObject({ code: 0, stdout: 'Total running VMs: 0\n' });
    expect(await vmrun('-T', 'ws', '-gu', 'user', '-gp', 'p w', 'list')).toMatchObject({ code: 0, stdout: 'Total running VMs: 0\n' });
    const missing = path.join(work, 'nope.vmx');
    expect(await vmrun('-T', 'ws', 'start', missing, 'nogui')).toMatchObject({
      code: 255,
      stdout: `Error: Cannot open VM: ${missing}, The virtual machine cannot be found\n`,
    });
    expect(await vmrun('start', path.join(work, 'x.txt'))).toMatchObject({
      code: 255,
      stdout: `Error: Cannot open VM: ${path.join(work, 'x.txt')}, unknown file suffix\n`,
    });
    const usage = await vmrun();
    expect(usage.code).toBe(255);
    expect(usage.stdout).toMatch(/^vmrun version \d+\.\d+\.\d+ build-\d+/);
    expect(usage.stdout).toContain('Usage: vmrun [AUTHENTICATION-FLAGS] COMMAND [PARAMETERS]');
  });
});

describe('vmrun-sim snapshots of a powered-off VM', () => {
  it('builds a real delta chain, reverts, lists a tree, consolidates', async () => {
    const vm = await makeTestVm(path.join(work, 'off $(touch PWNED5)'), { name: 'off', workload: 'off' });
    const snapName = `s1 "q" $(touch PWNED6) ‘u’`;
    expect(await vmrun('snapshot', vm.vmxPath, snapName)).toMatchObject({ code: 0, stdout: '' });
    expect(await vmrun('snapshot', vm.vmxPath, 's2')).toMatchObject({ code: 0, stdout: '' });
    const d1 = path.join(vm.dir, 'off-000001.vmdk');
    const d2 = path.join(vm.dir, 'off-000002.vmdk');
    expect(await vmxKey(vm, 'scsi0:0.fileName')).toBe('off-000002.vmdk');
    const chain = JSON.parse((await run('qemu-img', ['info', '--backing-chain', '--output=json', d2])).stdout) as { filename: string }[];
    expect(chain.map((c) => c.filename)).toEqual([d2, d1, vm.diskPath]);
    await run('qemu-img', ['check', d2]);
    expect(await vmrun('-T', 'player', 'snapshot', vm.vmxPath, 'p')).toMatchObject({ code: 255, stdout: 'Error: The operation is not supported\n' });

    expect(await vmrun('revertToSnapshot', vm.vmxPath, snapName)).toMatchObject({ code: 0, stdout: '' });
    // the leaf written after s2 was discarded; a fresh delta of the s1 disk replaces it
    expect(await vmxKey(vm, 'scsi0:0.fileName')).toBe('off-000002.vmdk');
    const chain2 = JSON.parse((await run('qemu-img', ['info', '--backing-chain', '--output=json', d2])).stdout) as { filename: string }[];
    expect(chain2.map((c) => c.filename)).toEqual([d2, vm.diskPath]);
    expect(await vmrun('snapshot', vm.vmxPath, 's3')).toMatchObject({ code: 0 });
    expect(await vmrun('listSnapshots', vm.vmxPath, 'showTree')).toMatchObject({ code: 0, stdout: `Total snapshots: 3\n${snapName}\n\ts2\n\ts3\n` });
    expect(await vmrun('deleteSnapshot', vm.vmxPath, snapName)).toMatchObject({ code: 255 });
    expect(await vmrun('deleteSnapshot', vm.vmxPath, 'nope')).toMatchObject({ code: 255, stdout: 'Error: The snapshot does not exist: nope\n' });
    expect(await vmrun('deleteSnapshot', vm.vmxPath, 's3')).toMatchObject({ code: 0 });
    expect(await vmxKey(vm, 'scsi0:0.fileName')).toBe('off-000002.vmdk');
    expect(await vmrun('listSnapshots', vm.vmxPath)).toMatchObject({ stdout: `Total snapshots: 2\n${snapName}\ns2\n` });
    expect((await inspectDataDisk(vm.vmxPath.replace(/off\.vmx$/, 'off-000002.vmdk'))).fsckCode).toBe(0);
    expect(await findPwned(work)).toEqual([]);
  }, 60_000);
});

describe('vmrun-sim with a running guest', () => {
  let vm: TestVm;
  let lastBeforeSuspend = 0;
  let child = '';

  it('starts a VM in a hostile folder and reports Tools once the guest is up', async () => {
    vm = await makeTestVm(path.join(work, HOSTILE_DIR), { name: HOSTILE_NAME });
    expect(await vmrun('checkToolsState', vm.vmxPath)).toMatchObject({ code: 0, stdout: 'unknown\n' });
    expect(await vmrun('stop', vm.vmxPath, 'soft')).toMatchObject({
      code: 255,
      stdout: `Error: The virtual machine is not powered on: ${vm.vmxPath}\n`,
    });
    const t0 = Date.now();
    expect(await vmrun('-T', 'ws', 'start', vm.vmxPath, 'nogui')).toMatchObject({ code: 0, stdout: '' });
    expect(Date.now() - t0).toBeLessThan(60_000); // returns once QEMU runs, like the real vmrun
    expect(await vmrun('list')).toMatchObject({ stdout: `Total running VMs: 1\n${vm.vmxPath}\n` });
    await waitFor('Tools running', async () => (await vmrun('checkToolsState', vm.vmxPath)).stdout === 'running\n');
    await waitAcks(vm, 3);
    expect(await vmrun('readVariable', vm.vmxPath, 'runtimeConfig', 'displayName')).toMatchObject({ code: 0, stdout: `${HOSTILE_NAME}\n` });
    expect(await vmrun('writeVariable', vm.vmxPath, 'guestVar', 'k', 'v $(x)')).toMatchObject({ code: 0 });
    expect(await vmrun('readVariable', vm.vmxPath, 'guestVar', 'k')).toMatchObject({ code: 0, stdout: 'v $(x)\n' });
    expect(await findPwned(work)).toEqual([]);
    expect(await readdir(path.join(work, HOSTILE_DIR))).toContain(`${HOSTILE_NAME}.serial0.log`);
  }, 180_000);

  it('suspends to a .vmss and resumes the same guest from it', async () => {
    const t0 = Date.now();
    expect(await vmrun('suspend', vm.vmxPath)).toMatchObject({ code: 0, stdout: '' });
    const suspendMs = Date.now() - t0;
    const vmss = `${HOSTILE_NAME}.vmss`;
    expect(await vmxKey(vm, 'checkpoint.vmState')).toBe(vmss.replace(/"/g, '|22'));
    // like Workstation: the .vmss holds the device state behind VMware's checkpoint magic, the
    // guest memory stays in the companion .vmem (memsize)
    const head = await readFile(path.join(vm.dir, vmss));
    expect(head.readUInt32LE(0)).toBe(0xbed2bed2);
    expect(head.length).toBeLessThan(4 * 1024 * 1024);
    const vmem = path.join(vm.dir, `${HOSTILE_NAME}.vmem`);
    expect((await stat(vmem)).size).toBe(256 * 1024 * 1024);
    const vmemInode = (await stat(vmem)).ino;
    expect(await vmrun('list')).toMatchObject({ stdout: 'Total running VMs: 0\n' });
    expect((await vmrun('checkToolsState', vm.vmxPath)).stdout).toBe('unknown\n');
    const acks = await readAcks(serialLog(vm));
    lastBeforeSuspend = acks.at(-1)!;
    const logSize = (await stat(serialLog(vm))).size;

    const t1 = Date.now();
    expect(await vmrun('start', vm.vmxPath, 'nogui')).toMatchObject({ code: 0, stdout: '' });
    const resumeMs = Date.now() - t1;
    expect(existsSync(path.join(vm.dir, vmss))).toBe(false); // consumed by the resume
    expect((await stat(vmem)).ino).toBe(vmemInode); // the same memory file runs again
    expect(await vmxKey(vm, 'checkpoint.vmState')).toBe('');
    expect((await vmrun('checkToolsState', vm.vmxPath)).stdout).toBe('running\n');
    await waitAcks(vm, lastBeforeSuspend + 3);
    const after = (await readFile(serialLog(vm), 'latin1')).slice(logSize);
    expect(after).not.toContain('GUEST: init started'); // resumed, not rebooted
    expect(after).toMatch(new RegExp(`^ACK ${lastBeforeSuspend + 1}\\r?$`, 'm'));
    console.log(`vmrun-sim: suspend ${suspendMs} ms, resume ${resumeMs} ms (256 MiB guest, TCG)`);
  }, 180_000);

  it('takes a live snapshot: a real child VMDK that the guest writes into', async () => {
    expect(await vmrun('snapshot', vm.vmxPath, 'before backup')).toMatchObject({ code: 0, stdout: '' });
    const base = vm.diskPath;
    child = path.join(vm.dir, `${path.basename(base, '.vmdk')}-000001.vmdk`);
    expect(await vmxKey(vm, 'scsi0:0.fileName')).toBe(path.basename(child).replace(/"/g, '|22'));
    const info = JSON.parse((await run('qemu-img', ['info', '-U', '--backing-chain', '--output=json', child])).stdout) as {
      filename: string;
      'backing-filename'?: string;
    }[];
    expect(info.map((i) => i.filename)).toEqual([child, base]);
    expect(await vmrun('listSnapshots', vm.vmxPath)).toMatchObject({ code: 0, stdout: 'Total snapshots: 1\nbefore backup\n' });
    const frozen = await inspectDataDisk(base);
    await waitAcks(vm, frozen.maxN + 5);
    const current = await inspectDataDisk(child);
    expect(current.maxN).toBeGreaterThan(frozen.maxN); // new commits landed in the child
    expect((await inspectDataDisk(base)).maxN).toBe(frozen.maxN); // the parent stays frozen
  }, 180_000);

  it('stop soft runs the guest power-button handler: clean marker, checkpointed, intact database', async () => {
    const t0 = Date.now();
    expect(await vmrun('-T', 'ws', 'stop', vm.vmxPath, 'soft')).toMatchObject({ code: 0, stdout: '' });
    const stopMs = Date.now() - t0;
    expect(await vmrun('list')).toMatchObject({ stdout: 'Total running VMs: 0\n' });
    const log = await readFile(serialLog(vm), 'latin1');
    expect(log).toContain('GUEST: data disk unmounted');
    const acks = await readAcks(serialLog(vm));
    const disk = await inspectDataDisk(child);
    expect(disk).toMatchObject({ dbPresent: true, walPresent: false, integrity: 'ok', markerPresent: true, fsckCode: 0 });
    expect(disk.marker).toBe(`clean-shutdown last=${acks.at(-1)}`);
    expect(disk.maxN).toBe(acks.at(-1));
    expect(disk.count).toBe(disk.maxN); // every acknowledged transaction, no gaps
    console.log(`vmrun-sim: soft stop ${stopMs} ms, ${disk.count} transactions`);
  }, 180_000);

  it('deleteSnapshot consolidates the child into its parent', async () => {
    const before = await inspectDataDisk(child);
    expect(await vmrun('deleteSnapshot', vm.vmxPath, 'before backup')).toMatchObject({ code: 0, stdout: '' });
    expect(existsSync(child)).toBe(false);
    expect(await vmxKey(vm, 'scsi0:0.fileName')).toBe(path.basename(vm.diskPath).replace(/"/g, '|22'));
    expect(await vmrun('listSnapshots', vm.vmxPath)).toMatchObject({ stdout: 'Total snapshots: 0\n' });
    expect(await inspectDataDisk(vm.diskPath)).toEqual(before);
    expect(await findPwned(work)).toEqual([]);
    expect((await readdir(REPO_ROOT)).filter((f) => f.startsWith('PWNED'))).toEqual([]);
  }, 60_000);
});

describe('vmrun-sim with a guest without Tools', () => {
  it('refuses stop soft, suspends a sparse-VMDK guest, and keeps every ACK through a hard stop', async () => {
    const vm = await makeTestVm(path.join(work, 'no tools'), { name: 'notools', tools: 'none', diskFormat: 'vmdk-sparse' });
    expect(await vmrun('start', vm.vmxPath, 'nogui')).toMatchObject({ code: 0 });
    await waitAcks(vm, 2);
    expect((await vmrun('checkToolsState', vm.vmxPath)).stdout).toBe('installed\n');
    expect(await vmrun('stop', vm.vmxPath, 'soft')).toMatchObject({
      code: 255,
      stdout: `Error: The VMware Tools are not running in the virtual machine: ${vm.vmxPath}\n`,
    });
    expect((await vmrun('list')).stdout).toContain(vm.vmxPath);
    expect(await vmrun('suspend', vm.vmxPath)).toMatchObject({ code: 0 });
    expect(await vmxKey(vm, 'checkpoint.vmState')).toBe('notools.vmss');
    expect(await vmrun('start', vm.vmxPath)).toMatchObject({ code: 0 });
    const last = (await readAcks(serialLog(vm))).at(-1)!;
    await waitAcks(vm, last + 2);
    expect(await vmrun('pause', vm.vmxPath)).toMatchObject({ code: 0 });
    const paused = (await readAcks(serialLog(vm))).at(-1)!;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await readAcks(serialLog(vm))).at(-1)).toBe(paused);
    expect(await vmrun('unpause', vm.vmxPath)).toMatchObject({ code: 0 });
    await waitAcks(vm, paused + 1);
    const logSize = (await stat(serialLog(vm))).size;
    expect(await vmrun('reset', vm.vmxPath, 'soft')).toMatchObject({ code: 255 }); // soft needs Tools
    expect(await vmrun('reset', vm.vmxPath, 'hard')).toMatchObject({ code: 0, stdout: '' });
    await waitFor('reboot', async () => (await readFile(serialLog(vm), 'latin1')).slice(logSize).includes('GUEST: init started'));
    expect((await vmrun('checkToolsState', vm.vmxPath)).stdout).toBe('installed\n');
    expect(await vmrun('stop', vm.vmxPath, 'hard')).toMatchObject({ code: 0, stdout: '' });
    expect(await vmrun('list')).toMatchObject({ stdout: 'Total running VMs: 0\n' });
    const acks = await readAcks(serialLog(vm));
    const disk = await inspectDataDisk(vm.diskPath);
    expect(disk.markerPresent).toBe(false);
    expect(disk.integrity).toBe('ok');
    expect(disk.maxN).toBeGreaterThanOrEqual(acks.at(-1)!); // synchronous=FULL commits survive power loss
  }, 240_000);
});

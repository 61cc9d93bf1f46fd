import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmrunHypervisor } from '../../electron/engine/hypervisor/vmware/vmrun-hypervisor.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import type { Logger } from '../../electron/engine/core/logger.js';
import type { TwinVm } from '../../electron/engine/hypervisor/hypervisor.js';
import { VmxFile } from '../../electron/engine/hypervisor/vmware/vmx-file.js';
import { execFileSync } from 'node:child_process';

/**
 * Failure paths of the vmrun adapter against a scripted stand-in for vmrun (no QEMU): what vmrun
 * prints is taken from the reference's documented messages; every argv is logged.
 */
const STUB = `#!/usr/bin/env node
const fs = require('node:fs');
const env = process.env;
const args = process.argv.slice(2).filter((a, i, all) => !(a === '-T' || all[i - 1] === '-T'));
fs.appendFileSync(env.STUB_LOG, JSON.stringify(args) + '\\n');
const fail = (m) => { process.stdout.write('Error: ' + m + '\\n'); process.exit(255); };
const running = () => (fs.existsSync(env.STUB_RUNNING) ? fs.readFileSync(env.STUB_RUNNING, 'utf8').split('\\n').filter(Boolean) : []);
const [cmd, vmx, mode] = args;
if (!cmd) { console.log('vmrun version 1.17.0 build-12990004'); process.exit(255); }
if (cmd === 'list') { const r = running(); console.log('Total running VMs: ' + r.length + '\\n' + r.join('\\n')); process.exit(0); }
if (cmd === 'checkToolsState') { console.log('running'); process.exit(0); }
if (cmd === 'stop' && mode === 'soft') {
  if (env.STUB_STOP === 'hang') setTimeout(() => {}, 60000);
  else if (env.STUB_STOP === 'canceled') fail('The operation was canceled');
  else if (env.STUB_STOP === 'tools') fail('The VMware Tools are not running in the virtual machine: ' + vmx);
  else if (env.STUB_STOP === '3009x2' && (fs.existsSync(env.STUB_LOG + '.3009') ? fs.readFileSync(env.STUB_LOG + '.3009', 'utf8').length : 0) < 2) {
    fs.appendFileSync(env.STUB_LOG + '.3009', 'x');
    fail('Cannot run the power operation script: VIX_E_POWEROP_SCRIPTS_NOT_AVAILABLE (3009)');
  }
  else { fs.writeFileSync(env.STUB_RUNNING, running().filter((l) => l !== vmx).join('\\n')); process.exit(0); }
} else if (cmd === 'suspend') {
  if (env.STUB_SUSPEND === 'off') fail('The virtual machine is not powered on: ' + vmx);
  fs.writeFileSync(vmx, fs.readFileSync(vmx, 'utf8') + 'checkpoint.vmState = "prod.vmss"\\n');
  // a checkpoint header (VMware's magic 0xbed2bed2, little-endian) with the memory inside
  fs.writeFileSync(require('node:path').join(require('node:path').dirname(vmx), 'prod.vmss'), Buffer.concat([Buffer.from([0xd2, 0xbe, 0xd2, 0xbe]), Buffer.from('memory')]));
  fs.writeFileSync(env.STUB_RUNNING, running().filter((l) => l !== vmx).join('\\n'));
  process.exit(0);
} else if (cmd === 'snapshot') {
  if (env.STUB_SNAPSHOT !== 'ok') fail('The operation is not supported');
  fs.writeFileSync(vmx, fs.readFileSync(vmx, 'utf8').replace('scsi0:0.fileName = "prod.vmdk"', 'scsi0:0.fileName = "prod-000001.vmdk"'));
  process.exit(0);
}
else if (cmd === 'deleteSnapshot') fail('A snapshot with the name ' + mode + ' does not exist');
else if (cmd === 'start' && env.STUB_START === 'timeout') setTimeout(() => {}, 60000);
else if (cmd === 'start') { if (!running().includes(vmx)) fs.writeFileSync(env.STUB_RUNNING, [...running(), vmx].join('\\n')); process.exit(0); }
else if (cmd === 'stop') { fs.writeFileSync(env.STUB_RUNNING, running().filter((l) => l !== vmx).join('\\n')); process.exit(0); }
else fail('One of the parameters was invalid');
`;

const quiet: Logger = { log() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

describe('VmrunHypervisor failure paths (scripted vmrun)', () => {
  let dir: string;
  let log: string;
  let runningFile: string;
  let vmx: string;
  const make = (extra: Record<string, string> = {}, twinsRoot?: string, timeouts: { toolsWarmup?: number } = {}) => {
    Object.assign(process.env, { STUB_LOG: log, STUB_RUNNING: runningFile, STUB_STOP: '', STUB_SNAPSHOT: '', STUB_SUSPEND: '', STUB_START: '' }, extra);
    return new VmrunHypervisor({
      vmrunPath: join(dir, 'bin', 'vmrun'),
      vmFolders: [join(dir, 'vms')],
      logger: quiet,
      clock: systemClock,
      inventory: { inventoryFiles: [], preferencesFiles: [] },
      timeouts: { stop: 30_000, settle: 300, toolsWarmup: 2000, ...timeouts },
      twinsRoot,
    });
  };
  const calls = () =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsnap-vmstub-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'vms', 'prod'), { recursive: true });
    writeFileSync(join(dir, 'bin', 'vmrun'), STUB);
    chmodSync(join(dir, 'bin', 'vmrun'), 0o755);
    log = join(dir, 'calls.log');
    runningFile = join(dir, 'running.txt');
    vmx = join(dir, 'vms', 'prod', 'prod.vmx');
    writeFileSync(vmx, 'config.version = "8"\nvirtualHW.version = "19"\ndisplayName = "Prod"\nmemsize = "512"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "prod.vmdk"\n');
    writeFileSync(runningFile, `${vmx}\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes production and removes its staging folder when the snapshot fails after the suspend', async () => {
    const hv = make();
    const vm = await hv.getVm(vmx);
    await expect(hv.freeze(vm)).rejects.toMatchObject({ code: 'HV_PLAYER_UNSUPPORTED' });
    const cmds = calls().map((c) => c[0]);
    expect(cmds.slice(cmds.indexOf('suspend')).filter((c) => c !== 'list')).toEqual(['suspend', 'snapshot', 'start', 'deleteSnapshot']);
    expect(readFileSync(runningFile, 'utf8').split('\n')).toContain(vmx); // production runs again
    expect(readdirSync(join(dir, 'vms')).filter((f) => f.startsWith('.twinsnap-') || f.startsWith('twinsnap-'))).toEqual([]);
  });

  it('never starts a vm that was not running when the freeze began (suspend refused: not powered on)', async () => {
    const hv = make({ STUB_SUSPEND: 'off' });
    const vm = await hv.getVm(vmx);
    await expect(hv.freeze(vm)).rejects.toMatchObject({ code: 'HV_VM_BAD_STATE' });
    expect(calls().some((c) => c[0] === 'start')).toBe(false);
  });

  it('powers a twin off at once when its start fails or times out (it may be up, unchecked)', async () => {
    const hv = make({ STUB_START: 'timeout' });
    const folder = join(dir, 'vms', 'prod');
    writeFileSync(vmx, readFileSync(vmx, 'utf8') + 'ethernet0.present = "TRUE"\nethernet0.connectionType = "pvn"\nethernet0.pvnID = "52 01 02 03 04 05 06 07-08 09 0a 0b 0c 0d 0e 0f"\n');
    await expect(hv.startTwin({ id: vmx, name: 'twin', folder, disks: [] }, { timeoutMs: 1500 })).rejects.toMatchObject({ code: 'HV_COMMAND_TIMEOUT' });
    expect(
      calls()
        .map((c) => `${c[0]} ${c[2] ?? ''}`.trim())
        .slice(-2),
    ).toEqual(['start nogui', 'stop hard']);
  });

  it('refuses to freeze on vmware player before touching the vm', async () => {
    writeFileSync(join(dir, 'bin', 'vmplayer'), '');
    const hv = make();
    const vm = await hv.getVm(vmx);
    expect(vm.warnings?.join(' ')).toMatch(/player/);
    await expect(hv.freeze(vm)).rejects.toMatchObject({ code: 'HV_PLAYER_UNSUPPORTED' });
    expect(calls().some((c) => c[0] === 'suspend')).toBe(false);
  });

  const twin = (): TwinVm => ({ id: vmx, name: 'Prod twin', folder: join(dir, 'vms', 'prod'), disks: [] });

  it('maps a soft stop that vmrun itself gives up on, with the guest still up, to HV_SHUTDOWN_TIMEOUT', async () => {
    const hv = make({ STUB_STOP: 'canceled' });
    await expect(hv.shutdownTwin(twin())).rejects.toMatchObject({ code: 'HV_SHUTDOWN_TIMEOUT' });
  });

  it('kills a hanging soft stop at the time limit and says HV_SHUTDOWN_TIMEOUT', async () => {
    const hv = make({ STUB_STOP: 'hang' });
    const t0 = Date.now();
    await expect(hv.shutdownTwin(twin(), { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'HV_SHUTDOWN_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('refuses a soft stop without tools with HV_TOOLS_NOT_RUNNING, and succeeds when the guest powers off', async () => {
    await expect(make({ STUB_STOP: 'tools' }).shutdownTwin(twin())).rejects.toMatchObject({ code: 'HV_TOOLS_NOT_RUNNING' });
    await make().shutdownTwin(twin());
    expect(readFileSync(runningFile, 'utf8').trim()).toBe('');
  });

  it('retries a soft stop that tools just resumed refuse with 3009, and reports how it shut down', async () => {
    const hv = make({ STUB_STOP: '3009x2' }, undefined, { toolsWarmup: 10_000 });
    const t0 = Date.now();
    await expect(hv.shutdownTwin(twin(), { timeoutMs: 30_000 })).resolves.toEqual({ method: 'vmrun stop soft (retried 2× while tools warmed up)' });
    expect(calls().filter((c) => c[0] === 'stop')).toHaveLength(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(readFileSync(runningFile, 'utf8').trim()).toBe('');
  });

  it('deletes a stopped twin only once its lock directories are gone (a lock deleted early comes back)', async () => {
    const hv = make();
    const folder = join(dir, 'vms', 'twinsnap-twin-twinsnap-x');
    const lock = join(folder, 'twin.vmx.lck');
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(folder, '.twinsnap-twin'), `${vmx}\n`);
    writeFileSync(join(folder, 'twin.vmx'), 'config.version = "8"\n');
    // the stopped VM's process still owns its files for 1.5 s, like VMRUN_SIM_LOCK_LINGER_MS
    let recreated = false;
    const until = Date.now() + 1500;
    const owner = setInterval(() => {
      if (Date.now() > until) {
        clearInterval(owner);
        rmSync(lock, { recursive: true, force: true });
      } else if (!existsSync(lock)) {
        recreated = true;
        mkdirSync(lock, { recursive: true });
      }
    }, 50);
    await hv.deleteTwin({ id: join(folder, 'twin.vmx'), name: 'twin', folder, disks: [] });
    await new Promise((r) => setTimeout(r, 1700));
    expect(recreated).toBe(false);
    expect(existsSync(folder)).toBe(false);
  });

  it('builds a twin into a hostile folder with a hostile name: nothing runs, everything round-trips, the child reads through to the frozen disk', async () => {
    rmSync('/tmp/pwned', { force: true });
    execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', join(dir, 'vms', 'prod', 'prod.vmdk'), '8M']);
    const root = join(dir, `twins "$(touch /tmp/pwned)" \`id\`; \u2018q\u2019 ${'r'.repeat(100)}`);
    mkdirSync(root, { recursive: true });
    const name = `a'; rm -rf / #$(touch /tmp/pwned) "\u201Cq\u201D" ${'n'.repeat(150)}`;
    const hv = make({ STUB_SNAPSHOT: 'ok' }, root);
    const frozen = await hv.freeze(await hv.getVm(vmx));
    expect(frozen.frozenDisks).toEqual([{ slot: 'scsi0:0', path: join(dir, 'vms', 'prod', 'prod.vmdk') }]);
    await hv.resume(frozen);
    const twin = await hv.buildTwin(frozen, name);
    expect(twin.folder.startsWith(root)).toBe(true);
    expect(VmxFile.parse(readFileSync(twin.id)).get('displayName')).toBe(name);
    expect(readFileSync(join(twin.folder, 'twin.vmss')).subarray(4).toString()).toBe('memory');
    expect(twin.memoryFiles).toEqual([join(twin.folder, 'twin.vmss')]); // no named memory file: the .vmss holds it
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', twin.disks[0]!.path], { encoding: 'utf8' }));
    expect(info['backing-filename']).toBe(join(dir, 'vms', 'prod', 'prod.vmdk'));
    await hv.deleteTwin(twin);
    expect(existsSync(twin.folder)).toBe(false);
    expect(existsSync('/tmp/pwned')).toBe(false);
    expect(calls().every((c) => !c.some((a) => a.includes('rm -rf')))).toBe(true);
  });

  it('asks for step limits that grow with guest memory, never below 300 s for suspend, snapshot and start', async () => {
    make();
    const hv = new VmrunHypervisor({ vmrunPath: join(dir, 'bin', 'vmrun'), vmFolders: [], logger: quiet, clock: systemClock, inventory: { inventoryFiles: [], preferencesFiles: [] } });
    const vm = await hv.getVm(vmx);
    const small = hv.stepLimits({ ...vm, memoryMiB: 512 });
    const big = hv.stepLimits({ ...vm, memoryMiB: 32 * 1024 });
    // suspend + snapshot ≥ 300 s each, plus the capture; resume (start) ≥ 300 s
    expect(small.freeze).toBeGreaterThanOrEqual(600_000);
    expect(small.resume).toBeGreaterThanOrEqual(300_000);
    expect(small['boot-twin']).toBeGreaterThanOrEqual(300_000);
    for (const k of ['freeze', 'resume', 'boot-twin'] as const) expect(big[k]!).toBeGreaterThan(small[k]!);
    expect(big.freeze).toBeGreaterThanOrEqual(32 * 3 * 60_000);
    expect(small['shutdown-twin']).toBeGreaterThan(300_000); // the stop plus the tools warm-up retries
    expect(small.cleanup).toBeGreaterThanOrEqual(900_000 + 120_000); // consolidation plus the lock wait
  });

  it('treats a snapshot that is already gone as released, and never deletes a folder it did not create', async () => {
    const hv = make();
    await hv.releaseFrozen({ vm: await hv.getVm(vmx), handle: 'twinsnap-gone', frozenDisks: [], configFiles: [] });
    await expect(hv.deleteTwin(twin())).rejects.toMatchObject({ code: 'PATH_UNSAFE' });
    expect(existsSync(vmx)).toBe(true);
  });
});

import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmrunHypervisor } from '../../electron/engine/hypervisor/vmware/vmrun-hypervisor.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import type { Logger } from '../../electron/engine/core/logger.js';
import type { TwinVm } from '../../electron/engine/hypervisor/hypervisor.js';

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
  else { fs.writeFileSync(env.STUB_RUNNING, running().filter((l) => l !== vmx).join('\\n')); process.exit(0); }
} else if (cmd === 'suspend') {
  fs.writeFileSync(vmx, fs.readFileSync(vmx, 'utf8') + 'checkpoint.vmState = "prod.vmss"\\n');
  fs.writeFileSync(require('node:path').join(require('node:path').dirname(vmx), 'prod.vmss'), 'memory');
  process.exit(0);
} else if (cmd === 'snapshot') fail('The operation is not supported');
else if (cmd === 'deleteSnapshot') fail('A snapshot with the name ' + mode + ' does not exist');
else if (cmd === 'start') process.exit(0);
else if (cmd === 'stop') { fs.writeFileSync(env.STUB_RUNNING, running().filter((l) => l !== vmx).join('\\n')); process.exit(0); }
else fail('One of the parameters was invalid');
`;

const quiet: Logger = { log() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

describe('VmrunHypervisor failure paths (scripted vmrun)', () => {
  let dir: string;
  let log: string;
  let runningFile: string;
  let vmx: string;
  const make = (extra: Record<string, string> = {}) => {
    Object.assign(process.env, { STUB_LOG: log, STUB_RUNNING: runningFile, STUB_STOP: '' }, extra);
    return new VmrunHypervisor({ vmrunPath: join(dir, 'bin', 'vmrun'), vmFolders: [join(dir, 'vms')], logger: quiet, clock: systemClock, inventory: { inventoryFiles: [], preferencesFiles: [] }, timeouts: { stop: 1500 } });
  };
  const calls = () => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);

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
    expect(cmds.slice(cmds.indexOf('suspend'))).toEqual(['suspend', 'snapshot', 'start', 'deleteSnapshot']);
    expect(readdirSync(join(dir, 'vms')).filter((f) => f.startsWith('.twinsnap-') || f.startsWith('twinsnap-'))).toEqual([]);
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

  it('treats a snapshot that is already gone as released, and never deletes a folder it did not create', async () => {
    const hv = make();
    await hv.releaseFrozen({ vm: await hv.getVm(vmx), handle: 'twinsnap-gone', frozenDisks: [], configFiles: [] });
    await expect(hv.deleteTwin(twin())).rejects.toMatchObject({ code: 'PATH_UNSAFE' });
    expect(existsSync(vmx)).toBe(true);
  });
});

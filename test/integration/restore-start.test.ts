import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../shared/domain/job.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { main } from '../../electron/cli/index.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import { VmrunHypervisor } from '../../electron/engine/hypervisor/vmware/vmrun-hypervisor.js';
import { HyperVHypervisor } from '../../electron/engine/hypervisor/hyperv/hyperv-hypervisor.js';
import { OPERATIONS } from '../../electron/engine/hypervisor/hyperv/scripts/operations.js';
import { VmxFile, escapeValue } from '../../electron/engine/hypervisor/vmware/vmx-file.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeTestVm } from '../harness/guest/make-test-vm.js';
import { setSimSwitches, simState } from '../harness/hyperv-sim/lib/sim-host.mjs';

const POWERSHELL_SIM = resolve(import.meta.dirname, '../harness/hyperv-module/powershell');
const VMRUN = resolve(import.meta.dirname, '../harness/vmrun-sim/vmrun');
const ORIGINAL_UUID = '56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65';
const ORIGINAL_MAC = '00:50:56:3a:ec:65';
const LAB_PVN = '52 6b 1e 0a 9c 33 47 d2-8e 10 4f 6a 21 b7 c5 90';
const silent = { stdout: () => {}, stderr: () => {}, stdoutBytes: async () => {}, isTTY: false };
let dir: string;
let engine: Engine;
let snapshotId: string;
let source: string;
let hyperv: HyperVHypervisor;

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
  // vmrun-sim boots the harness guest (kernel + initrd named by sim.* keys, built once into .cache/)
  const guest = VmxFile.parse(readFileSync((await makeTestVm(join(dir, 'guest-template'), { name: 'template', memMiB: 128, diskMiB: 8, workload: 'off' })).vmxPath));
  const simKeys = guest.entries().filter(([k]) => k.startsWith('sim.'));
  writeFileSync(
    vmx,
    [
      '.encoding = "UTF-8"',
      'config.version = "8"',
      'virtualHW.version = "21"',
      'displayName = "Accounting"',
      'memsize = "128"',
      `uuid.bios = "${ORIGINAL_UUID}"`,
      `uuid.location = "${ORIGINAL_UUID}"`,
      'ethernet0.present = "TRUE"',
      'ethernet0.connectionType = "nat"',
      'ethernet0.addressType = "static"',
      `ethernet0.address = "${ORIGINAL_MAC}"`,
      'scsi0.present = "TRUE"',
      'scsi0:0.present = "TRUE"',
      'scsi0:0.fileName = "Accounting.vmdk"',
      ...simKeys.map(([k, v]) => `${k} = "${escapeValue(v)}"`),
      '',
    ].join('\n'),
  );
  const dataDir = join(dir, 'data');
  expect(await main(['--data-dir', dataDir, 'import-disk', '--guest', 'Accounting', source, '--config', vmx], silent)).toBe(0);
  // VMware through vmrun-sim (QEMU behind the vmrun command line); its state lives in the temp dir
  process.env.VMRUN_SIM_STATE = join(dir, 'vmrun-sim-state');
  // the host's networks: a custom vmnet5 in Workstation for Linux's networking file, a named LAN
  // segment in the user's preferences (restored-network.ts)
  writeFileSync(
    join(dir, 'networking'),
    ['VERSION=1,0', 'answer VNET_1_HOSTONLY_SUBNET 192.168.10.0', 'answer VNET_5_HOSTONLY_SUBNET 10.55.0.0', 'answer VNET_5_DHCP no', 'answer VNET_8_NAT yes', ''].join('\n'),
  );
  writeFileSync(join(dir, 'preferences'), ['pref.namedPVNs.count = "1"', 'pref.namedPVNs0.name = "Lab segment"', `pref.namedPVNs0.pvnID = "${LAB_PVN}"`, ''].join('\n'));
  const vmware = new VmrunHypervisor({
    vmrunPath: VMRUN,
    vmFolders: [join(dir, 'vms-replace')],
    logger: nullLogger,
    clock: systemClock,
    inventory: { inventoryFiles: [], preferencesFiles: [join(dir, 'preferences')] },
    networkingFiles: [join(dir, 'networking')],
  });
  // Hyper-V: the real scripts in pwsh against the Hyper-V stand-in module (state-level VMs)
  hyperv = new HyperVHypervisor({ powershellPath: POWERSHELL_SIM, logger: nullLogger, clock: systemClock, env: { ...process.env, HYPERV_SIM_ROOT: join(dir, 'hyperv-sim') } });
  engine = await createEngine({ dataDir, logger: nullLogger, hypervisors: [vmware, hyperv] });
  const snaps = await engine.service.call('snapshots.list', { guest: 'Accounting' });
  expect(snaps).toHaveLength(1);
  snapshotId = snaps[0]!.id;
});
/** What vmrun-sim logged about each NIC when it powered the VM in `folder` on (its own reading of the .vmx, given to QEMU). */
function loggedNics(folder: string): string[] {
  return readFileSync(join(folder, 'vmware.log'), 'utf8')
    .split('\n')
    .filter((l) => /VNET: Ethernet\d+:/.test(l))
    .map((l) => l.replace(/^.*VNET: /, ''));
}
function vmrun(...args: string[]): string {
  return execFileSync(VMRUN, args, { encoding: 'utf8', timeout: 60_000 });
}

afterAll(async () => {
  // power off anything a failed test left running (the simulator's QEMU processes)
  if (existsSync(VMRUN) && process.env.VMRUN_SIM_STATE) {
    for (const running of vmrun('list').split('\n').slice(1).filter(Boolean)) {
      try {
        vmrun('stop', running, 'hard');
      } catch {
        // already gone
      }
    }
  }
  await engine?.close();
  await hyperv?.dispose?.();
});

describe('restore.start', () => {
  it('restores the whole VM folder as a new VM whose disk equals the source (qemu-img compare)', async () => {
    const to = join(dir, 'restored-vm');
    const { jobId } = await engine.service.call('restore.start', { snapshotId, mode: 'new-vm', to });
    const job = await waitFinished(engine, jobId);
    expect(job).toMatchObject({ status: 'succeeded', kind: 'restore', guest: 'Accounting' });
    expect(job.steps[0]!.detail).toContain(to);
    // the configuration is named after the new VM and names exactly the restored disk
    expect(readdirSync(to).sort()).toEqual(['Accounting-restored.vmx', 'Accounting.vmdk']);
    expect(VmxFile.parse(readFileSync(join(to, 'Accounting-restored.vmx'))).get('scsi0:0.fileName')).toBe('Accounting.vmdk');
    execFileSync('qemu-img', ['compare', '-q', source, join(to, 'Accounting.vmdk')]);
  });

  it('restores a twin backup (disk stored as scsi0-0.vmdk, configuration as production.vmx) into a VM that names its own disk and starts (vmrun-sim)', async () => {
    // the shape a twin backup stores: the twin's child file name, the production .vmx as captured
    const twinShape = join(dir, 'twin-shape');
    mkdirSync(twinShape);
    copyFileSync(source, join(twinShape, 'scsi0-0.vmdk'));
    copyFileSync(join(dir, 'Accounting.vmx'), join(twinShape, 'production.vmx'));
    expect(await main(['--data-dir', join(dir, 'data'), 'import-disk', '--guest', 'Twin shape', join(twinShape, 'scsi0-0.vmdk'), '--config', join(twinShape, 'production.vmx')], silent)).toBe(0);
    const [snap] = await engine.service.call('snapshots.list', { guest: 'Twin shape' });
    const to = join(dir, 'restored-twin-shape');
    const { jobId } = await engine.service.call('restore.start', { snapshotId: snap!.id, mode: 'new-vm', to, newName: 'Ledger copy' });
    const job = await waitFinished(engine, jobId);
    expect(job).toMatchObject({ status: 'succeeded', warnings: [] });
    expect(readdirSync(to).sort()).toEqual(['Accounting.vmdk', 'Ledger copy.vmx']);
    const vmx = VmxFile.parse(readFileSync(join(to, 'Ledger copy.vmx')));
    expect(vmx.get('scsi0:0.fileName')).toBe('Accounting.vmdk');
    expect(vmx.get('displayName')).toBe('Ledger copy');
    execFileSync('qemu-img', ['compare', '-q', source, join(to, 'Accounting.vmdk')]);
    if (!existsSync(VMRUN)) return;
    // the simulator opens every disk the .vmx names ("Cannot open the disk" otherwise)
    await expect(engine.service.call('restore.startVm', { to })).resolves.toMatchObject({ vmId: join(to, 'Ledger copy.vmx'), name: 'Ledger copy' });
    expect(vmrun('list')).toContain(join(to, 'Ledger copy.vmx'));
    vmrun('-T', 'ws', 'stop', join(to, 'Ledger copy.vmx'), 'hard');

    // `twinsnap restore` lays the folder out the same way
    const cliTo = join(dir, 'restored-cli');
    expect(await main(['--data-dir', join(dir, 'data'), 'restore', snap!.id, '--to', cliTo, '--name', 'Ledger cli'], silent)).toBe(0);
    expect(readdirSync(cliTo).sort()).toEqual(['Accounting.vmdk', 'Ledger cli.vmx']);
    expect(VmxFile.parse(readFileSync(join(cliTo, 'Ledger cli.vmx'))).get('scsi0:0.fileName')).toBe('Accounting.vmdk');
  }, 120_000);

  it('restores a whole VM in another format only when VMware can open it: vmdk from a raw source, and refuses qcow2 in words', async () => {
    const rawSrc = join(dir, 'raw-src');
    mkdirSync(rawSrc);
    execFileSync('qemu-img', ['convert', '-O', 'raw', source, join(rawSrc, 'scsi0-0.img')]);
    copyFileSync(join(dir, 'Accounting.vmx'), join(rawSrc, 'production.vmx'));
    expect(await main(['--data-dir', join(dir, 'data'), 'import-disk', '--guest', 'Raw source', join(rawSrc, 'scsi0-0.img'), '--config', join(rawSrc, 'production.vmx')], silent)).toBe(0);
    const [snap] = await engine.service.call('snapshots.list', { guest: 'Raw source' });
    const to = join(dir, 'restored-as-vmdk');
    const done = await waitFinished(engine, (await engine.service.call('restore.start', { snapshotId: snap!.id, mode: 'new-vm', to, format: 'vmdk' })).jobId);
    expect(done.status).toBe('succeeded');
    expect(readdirSync(to).sort()).toEqual(['Accounting.vmdk', 'Raw source-restored.vmx']);
    expect(execFileSync('qemu-img', ['info', '--output=json', join(to, 'Accounting.vmdk')], { encoding: 'utf8' })).toContain('"format": "vmdk"');
    execFileSync('qemu-img', ['compare', '-q', source, join(to, 'Accounting.vmdk')]);
    const refused = await waitFinished(engine, (await engine.service.call('restore.start', { snapshotId: snap!.id, mode: 'new-vm', to: join(dir, 'as-qcow2'), format: 'qcow2' })).jobId);
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'DISK_UNSUPPORTED', message: expect.stringContaining('restore the disks only') } });
    expect(existsSync(join(dir, 'as-qcow2'))).toBe(false);
  });

  it('gives the new VM its own identity and the chosen name, and starts it beside the running original (vmrun-sim)', async () => {
    const to = join(dir, 'restored-run');
    const { jobId } = await engine.service.call('restore.start', { snapshotId, mode: 'new-vm', to, newName: 'Accounting copy' });
    const job = await waitFinished(engine, jobId);
    expect(job).toMatchObject({ status: 'succeeded', warnings: [] });
    expect(job.steps[0]!.detail).toMatch(/new BIOS UUID and new MAC addresses/);
    const vmxPath = join(to, 'Accounting copy.vmx');
    const restored = VmxFile.parse(readFileSync(vmxPath));
    expect(restored.get('displayName')).toBe('Accounting copy');
    expect(restored.get('uuid.bios')).toBeDefined();
    expect(restored.get('uuid.bios')).not.toBe(ORIGINAL_UUID);
    expect(restored.has('uuid.location')).toBe(false);
    expect(restored.get('uuid.action')).toBe('create');
    expect(restored.has('ethernet0.address')).toBe(false);
    expect(restored.get('ethernet0.addressType')).toBe('generated');
    expect(readFileSync(vmxPath, 'utf8')).not.toContain(ORIGINAL_MAC);
    // beside the running original, the copy is off the network by default: the backing is kept,
    // the adapter is not connected at power-on
    expect(restored.get('ethernet0.connectionType')).toBe('nat');
    expect(restored.get('ethernet0.startConnected')).toBe('FALSE');
    expect(job.steps[0]!.detail).toMatch(/network adapters are disconnected/);
    // the disk is untouched by the identity change
    execFileSync('qemu-img', ['compare', '-q', source, join(to, 'Accounting.vmdk')]);

    if (!existsSync(VMRUN)) return;
    // the original, running from its own copy (the guest writes to its disk; the source stays the oracle)
    mkdirSync(join(dir, 'original'));
    copyFileSync(source, join(dir, 'original', 'Accounting.vmdk'));
    const original = join(dir, 'original', 'Accounting.vmx');
    copyFileSync(join(dir, 'Accounting.vmx'), original);
    vmrun('-T', 'ws', 'start', original, 'nogui');
    const started = await engine.service.call('restore.startVm', { to });
    expect(started).toEqual({ vmId: vmxPath, name: 'Accounting copy', hypervisor: 'vmware' });
    // the simulator (an independent reader of the .vmx) lists it as running
    expect(vmrun('list').split('\n').slice(1).filter(Boolean).sort()).toEqual([original, vmxPath].sort());
    // the simulator powered it on with its NIC's link down (QEMU set_link off)
    expect(loggedNics(to)).toEqual(['Ethernet0: connectionType nat, network nat, link disconnected']);
    // starting it again is not an error
    await expect(engine.service.call('restore.startVm', { to })).resolves.toMatchObject({ vmId: vmxPath });
    vmrun('-T', 'ws', 'stop', vmxPath, 'hard');
    vmrun('-T', 'ws', 'stop', original, 'hard');
    expect(vmrun('list').split('\n').slice(1).filter(Boolean)).toEqual([]);
  }, 120_000);

  it('imports a restored Hyper-V folder as a copy with a new VM ID and the chosen name, and starts it (hyperv-sim)', async () => {
    // the real script: Compare-VM / Import-VM -Copy -GenerateNewId, then Rename-VM
    expect(OPERATIONS['import-restored']).toMatch(/Compare-VM -Path .* -Copy -GenerateNewId/);
    expect(OPERATIONS['import-restored']).toMatch(/Import-VM -CompatibilityReport[\s\S]*Rename-VM/);
    const folder = join(dir, 'hv-restored');
    mkdirSync(folder);
    writeFileSync(join(folder, '5A3C9E2B-0000-4000-8000-000000000001.vmcx'), 'configuration');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vhdx', join(folder, 'Accounting.vhdx'), '8M']);
    const r = await hyperv.registerRestored(folder, 'Accounting copy');
    expect(r.id).not.toBe('5A3C9E2B-0000-4000-8000-000000000001');
    expect(r).toMatchObject({ name: 'Accounting copy', configPath: join(folder, 'Virtual Machines') });
    const vm = await hyperv.getVm(r.id);
    expect(vm.state).toBe('off');
    // the disk is used where it was restored (VHD source = destination: no second copy); the
    // restored configuration, copied under 'Virtual Machines' by the import, is removed
    expect(vm.disks.map((d) => d.path)).toEqual([join(folder, 'Accounting.vhdx')]);
    expect(readdirSync(folder).sort()).toEqual(['Accounting.vhdx', 'Virtual Machines']);
    expect(execFileSync('qemu-img', ['info', '--output=json', join(folder, 'Accounting.vhdx')], { encoding: 'utf8' })).toContain('"format": "vhdx"');
    // a copy of production never comes up on production's network by itself
    expect(
      simState(join(dir, 'hyperv-sim'))
        .vms.find((v) => v.id === r.id)!
        .nics.map((n) => n.connected),
    ).toEqual([false]);
    await expect(engine.service.call('restore.startVm', { to: folder })).resolves.toEqual({ vmId: r.id, name: 'Accounting copy', hypervisor: 'hyperv' });
    expect((await hyperv.getVm(r.id)).state).toBe('running');
    await hyperv.powerOffTwin({ id: r.id, name: r.name, folder, disks: [] });

    // connected to a switch the host has (Get-VMSwitch), chosen by name; a name it lacks is refused before the import
    const simRoot = join(dir, 'hyperv-sim');
    setSimSwitches(simRoot, [{ name: 'Office LAN', type: 'External', adapter: 'Intel(R) Ethernet Connection I219-LM' }, 'Default Switch']);
    expect(await hyperv.listNetworks()).toEqual([
      { name: 'Office LAN', kind: 'External', detail: 'Intel(R) Ethernet Connection I219-LM' },
      { name: 'Default Switch', kind: 'Internal' },
    ]);
    const lan = join(dir, 'hv-restored-lan');
    mkdirSync(lan);
    writeFileSync(join(lan, '5A3C9E2B-0000-4000-8000-000000000002.vmcx'), 'configuration');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vhdx', join(lan, 'Accounting.vhdx'), '8M']);
    const before = simState(simRoot).vms.length;
    await expect(hyperv.registerRestored(lan, 'Accounting lab', { network: { kind: 'network', name: "Lab'; Remove-VM *" } })).rejects.toMatchObject({ code: 'HV_NETWORK_NOT_FOUND' });
    expect(simState(simRoot).vms).toHaveLength(before);
    expect(readdirSync(lan).sort()).toEqual(['5A3C9E2B-0000-4000-8000-000000000002.vmcx', 'Accounting.vhdx']);
    const onLan = await hyperv.registerRestored(lan, 'Accounting lab', { network: { kind: 'network', name: 'Office LAN' } });
    expect(
      simState(simRoot)
        .vms.find((v) => v.id === onLan.id)!
        .nics.map((n) => [n.connected, n.switchName]),
    ).toEqual([[true, 'Office LAN']]);
  }, 180_000);

  it('replaces the original (off) with the restore point: same .vmx, same identity, its disk back in time, the previous files kept aside; it starts', async () => {
    const folder = join(dir, 'vms-replace', 'Accounting');
    mkdirSync(folder, { recursive: true });
    const vmxPath = join(folder, 'Accounting.vmx');
    copyFileSync(join(dir, 'Accounting.vmx'), vmxPath);
    // the original lives here: at its power-on Workstation (and vmrun-sim) must not take it for a copy
    appendFileSync(vmxPath, 'uuid.action = "keep"\n');
    copyFileSync(source, join(folder, 'Accounting.vmdk'));
    // what happened since the restore point: the first MiB overwritten
    execFileSync('qemu-io', ['-f', 'vmdk', '-c', 'write -P 0x11 0 1M', join(folder, 'Accounting.vmdk')]);
    await expect(engine.service.call('restore.start', { snapshotId, mode: 'replace', to: '.', confirmName: 'accounting' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    if (existsSync(VMRUN)) {
      vmrun('-T', 'ws', 'start', vmxPath, 'nogui');
      // never powered off by us: a running original is refused before anything is written
      await expect(engine.service.call('restore.start', { snapshotId, mode: 'replace', to: '.', confirmName: 'Accounting' })).rejects.toMatchObject({
        code: 'HV_VM_BAD_STATE',
        message: expect.stringContaining('shut it down first'),
      });
      vmrun('-T', 'ws', 'stop', vmxPath, 'hard');
    }
    const { jobId } = await engine.service.call('restore.start', { snapshotId, mode: 'replace', to: '.', confirmName: 'Accounting' });
    const job = await waitFinished(engine, jobId);
    expect(job).toMatchObject({ status: 'succeeded', kind: 'restore', guest: 'Accounting' });
    expect(readdirSync(folder).sort()).toEqual(['Accounting.vmdk', 'Accounting.vmx']);
    execFileSync('qemu-img', ['compare', '-q', source, join(folder, 'Accounting.vmdk')]);
    const vmx = VmxFile.parse(readFileSync(vmxPath));
    expect(vmx.get('uuid.bios')).toBe(ORIGINAL_UUID);
    expect(vmx.get('ethernet0.address')).toBe(ORIGINAL_MAC);
    expect(vmx.get('scsi0:0.fileName')).toBe('Accounting.vmdk');
    const previous = readdirSync(join(dir, 'vms-replace')).find((f) => f.startsWith('Accounting.before-restore-'));
    expect(previous, 'the previous files are kept').toBeDefined();
    expect(job.steps[0]!.detail).toContain(previous!);
    // the kept copy is the state before the replace (the overwritten first MiB)
    expect(() => execFileSync('qemu-img', ['compare', '-q', source, join(dir, 'vms-replace', previous!, 'Accounting.vmdk')], { stdio: 'pipe' })).toThrow();
    if (!existsSync(VMRUN)) return;
    await expect(engine.service.call('restore.startVm', { to: folder })).resolves.toMatchObject({ vmId: vmxPath });
    // replacing a dead vm puts it back on its network: the original's backing, connected
    expect(loggedNics(folder)).toEqual(['Ethernet0: connectionType nat, network nat, link connected']);
    vmrun('-T', 'ws', 'stop', vmxPath, 'hard');
  }, 120_000);

  it("connects a restored VM to a network the host has (the wizard's list), and refuses one it lacks before writing anything", async () => {
    const listed = await engine.service.call('restore.networks', { snapshotId });
    expect(listed.hypervisor).toBe('vmware');
    expect(listed.networks.map((n) => [n.name, n.kind])).toEqual([
      ['bridged', 'bridged'],
      ['nat', 'nat'],
      ['hostonly', 'hostonly'],
      ['vmnet5', 'custom'],
      ['Lab segment', 'lan-segment'],
    ]);
    const refusedTo = join(dir, 'restored-office');
    await expect(engine.service.call('restore.start', { snapshotId, mode: 'new-vm', to: refusedTo, network: { kind: 'network', name: 'Office LAN' } })).rejects.toMatchObject({
      code: 'HV_NETWORK_NOT_FOUND',
      message: expect.stringContaining("'Lab segment'"),
    });
    expect(existsSync(refusedTo)).toBe(false);
    await expect(engine.service.call('restore.start', { snapshotId, mode: 'disks', to: refusedTo, network: { kind: 'disconnected' } })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    // the schema refuses a network without a name
    await expect(engine.service.call('restore.start', { snapshotId, mode: 'new-vm', to: refusedTo, network: { kind: 'network' } } as never)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });

    const to = join(dir, 'restored-lab');
    const job = await waitFinished(
      engine,
      (await engine.service.call('restore.start', { snapshotId, mode: 'new-vm', to, newName: 'Lab copy', network: { kind: 'network', name: 'Lab segment' } })).jobId,
    );
    expect(job).toMatchObject({ status: 'succeeded', warnings: [] });
    expect(job.steps[0]!.detail).toContain("connected to 'Lab segment'");
    const vmx = VmxFile.parse(readFileSync(join(to, 'Lab copy.vmx')));
    expect([vmx.get('ethernet0.connectionType'), vmx.get('ethernet0.pvnID'), vmx.get('ethernet0.startConnected')]).toEqual(['pvn', LAB_PVN, 'TRUE']);
    if (existsSync(VMRUN)) {
      // powered on by the simulator, the NIC is on that LAN segment with its link up
      await engine.service.call('restore.startVm', { to });
      expect(loggedNics(to)).toEqual(['Ethernet0: connectionType pvn, network pvn-526b1e0a9c3347d28e104f6a21b7c590, link connected']);
      vmrun('-T', 'ws', 'stop', join(to, 'Lab copy.vmx'), 'hard');
    }

    // `twinsnap restore --network`: a custom vmnet by name; an unknown name fails before the folder is made
    const cli = (to: string, network: string) => main(['--data-dir', join(dir, 'data'), 'restore', snapshotId, '--to', to, '--network', network], silent);
    expect(await cli(join(dir, 'restored-cli-none'), 'Office LAN')).toBe(1);
    expect(existsSync(join(dir, 'restored-cli-none'))).toBe(false);
    expect(await cli(join(dir, 'restored-cli-nat'), 'nat')).toBe(0);
    const cliVmx = VmxFile.parse(readFileSync(join(dir, 'restored-cli-nat', 'Accounting-restored.vmx')));
    expect([cliVmx.get('ethernet0.connectionType'), cliVmx.get('ethernet0.startConnected')]).toEqual(['nat', 'TRUE']);
  }, 120_000);

  it('says in words when there is no restored VM to start', async () => {
    await expect(engine.service.call('restore.startVm', { to: join(dir, 'nowhere') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const empty = join(dir, 'empty-folder');
    mkdirSync(empty);
    await expect(engine.service.call('restore.startVm', { to: empty })).rejects.toMatchObject({ code: 'HV_VM_NOT_FOUND', message: expect.stringContaining('restore the whole vm') });
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
    expect(existsSync(join(dir, 'restored-vm', 'Accounting-restored.vmx'))).toBe(true);
  });
});

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { HyperVHypervisor } from '../../electron/engine/hypervisor/hyperv/hyperv-hypervisor.js';
import { OPERATIONS, type HyperVOp } from '../../electron/engine/hypervisor/hyperv/scripts/operations.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import type { Logger } from '../../electron/engine/core/logger.js';
import { addSimVm, simState } from '../harness/hyperv-sim/lib/sim-host.mjs';
import { hypervisorConformance } from '../conformance/hypervisor.suite.js';

const SIM = resolve(import.meta.dirname, '../harness/hyperv-module/powershell');
const quiet: Logger = { log() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

function makeHost(extraEnv: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'twinsnap-hvsim-'));
  const log = join(root, 'commands.log');
  const env = { ...process.env, HYPERV_SIM_ROOT: root, HYPERV_SIM_LOG: log, ...extraEnv };
  const hv = new HyperVHypervisor({ powershellPath: SIM, logger: quiet, clock: systemClock, env, twinsRoot: join(root, 'twins') });
  return {
    root,
    log,
    hv,
    dispose: async () => {
      await hv.dispose();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function leftovers(root: string, vmId: string): string[] {
  const st = simState(root);
  const out = st.snapshots.filter((s) => s.vmId === vmId).map((s) => `checkpoint ${s.id}`);
  out.push(...st.vms.filter((v) => v.path.startsWith(join(root, 'twins'))).map((v) => `twin vm ${v.id}`));
  if (existsSync(join(root, 'twins'))) out.push(...readdirSync(join(root, 'twins')).map((n) => `twin folder ${n}`));
  const prod = st.vms.find((v) => v.id === vmId);
  if (prod) out.push(...readdirSync(join(prod.path, 'Virtual Hard Disks')).filter((n) => n.endsWith('.avhdx')));
  return out;
}

hypervisorConformance('HyperVHypervisor via hyperv-sim', async () => {
  const h = makeHost();
  return {
    hv: h.hv,
    bootsGuest: false,
    freshVm: async () => addSimVm(h.root, { name: 'Accounting' }).id,
    exists: async (p) => existsSync(p),
    leftovers: async (id) => leftovers(h.root, id),
    dispose: h.dispose,
  };
});

describe('HyperVHypervisor through the PowerShell seam', () => {
  let h: ReturnType<typeof makeHost>;
  beforeAll(() => {
    h = makeHost();
  });
  afterAll(async () => h.dispose());

  it('round-trips a hostile twin name exactly and never puts it into command text', async () => {
    const pwned = '/tmp/pwned';
    rmSync(pwned, { force: true });
    const hostile = `a'; rm -rf / #$(touch /tmp/pwned) \`touch /tmp/pwned\` ; \u2018x\u2019 \u201Cy\u201D ${'z'.repeat(120)}`;
    const vm = addSimVm(h.root, { name: hostile });
    const listed = (await h.hv.listVms()).find((v) => v.id === vm.id);
    expect(listed?.name).toBe(hostile);
    const frozen = await h.hv.freeze(await h.hv.getVm(vm.id));
    const twin = await h.hv.buildTwin(frozen, hostile);
    expect(twin.name).toBe(hostile);
    expect((await h.hv.getVm(twin.id)).name).toBe(hostile);
    // the twin's disk is a real dynamic VHDX holding exactly the frozen disk's content
    expect(JSON.parse(execFileSync('qemu-img', ['info', '--output=json', twin.disks[0]!.path], { encoding: 'utf8' })).format).toBe('vhdx');
    execFileSync('qemu-img', ['compare', '-q', twin.disks[0]!.path, frozen.frozenDisks[0]!.path]);
    await h.hv.deleteTwin(twin);
    await h.hv.releaseFrozen(frozen);
    const sent = readFileSync(h.log, 'utf8');
    expect(sent).not.toContain('rm -rf');
    expect(sent).not.toContain('touch');
    expect(
      sent
        .split('\n')
        .filter(Boolean)
        .every((l) => /^(\[Console\]::(Out|Error)\.WriteLine\("[A-Za-z0-9]+"\)|& \(\[ScriptBlock\]::Create\(.*\)\) '[A-Za-z0-9+/=]*')$/.test(l)),
    ).toBe(true);
    expect(existsSync(pwned)).toBe(false);
  }, 300_000);

  it('disconnects every network adapter of the twin', async () => {
    const vm = addSimVm(h.root, { name: 'nics' });
    const frozen = await h.hv.freeze(await h.hv.getVm(vm.id));
    const twin = await h.hv.buildTwin(frozen, 'nics twin');
    expect((await h.hv.listVms()).some((v) => v.id === twin.id)).toBe(false); // twins are not guests
    const st = simState(h.root);
    expect(st.vms.find((v) => v.id === vm.id)!.nics.every((n) => n.connected)).toBe(true);
    expect(st.vms.find((v) => v.id === twin.id)!.nics.every((n) => !n.connected)).toBe(true);
    expect((await h.hv.getVm(twin.id)).state).toBe('suspended');
    // what the twin cost the host: one copy of the disk — the export, imported in place (the
    // twin runs on the exported VHDX inside its folder) — plus its small configuration and state
    const disk = statSync(twin.disks[0]!.path).size;
    expect(twin.disks[0]!.path.startsWith(join(twin.folder, 'export'))).toBe(true);
    expect(twin.hostBytesWritten).toBeGreaterThanOrEqual(disk);
    expect(twin.hostBytesWritten).toBeLessThan(2 * disk);
    expect(twin.configFiles?.map((c) => c.name)).toEqual([expect.stringMatching(/\.vmcx$/)]);
    await h.hv.deleteTwin(twin);
    await h.hv.releaseFrozen(frozen);
  }, 300_000);

  it('refuses a graceful stop when the shutdown integration service is not running', async () => {
    const vm = addSimVm(h.root, { name: 'no ic', noIntegrationServices: true });
    const frozen = await h.hv.freeze(await h.hv.getVm(vm.id));
    const twin = await h.hv.buildTwin(frozen, 'no ic twin');
    await h.hv.startTwin(twin);
    expect(await h.hv.twinToolsRunning(twin)).toBe(false);
    await expect(h.hv.shutdownTwin(twin)).rejects.toMatchObject({ code: 'HV_TOOLS_NOT_RUNNING', message: expect.stringMatching(/shutdown integration service/) });
    expect((await h.hv.getVm(twin.id)).state).toBe('running'); // no silent power-off
    await h.hv.deleteTwin(twin);
    await h.hv.releaseFrozen(frozen);
  }, 300_000);

  it('times out a twin that ignores the shutdown request, then keeps working with a fresh session', async () => {
    const vm = addSimVm(h.root, { name: 'stubborn', ignoresPowerButton: true });
    const frozen = await h.hv.freeze(await h.hv.getVm(vm.id));
    const twin = await h.hv.buildTwin(frozen, 'stubborn twin');
    await h.hv.startTwin(twin);
    await expect(h.hv.shutdownTwin(twin, { timeoutMs: 1500 })).rejects.toMatchObject({ code: 'HV_SHUTDOWN_TIMEOUT' });
    await h.hv.powerOffTwin(twin);
    expect((await h.hv.getVm(twin.id)).state).toBe('off');
    await h.hv.deleteTwin(twin);
    await h.hv.releaseFrozen(frozen);
    expect(leftovers(h.root, vm.id)).toEqual([]);
  }, 300_000);

  it('a damaged journal naming production as the twin touches nothing of production: the marker is checked first, and only VMs the job recorded inside the marked folder go', async () => {
    const precious = addSimVm(h.root, { name: 'precious' });
    // the journal names production's own id and folder
    await expect(h.hv.deleteTwin({ id: precious.id, name: 'twin?', folder: precious.path, disks: [] })).rejects.toMatchObject({ code: 'PATH_UNSAFE' });
    // the journal names production's id with the (real, marked) twin folder of another backup
    const other = addSimVm(h.root, { name: 'other' });
    const frozen = await h.hv.freeze(await h.hv.getVm(other.id));
    const twin = await h.hv.buildTwin(frozen, 'other twin');
    await h.hv.deleteTwin({ ...twin, id: precious.id });
    const st = simState(h.root);
    expect(st.vms.find((v) => v.id === precious.id)).toMatchObject({ state: 'Running' });
    expect(readdirSync(join(precious.path, 'Virtual Hard Disks'))).toEqual(['disk0.vhdx']);
    // the twin that build-twin recorded in its marker is gone with its folder
    expect(st.vms.some((v) => v.id === twin.id)).toBe(false);
    expect(existsSync(twin.folder)).toBe(false);
    await h.hv.releaseFrozen(frozen);
    expect(leftovers(h.root, other.id)).toEqual([]);
  }, 300_000);

  it('the twin takes no automatic checkpoint when it starts, even where imported VMs have automatic checkpoints on', async () => {
    const h2 = makeHost({ HYPERV_SIM_IMPORT_AUTO_CHECKPOINTS: '1' });
    try {
      const vm = addSimVm(h2.root, { name: 'auto' });
      const frozen = await h2.hv.freeze(await h2.hv.getVm(vm.id));
      const twin = await h2.hv.buildTwin(frozen, 'auto twin');
      await h2.hv.startTwin(twin);
      const st = simState(h2.root);
      expect(st.snapshots.filter((s) => s.vmId === twin.id)).toEqual([]);
      expect(st.vms.find((v) => v.id === twin.id)).toMatchObject({ state: 'Running', checkpointType: 'Disabled', automaticCheckpointsEnabled: false });
      await h2.hv.powerOffTwin(twin);
      await h2.hv.deleteTwin(twin);
      await h2.hv.releaseFrozen(frozen);
      expect(leftovers(h2.root, vm.id)).toEqual([]);
    } finally {
      await h2.dispose();
    }
  }, 300_000);

  it('a guest listing during a slow export answers within its own limit and does not abort the export (long operations have their own session)', async () => {
    const h3 = makeHost({ HYPERV_SIM_EXPORT_MS_PER_MIB: '500' });
    try {
      const vm = addSimVm(h3.root, { name: 'big', diskMiB: 16 }); // the export takes ≥ 8 s
      const frozen = await h3.hv.freeze(await h3.hv.getVm(vm.id));
      const building = h3.hv.buildTwin(frozen, 'big twin');
      await new Promise((r) => setTimeout(r, 1000));
      expect((await h3.hv.listVms({ timeoutMs: 5000 })).map((v) => v.id)).toContain(vm.id);
      const twin = await building;
      expect((await h3.hv.getVm(twin.id)).state).toBe('suspended');
      await h3.hv.deleteTwin(twin);
      await h3.hv.releaseFrozen(frozen);
      expect(leftovers(h3.root, vm.id)).toEqual([]);
    } finally {
      await h3.dispose();
    }
  }, 300_000);

  it('a twin whose guest has a locked session still shuts down cleanly: the forced OS shutdown of the Shutdown integration component, polled until off, and the form is reported', async () => {
    const vm = addSimVm(h.root, { name: 'locked console', lockedSession: true });
    const frozen = await h.hv.freeze(await h.hv.getVm(vm.id));
    const twin = await h.hv.buildTwin(frozen, 'locked twin');
    await h.hv.startTwin(twin);
    await expect(h.hv.shutdownTwin(twin)).resolves.toEqual({ method: 'Msvm_ShutdownComponent.InitiateShutdown(Force=true)' });
    expect((await h.hv.getVm(twin.id)).state).toBe('off');
    await h.hv.deleteTwin(twin);
    await h.hv.releaseFrozen(frozen);
    expect(leftovers(h.root, vm.id)).toEqual([]);
  }, 300_000);

  it('refuses to freeze a shielded vm', async () => {
    const vm = addSimVm(h.root, { name: 'shielded', shielded: true });
    await expect(h.hv.freeze(await h.hv.getVm(vm.id))).rejects.toMatchObject({ code: 'HV_ENCRYPTED_VM' });
  });
});

describe('HyperVHypervisor detection', () => {
  it('says clearly when twinsnap is neither elevated nor a Hyper-V Administrator', async () => {
    const h = makeHost({ HYPERV_SIM_ELEVATED: '0' });
    try {
      const info = await h.hv.detect();
      expect(info).toMatchObject({ available: false, problem: expect.stringMatching(/not elevated.*Hyper-V Administrators/) });
      await expect(h.hv.listVms()).rejects.toMatchObject({ code: 'HV_NOT_ELEVATED' });
    } finally {
      await h.dispose();
    }
  });

  it('accepts a Hyper-V Administrators member without elevation', async () => {
    const h = makeHost({ HYPERV_SIM_ELEVATED: '0', HYPERV_SIM_HVADMIN: '1' });
    try {
      expect(await h.hv.detect()).toMatchObject({ available: true, version: expect.stringMatching(/^powershell 7\.\d+\.\d+/) });
    } finally {
      await h.dispose();
    }
  });

  it('says how to install the hyper-v module when it is missing', async () => {
    const h = makeHost({ HYPERV_SIM_MODULE: '0' });
    try {
      expect(await h.hv.detect()).toMatchObject({ available: false, problem: expect.stringMatching(/hyper-v powershell module is not installed/) });
      await expect(h.hv.listVms()).rejects.toMatchObject({ code: 'HV_NOT_INSTALLED' });
    } finally {
      await h.dispose();
    }
  });

  it('reports a missing powershell without throwing', async () => {
    const hv = new HyperVHypervisor({ powershellPath: '/nonexistent/powershell', logger: quiet, clock: systemClock });
    expect(await hv.detect()).toMatchObject({ available: false, problem: expect.stringMatching(/not found/) });
  });
});

/**
 * Proof that running the real scripts in PowerShell catches mistakes that a script-recognising
 * simulator cannot: each case breaks one operation's text the way a typo would, runs it through
 * the adapter, and expects a prompt, clear failure — never a hang (pwsh -NonInteractive turns a
 * missing mandatory parameter into an error instead of a prompt).
 */
describe('a mutated Hyper-V script fails clearly in real PowerShell', () => {
  let h: ReturnType<typeof makeHost>;
  beforeAll(() => {
    h = makeHost();
  });
  afterAll(async () => h.dispose());

  const MUTATIONS: { what: string; op: HyperVOp; from: string; to: string; run: (vmId: string) => Promise<unknown>; says: RegExp }[] = [
    {
      what: 'a misspelt parameter',
      op: 'freeze',
      from: '-SnapshotName $a.snapshotName',
      to: '-SnapshotTitle $a.snapshotName',
      run: async (id) => h.hv.freeze(await h.hv.getVm(id)),
      says: /parameter cannot be found that matches parameter name 'SnapshotTitle'/,
    },
    {
      what: 'a missing mandatory parameter',
      op: 'start-vm',
      from: "elseif ($st -ne 'Running') { Hyper-V\\Start-VM -VM $vm }",
      to: "elseif ($st -ne 'Running') { Hyper-V\\Start-VM }",
      run: (id) => h.hv.startVm(id),
      says: /missing mandatory parameters: Name/,
    },
    {
      what: 'a property the real object does not have',
      op: 'freeze',
      from: 'snapshotId = $snap.Id.ToString()',
      to: 'snapshotId = $snap.CheckpointId.ToString()',
      run: async (id) => h.hv.freeze(await h.hv.getVm(id)),
      says: /method on a null-valued expression/,
    },
  ];

  it.each(MUTATIONS.map((m) => [m.what, m] as const))(
    '%s',
    async (_what, m) => {
      const vm = addSimVm(h.root, { name: `mutant ${m.op}`, state: m.op === 'start-vm' ? 'Off' : 'Running' });
      const original = OPERATIONS[m.op];
      expect(original).toContain(m.from);
      OPERATIONS[m.op] = original.replace(m.from, m.to);
      const started = Date.now();
      try {
        const err = await m.run(vm.id).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'HV_COMMAND_FAILED', details: { toolMessage: expect.stringMatching(m.says) } });
        expect(Date.now() - started).toBeLessThan(60_000);
      } finally {
        OPERATIONS[m.op] = original;
      }
      // the unmutated script still works, and recovery leaves nothing behind
      await h.hv.recover({ vmId: vm.id });
      expect(leftovers(h.root, vm.id)).toEqual([]);
    },
    300_000,
  );
});

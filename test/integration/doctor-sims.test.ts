/**
 * `twinsnap doctor` end to end (the CLI as an admin runs it) against both simulators with the
 * real QEMU guest: vmrun-sim (VMware) and hyperv-sim (Hyper-V). The report's verdicts are
 * checked against independent observations: production keeps committing transactions (its serial
 * log), the simulator's own listing shows no snapshot / checkpoint / twin folder left, the other
 * VM on the host is untouched, and the catalog row read with the `sqlite3` shell holds the report.
 * An ambiguous name is refused before anything happens (exit 1).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../shared/domain/doctor.js';
import { catalogPath } from '../../electron/engine/catalog/catalog.js';
import { run } from '../harness/guest/exec.js';
import { makeTestVm, type TestVm } from '../harness/guest/make-test-vm.js';
import { readAcks } from '../harness/guest/read-back.js';
import { adoptSimVm, simState, type SimVm } from '../harness/hyperv-sim/lib/sim-host.mjs';
import { ROOT, startCli, waitFor } from './twin-helpers.js';

const VMRUN = join(ROOT, 'test/harness/vmrun-sim/vmrun');
/** The PowerShell stand-in: the real-pwsh Hyper-V module where the harness has it, else hyperv-sim's. */
const PWSH_SIM = [join(ROOT, 'test/harness/hyperv-module/powershell'), join(ROOT, 'test/harness/hyperv-sim/powershell')].find((p) => existsSync(p))!;
const WORK = join(ROOT, '.cache/scratch/doctor-sims');
const ENV: NodeJS.ProcessEnv = { ...process.env, VMRUN_SIM_STATE: join(WORK, 'vmrun-state'), HYPERV_SIM_ROOT: join(WORK, 'hyperv-host') };
/**
 * Checks whose outcome depends on what the adapter reports (the isolation report comes with the
 * adapters' hardening, issue 11): doctor must fail them until then, and the verdict must agree.
 */

async function vmrun(...args: string[]): Promise<string> {
  const r = await run(VMRUN, ['-T', 'ws', ...args], { timeoutMs: 180_000, allowFailure: true, env: ENV });
  return `${r.stdout}${r.stderr}`;
}

/** The running guests whose .vmx lies in `dir` (hyperv-sim's guests run on vmrun-sim too). */
async function runningIn(dir: string): Promise<string[]> {
  return (await vmrun('list'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${dir}/`));
}

async function doctor(dataDir: string, args: string[]): Promise<{ exit: number | null; report: DoctorReport; stderr: string }> {
  const cli = startCli(['--data-dir', dataDir, '--json', ...args], ENV);
  const exit = await cli.exit;
  return { exit, report: JSON.parse(cli.stdout()) as DoctorReport, stderr: cli.stderr() };
}

/** The report as stored in the catalog, read with the sqlite3 shell (not our code). */
function storedReport(dataDir: string, kind: string): DoctorReport {
  const r = spawnSync('sqlite3', [catalogPath(dataDir), `SELECT value_json FROM settings WHERE key = 'doctor.last.${kind}'`], { encoding: 'utf8' });
  return JSON.parse(r.stdout) as DoctorReport;
}

/** The common expectations of a doctor run on a healthy simulator. */
function expectHealthy(report: DoctorReport, exit: number | null, stderr: string): void {
  console.log(`[doctor/${report.hypervisor}] ${report.checks.map((c) => `${c.ok ? 'ok' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n  ')}\n  durations ${JSON.stringify(report.durations)}`);
  for (const c of report.checks) expect(c, c.detail).toMatchObject({ ok: true });
  expect(report.checks.map((c) => c.name)).toEqual([
    'tool',
    'vm-found',
    'vm-ready',
    'clean-before',
    'freeze',
    ...(report.hypervisor === 'vmware' ? ['twin-built', 'production-running'] : ['production-running', 'twin-built']),
    'memory-image-stable',
    'twin-isolated',
    'twin-boots',
    'graceful-shutdown',
    'cleanup',
    'production-running-after',
    'nothing-left',
    'only-this-vm',
  ]);
  // both adapters verify the twin's isolation and name their captured memory files: every check holds
  expect(report.ok).toBe(true);
  expect(exit, stderr).toBe(0);
  expect(report.durations).toMatchObject({ freeze: expect.any(Number), pause: expect.any(Number), 'boot-twin': expect.any(Number), 'shutdown-twin': expect.any(Number), cleanup: expect.any(Number) });
}

const NAME = 'Doctor VM';
const HV_NAME = 'Doctor HV';
const vms = join(WORK, 'vms');
let prod: TestVm;
let hvVm: TestVm;
let sim: SimVm;
const serialLog = (vm: TestVm, name: string) => join(vm.dir, `${name}.serial0.log`);

// Both production guests boot at once (QEMU TCG boots dominate this file's time).
beforeAll(async () => {
  process.env.VMRUN_SIM_STATE = ENV.VMRUN_SIM_STATE;
  process.env.HYPERV_SIM_ROOT = ENV.HYPERV_SIM_ROOT;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(ENV.VMRUN_SIM_STATE!, { recursive: true });
  const vmware = async () => {
    prod = await makeTestVm(join(vms, NAME), { name: NAME, memMiB: 128, diskMiB: 16 });
    // another VM of the host (powered off) and two that share a name
    await makeTestVm(join(vms, 'Other VM'), { name: 'Other VM', memMiB: 128, diskMiB: 8 });
    await makeTestVm(join(vms, 'Same A'), { name: 'Same Name', memMiB: 128, diskMiB: 8 });
    await makeTestVm(join(vms, 'Same B'), { name: 'Same Name', memMiB: 128, diskMiB: 8 });
    await vmrun('start', prod.vmxPath, 'nogui');
    await waitFor('production tools', async () => (await vmrun('checkToolsState', prod.vmxPath)).includes('running'), 180_000, 500);
    await waitFor('the workload to commit', async () => (await readAcks(serialLog(prod, NAME))).length > 3, 120_000);
  };
  const hyperv = async () => {
    hvVm = await makeTestVm(join(WORK, 'hv-vms', HV_NAME), { name: HV_NAME, diskFormat: 'vhdx', memMiB: 128, diskMiB: 16 });
    sim = adoptSimVm(ENV.HYPERV_SIM_ROOT!, { name: HV_NAME, vmxPath: hvVm.vmxPath, diskPath: hvVm.diskPath, memoryMiB: 128, start: true });
    await waitFor('the workload to commit', async () => (await readAcks(serialLog(hvVm, HV_NAME))).length > 3, 180_000, 500);
  };
  await Promise.all([vmware(), hyperv()]);
}, 300_000);

afterAll(async () => {
  for (const line of (await vmrun('list')).split('\n').filter((l) => l.includes('.vmx'))) await vmrun('stop', line.trim(), 'hard');
});

describe('doctor against vmrun-sim', () => {
  const dataDir = join(WORK, 'data-vmware');
  const ambiguousDir = join(WORK, 'data-ambiguous');
  const offDir = join(WORK, 'data-off');

  beforeAll(() => {
    for (const d of [dataDir, ambiguousDir, offDir]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'config.json'), JSON.stringify({ version: 1, repository: join(d, 'repository'), vmFolders: [vms] }));
    }
  });

  it('`twinsnap doctor --vm` runs every experiment, reports each check and the step times, stores the report, and leaves production running with nothing behind', async () => {
    const { exit, report, stderr } = await doctor(dataDir, ['--vmrun', VMRUN, 'doctor', '--vm', NAME]);
    expectHealthy(report, exit, stderr);
    expect(report).toMatchObject({ hypervisor: 'vmware', vm: NAME, vmId: prod.vmxPath });
    // independent observations: production commits again, the simulator lists no snapshot, no twin or staging folder remains, the other VMs were never started
    const acks = (await readAcks(serialLog(prod, NAME))).length;
    await waitFor('production to commit after doctor', async () => (await readAcks(serialLog(prod, NAME))).length > acks, 60_000);
    expect(
      (await vmrun('listSnapshots', prod.vmxPath))
        .split('\n')
        .slice(1)
        .filter((l) => l.trim()),
    ).toEqual([]);
    expect(readdirSync(vms).filter((n) => n.startsWith('twinsnap-') || n.startsWith('.twinsnap-'))).toEqual([]);
    expect(await runningIn(vms)).toEqual([prod.vmxPath]);
    expect(storedReport(dataDir, 'vmware')).toEqual(report);
  }, 300_000);

  it('a powered-off vm fails vm-ready and exits 1 without touching it', async () => {
    const { exit, report, stderr } = await doctor(offDir, ['--vmrun', VMRUN, 'doctor', '--vm', 'Other VM']);
    expect(exit, stderr).toBe(1);
    expect(stderr).toContain('DOCTOR_CHECK_FAILED');
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['tool', true],
      ['vm-found', true],
      ['vm-ready', false],
    ]);
    expect(await runningIn(vms)).toEqual([prod.vmxPath]);
  }, 120_000);

  it('refuses a name two VMs carry before touching either (exit 1)', async () => {
    const { exit, report } = await doctor(ambiguousDir, ['--vmrun', VMRUN, 'doctor', '--vm', 'Same Name']);
    expect(exit).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([{ name: 'vm-found', ok: false, detail: expect.stringMatching(/^2 vms are named 'Same Name' .*name it by its id/) }]);
    expect(await runningIn(vms)).toEqual([prod.vmxPath]);
    const cat = catalogPath(ambiguousDir);
    if (existsSync(cat)) expect(spawnSync('sqlite3', [cat, "SELECT count(*) FROM settings WHERE key LIKE 'doctor.%'"], { encoding: 'utf8' }).stdout.trim()).toBe('0');
  }, 120_000);
});

describe('doctor against hyperv-sim', () => {
  const dataDir = join(WORK, 'data-hyperv');

  it('`twinsnap doctor --hypervisor hyperv` runs every experiment and leaves no checkpoint, twin VM or twin folder', async () => {
    const { exit, report, stderr } = await doctor(dataDir, ['--powershell', PWSH_SIM, 'doctor', '--hypervisor', 'hyperv', '--vm', HV_NAME]);
    expectHealthy(report, exit, stderr);
    expect(report).toMatchObject({ hypervisor: 'hyperv', vmId: sim.id });
    const st = simState(ENV.HYPERV_SIM_ROOT!);
    expect(st.snapshots).toEqual([]);
    expect(st.vms.map((v) => v.id)).toEqual([sim.id]);
    expect(st.vms[0]!.state).toBe('Running');
    const twins = join(st.host.virtualMachinePath, 'TwinSnap');
    expect(existsSync(twins) ? readdirSync(twins) : []).toEqual([]);
    const acks = (await readAcks(serialLog(hvVm, HV_NAME))).length;
    await waitFor('production to commit after doctor', async () => (await readAcks(serialLog(hvVm, HV_NAME))).length > acks, 60_000);
    expect(storedReport(dataDir, 'hyperv')).toEqual(report);
  }, 300_000);
});

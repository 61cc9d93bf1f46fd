import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError, isAppError } from '../../../../shared/errors/app-error.js';
import type { HostNetwork, HypervisorInfo, RestoreNetwork } from '../../../../shared/domain/guest.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { CallOptions, FrozenState, Hypervisor, HypervisorCapabilities, RestoredVm, ShutdownReport, TwinStartReport, TwinVm, VmInfo, WorkflowStepLimits } from '../hypervisor.js';
import { VmxFile } from './vmx-file.js';
import { vmxCpus, vmxDisks, vmxDisplayName, vmxEncrypted, vmxMemoryMiB, vmxNics, vmxSuspendState, vmxUuidBios } from './vmx-facts.js';
import { buildTwinVmx } from './twin-config.js';
import { restoredVmIdentity } from './restored-identity.js';
import { applyVmxNetwork, LINUX_NETWORKING_FILE, vmwareHostNetworks } from './restored-network.js';
import { pickNetwork } from '../host-networks.js';
import { readVmdkParentInfo, writeSparseChild } from './vmdk-child.js';
import { VmrunRunner, parseVmrunList, vmxPathKey, type VmrunHostType } from './vmrun-runner.js';
import { detectVmrun, type VmwareEdition } from './vmware-tool-detect.js';
import { defaultInventorySources, discoverVmxPaths, type InventorySources } from './vmware-inventory.js';
import { expectedSegments, isolationProblems, pvnIdsIn } from './twin-isolation.js';

/** Options of VmrunHypervisor. */
export interface VmrunHypervisorOptions {
  /** Explicit vmrun path (EngineOptions.vmrunPath / TWINSNAP_VMRUN); else default install paths. */
  vmrunPath?: string;
  vmFolders: string[];
  logger: Logger;
  clock: Clock;
  hostType?: VmrunHostType;
  /** Where twins and staged suspend states go; default: the folder containing the VM's folder. */
  twinsRoot?: string;
  /** Inventory files to read; default the user's Workstation inventory and preferences. */
  inventory?: Partial<InventorySources>;
  /** The host's networking configuration files (default: Workstation for Linux's /etc/vmware/networking; none on Windows). */
  networkingFiles?: string[];
  /** Per-operation time limits (ms); every vmrun call is bounded. */
  timeouts?: Partial<Record<keyof typeof DEFAULT_TIMEOUTS, number>>;
}

/**
 * `settle`: how long a VM must stay listed by `vmrun list` after a failed suspend before it
 * counts as running (a suspend vmrun gave up on may still be completing). `toolsWarmup`: how long
 * `stop soft` is retried while Tools answer 3009 right after a resume. `locks`: how long deletion
 * waits for the `*.lck` directories of a stopped VM to go (Packer waits 120 s).
 */
const DEFAULT_TIMEOUTS = { quick: 30_000, suspend: 300_000, snapshot: 300_000, start: 300_000, stop: 300_000, deleteSnapshot: 900_000, settle: 5_000, toolsWarmup: 60_000, locks: 120_000 };
/** Marker file in every twin folder; deleteTwin removes only folders that carry it. */
const TWIN_MARKER = '.twinsnap-twin';
/** File in a staging folder naming the production .vmx it belongs to. */
const STAGING_OWNER = 'vm-id';
/** Infix of a staging folder still being made: `.twinsnap-<handle>.tmp-<pid>`. */
const STAGING_TMP = '.tmp-';
/** Every snapshot this adapter takes is named `twinsnap-…`; recovery removes those it finds. */
const SNAPSHOT_PREFIX = 'twinsnap-';
/** nvram is a few hundred KiB at most; anything bigger is not copied during the pause. */
const MAX_NVRAM_COPY = 4 * 1024 * 1024;

/**
 * The VMware Workstation adapter (Windows and Linux hosts), driving `vmrun`. The twin recipe
 * (hypervisor/README.md): `suspend hard` → capture the suspend state (`.vmss` + `.vmem`: reflink,
 * else byte copy) → `snapshot` (production continues on new delta disks; the frozen disks become
 * read-only parents) → `start` production. The twin is a new folder whose disks are sparse
 * children of the frozen disks, whose suspend state is the captured copy and whose NICs are on
 * private LAN segments of their own.
 */
export class VmrunHypervisor implements Hypervisor {
  readonly kind = 'vmware' as const;
  readonly capabilities: HypervisorCapabilities = { memoryState: true, linkedTwin: true, runningAfterFreeze: false, gracefulShutdown: true, register: true };
  private readonly opts: VmrunHypervisorOptions;
  private readonly timeouts: typeof DEFAULT_TIMEOUTS;
  private runnerP: Promise<{ runner?: VmrunRunner; info: HypervisorInfo; edition: VmwareEdition }> | undefined;

  constructor(opts: VmrunHypervisorOptions) {
    this.opts = opts;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  }

  private detectOnce() {
    this.runnerP ??= (async () => {
      const d = await detectVmrun(this.opts.vmrunPath);
      const info: HypervisorInfo = { kind: 'vmware', available: !!d.path && !d.problem, toolPath: d.path, version: d.version, problem: d.problem };
      if (d.edition === 'player') info.problem = 'only vmware player is installed; it cannot take snapshots, so twin backups need vmware workstation pro (free for personal use)';
      const hostType = this.opts.hostType ?? (d.edition === 'player' ? 'player' : 'ws');
      const runner = info.available ? new VmrunRunner(d.path!, hostType, this.opts.logger, this.opts.clock) : undefined;
      // A missing tool is looked for again next time (the user may install it or fix the path).
      if (!runner) this.runnerP = undefined;
      return { runner, info, edition: d.edition };
    })();
    return this.runnerP;
  }

  /** Never throws; cheap when vmrun is missing (a few file checks). */
  async detect(): Promise<HypervisorInfo> {
    try {
      return { ...(await this.detectOnce()).info };
    } catch (e) {
      return { kind: 'vmware', available: false, problem: `vmware detection failed: ${(e as Error).message}` };
    }
  }

  private async runner(): Promise<VmrunRunner> {
    const d = await this.detectOnce();
    if (!d.runner) throw new AppError('HV_NOT_INSTALLED', d.info.problem ?? 'vmware workstation (vmrun) is not available');
    return d.runner;
  }

  private t(kind: keyof typeof DEFAULT_TIMEOUTS, opts?: CallOptions): number {
    return opts?.timeoutMs ?? this.timeouts[kind];
  }

  /** .vmx paths of running VMs (`vmrun list`). */
  async runningVmx(opts?: CallOptions): Promise<string[]> {
    const r = await (await this.runner()).run(['list'], { action: 'list running', vmName: '*', timeoutMs: this.t('quick', opts), signal: opts?.signal });
    return parseVmrunList(r.stdout);
  }

  async listVms(opts?: CallOptions): Promise<VmInfo[]> {
    const running = await this.runningVmx(opts);
    const src = { ...defaultInventorySources(this.opts.vmFolders), ...this.opts.inventory };
    const seen = new Map<string, string>();
    for (const p of [...running, ...(await discoverVmxPaths(src))]) {
      // TwinSnap's own running twins are not guests to back up.
      if (/[\\/]twinsnap-twin-[^\\/]*[\\/][^\\/]*$/i.test(p)) continue;
      const k = vmxPathKey(p);
      if (!seen.has(k)) seen.set(k, p);
    }
    const runningKeys = new Set(running.map((p) => vmxPathKey(p)));
    const out: VmInfo[] = [];
    for (const p of seen.values()) {
      try {
        out.push(await this.describe(p, runningKeys.has(vmxPathKey(p)), opts));
      } catch (e) {
        this.opts.logger.warn('skipping unreadable vmx', { path: p, error: (e as Error).message });
      }
    }
    return out;
  }

  async getVm(id: string, opts?: CallOptions): Promise<VmInfo> {
    const running = new Set((await this.runningVmx(opts)).map((p) => vmxPathKey(p)));
    return this.describe(id, running.has(vmxPathKey(id)), opts);
  }

  private async readVmx(path: string, name = basename(path)): Promise<VmxFile> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (cause) {
      throw new AppError('HV_VM_NOT_FOUND', `unable to read vm '${name}': ${path} does not exist or is not readable`, { cause, details: { path } });
    }
    return VmxFile.parse(bytes);
  }

  private async describe(vmxPath: string, running: boolean, opts?: CallOptions): Promise<VmInfo> {
    const vmx = await this.readVmx(vmxPath);
    const encrypted = vmxEncrypted(vmx);
    const suspended = !running && !!vmxSuspendState(vmx, vmxPath);
    const warnings: string[] = [];
    const { edition } = await this.detectOnce();
    if (edition === 'player') warnings.push('vmware player cannot take snapshots; twin backups need workstation pro');
    if (encrypted) warnings.push('the vm is encrypted; twin backups cannot rewrite its configuration');
    let toolsRunning = false;
    if (running && !encrypted) toolsRunning = await this.toolsRunning(vmxPath, opts);
    return {
      id: vmxPath,
      name: vmxDisplayName(vmx, vmxPath),
      ...(vmxUuidBios(vmx) ? { uuidBios: vmxUuidBios(vmx) } : {}),
      state: running ? 'running' : suspended ? 'suspended' : 'off',
      memoryMiB: vmxMemoryMiB(vmx),
      cpus: vmxCpus(vmx),
      disks: vmxDisks(vmx, vmxPath).map(({ slot, path }) => ({ slot, path })),
      configPath: vmxPath,
      toolsRunning,
      encrypted,
      nics: vmxNics(vmx),
      warnings,
    };
  }

  /** `checkToolsState` says `running` (reference §1.2; `installed`/`unknown` otherwise). */
  private async toolsRunning(vmxPath: string, opts?: CallOptions): Promise<boolean> {
    const r = await (await this.runner()).tryRun(['checkToolsState', vmxPath], { action: 'check tools of', vmName: vmxPath, timeoutMs: this.t('quick', opts), signal: opts?.signal });
    return 'stdout' in r && /^\s*running\s*$/im.test(r.stdout);
  }

  private twinsRoot(vmxPath: string): string {
    return this.opts.twinsRoot ?? dirname(dirname(resolve(vmxPath)));
  }

  async freeze(vm: VmInfo, opts?: CallOptions): Promise<FrozenState> {
    if (vm.encrypted) throw new AppError('HV_ENCRYPTED_VM', `unable to freeze vm '${vm.name}': it is encrypted; twinsnap cannot build a twin from an encrypted configuration`);
    const runner = await this.runner();
    if ((await this.detectOnce()).edition === 'player') {
      throw new AppError('HV_PLAYER_UNSUPPORTED', `unable to freeze vm '${vm.name}': vmware player cannot take snapshots; twin backups need vmware workstation pro (free for personal use)`);
    }
    const vmxPath = vm.id;
    const handle = `${SNAPSHOT_PREFIX}${this.opts.clock.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const staging = join(this.twinsRoot(vmxPath), `.twinsnap-${handle}`);
    // Recovery finds leftovers of a freeze that never returned (no handle journaled) by the owner
    // file; the folder appears with it (made under a temp name carrying this process id, which
    // recovery removes once that process is gone).
    const tmp = `${staging}${STAGING_TMP}${process.pid}`;
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, STAGING_OWNER), `${vmxPath}\n`);
    await rename(tmp, staging);
    let hvMs = 0;
    const call = (action: string, t: keyof typeof DEFAULT_TIMEOUTS) => ({ action, vmName: vm.name, timeoutMs: this.t(t, opts), signal: opts?.signal });

    // The small NVRAM (firmware variables) is copied before the pause: it does not change with
    // the guest's workload, and nothing at all is copied while production waits.
    const nvram = VmxFile.parse(await readFile(vmxPath)).get('nvram');
    if (nvram) {
      const nvPath = join(dirname(vmxPath), nvram);
      const size = await fileSize(nvPath);
      if (size !== undefined && size <= MAX_NVRAM_COPY) await copyFile(nvPath, join(staging, 'state.nvram'));
    }

    try {
      // Inside the try: a suspend that fails, times out or is killed may still have suspended
      // production (or still be suspending it); the catch makes sure it runs again.
      hvMs += (await runner.run(['suspend', vmxPath, 'hard'], call('suspend', 'suspend'))).durationMs;
      // Everything below runs while production is suspended: metadata reads, the memory capture.
      const vmxBytes = await readFile(vmxPath);
      const vmx = VmxFile.parse(vmxBytes);
      const vmss = vmxSuspendState(vmx, vmxPath);
      if (!vmss) throw new AppError('HV_VM_BAD_STATE', `unable to freeze vm '${vm.name}': vmware reported it suspended but its .vmx names no suspend state (checkpoint.vmState)`);
      const captureStart = this.opts.clock.monotonic();
      const captured = await captureMemoryState(vm, vmss, staging);
      const captureMs = this.opts.clock.monotonic() - captureStart;
      await writeFile(join(staging, 'production.vmx'), vmxBytes);
      const frozenDisks = vmxDisks(vmx, vmxPath).map(({ slot, path }) => ({ slot, path }));

      hvMs += (await runner.run(['snapshot', vmxPath, handle], call('snapshot', 'snapshot'))).durationMs;
      const after = vmxDisks(VmxFile.parse(await readFile(vmxPath)), vmxPath);
      for (const d of frozenDisks) {
        if (after.find((a) => a.slot === d.slot)?.path === d.path) {
          throw new AppError('HV_COMMAND_FAILED', `unable to freeze vm '${vm.name}': the snapshot did not move disk ${d.slot} to a new delta, so the frozen disk would keep changing`);
        }
      }
      return {
        vm,
        handle,
        frozenDisks,
        configFiles: [{ name: 'production.vmx', path: join(staging, 'production.vmx') }],
        adapterData: { vmx: vmxPath, staging, snapshot: handle, memoryCapture: captured.method, memoryBytes: String(captured.bytes), memoryCaptureMs: captureMs.toFixed(1) },
        memoryFiles: captured.files,
        hypervisorCallMs: hvMs,
      };
    } catch (e) {
      // Never leave production suspended: not by our own failure, not by vmrun's — and not
      // because the caller gave up (no signal here; ensureRunning is bounded by itself). Only a
      // VM that was not running to begin with (suspend refused: not powered on, no suspend
      // state) is left as it is.
      const neverRan =
        isAppError(e) && (e.details as { reason?: string } | undefined)?.reason === 'not-running' && !vmxSuspendState(VmxFile.parse(await readFile(vmxPath).catch(() => Buffer.from(''))), vmxPath);
      const stillDown = neverRan ? undefined : await this.ensureRunning(vmxPath, vm.name);
      await runner.tryRun(['deleteSnapshot', vmxPath, handle], call('delete snapshot of', 'deleteSnapshot'));
      await rm(staging, { recursive: true, force: true });
      if (stillDown) {
        throw new AppError('HV_VM_BAD_STATE', `unable to freeze vm '${vm.name}': ${(e as Error).message}; and production could not be started again (${stillDown}): start it in vmware workstation`, {
          cause: e,
        });
      }
      throw e;
    }
  }

  /**
   * After any suspend attempt (failed, timed out, killed) production must end up running. A
   * suspend that vmrun gave up on may still be completing inside the VM's own process (the real
   * vmrun is only a client of it), so the VM counts as running only once `vmrun list` has shown
   * it for the settle time in a row; whenever it is not listed it is started (resumed). Bounded
   * by the settle time plus the `start` limit. Returns undefined when production runs, else why not.
   */
  private async ensureRunning(vmxPath: string, name: string, signal?: AbortSignal): Promise<string | undefined> {
    const runner = await this.runner();
    const clock = this.opts.clock;
    const deadline = clock.monotonic() + this.timeouts.settle + this.timeouts.start;
    let listedSince: number | undefined;
    let why = 'it never appeared in vmrun list';
    for (;;) {
      const listed = await this.isRunning(vmxPath, { timeoutMs: this.timeouts.quick }).catch(() => false);
      const now = clock.monotonic();
      if (listed) {
        listedSince ??= now;
        if (now - listedSince >= this.timeouts.settle) return undefined;
      } else {
        listedSince = undefined;
        const r = await runner.tryRun(['start', vmxPath, 'nogui'], { action: 'resume', vmName: name, timeoutMs: Math.max(1000, deadline - now), signal });
        if ('failure' in r && r.failure.reason !== 'already-running') why = r.failure.hint;
      }
      if (clock.monotonic() > deadline || signal?.aborted) return why;
      await clock.sleep(250).catch(() => undefined);
    }
  }

  async resume(frozen: FrozenState, opts?: CallOptions): Promise<void> {
    const runner = await this.runner();
    const r = await runner.tryRun(['start', frozen.vm.id, 'nogui'], { action: 'resume', vmName: frozen.vm.name, timeoutMs: this.t('start', opts), signal: opts?.signal });
    if ('failure' in r && r.failure.reason !== 'already-running') {
      throw new AppError(r.failure.code, `unable to resume vm '${frozen.vm.name}': ${r.failure.hint}`, { details: { reason: r.failure.reason } });
    }
  }

  async buildTwin(frozen: FrozenState, twinName: string, _opts?: CallOptions): Promise<TwinVm> {
    const staging = frozen.adapterData?.staging;
    if (!staging) throw new AppError('INTERNAL', 'frozen state has no staging folder; it was not made by the vmware adapter');
    const folder = join(dirname(staging), `twinsnap-twin-${frozen.handle}`);
    await mkdir(folder, { recursive: false }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    await writeFile(join(folder, TWIN_MARKER), `${frozen.vm.id}\n`);
    const production = VmxFile.parse(await readFile(join(staging, 'production.vmx')));
    const hasVmss = (await fileSize(join(staging, 'state.vmss'))) !== undefined;
    const hasNvram = (await fileSize(join(staging, 'state.nvram'))) !== undefined;
    if (hasVmss) await rename(join(staging, 'state.vmss'), join(folder, 'twin.vmss'));
    if ((await fileSize(join(staging, 'state.vmem'))) !== undefined) await rename(join(staging, 'state.vmem'), join(folder, 'twin.vmem'));
    if (hasNvram) await rename(join(staging, 'state.nvram'), join(folder, 'twin.nvram'));
    const hasTwinVmss = (await fileSize(join(folder, 'twin.vmss'))) !== undefined;
    const plan = buildTwinVmx({
      production,
      productionVmxPath: frozen.vm.id,
      displayName: twinName,
      vmssFileName: hasTwinVmss ? 'twin.vmss' : undefined,
      nvramFileName: hasNvram || (await fileSize(join(folder, 'twin.nvram'))) !== undefined ? 'twin.nvram' : undefined,
      baseName: 'twin',
      takenPvnIds: await this.takenPvnIds(production),
    });
    let hostBytesWritten = Number(frozen.adapterData?.memoryBytes ?? 0) || 0;
    const disks = [];
    for (const d of plan.disks) {
      const child = join(folder, d.childFileName);
      if ((await fileSize(child)) === undefined) {
        await writeSparseChild({ path: child, parentHint: d.parentPath, parent: await readVmdkParentInfo(d.parentPath) });
      }
      hostBytesWritten += (await fileSize(child)) ?? 0;
      disks.push({ slot: d.slot, path: child });
    }
    const vmxPath = join(folder, 'twin.vmx');
    await writeFile(vmxPath, plan.vmx.toBuffer());
    const memoryFiles = [];
    for (const f of ['twin.vmss', 'twin.vmem']) if ((await fileSize(join(folder, f))) !== undefined) memoryFiles.push(join(folder, f));
    return { id: vmxPath, name: twinName, folder, disks, adapterData: { vmx: vmxPath }, memoryFiles, hostBytesWritten };
  }

  /** Segment ids the twin must not use: those named in the host's preferences and production's own. */
  private async takenPvnIds(production: VmxFile): Promise<Set<string>> {
    const taken = pvnIdsIn(production);
    const prefs = { ...defaultInventorySources(this.opts.vmFolders), ...this.opts.inventory }.preferencesFiles;
    for (const f of prefs) {
      const text = await readFile(f).catch(() => undefined);
      if (text) for (const id of pvnIdsIn(VmxFile.parse(text))) taken.add(id);
    }
    return taken;
  }

  /**
   * Starts (resumes) the twin, then proves it is isolated (twin-isolation.ts): every NIC is
   * disconnected (`disconnectNamedDevice`, a second layer: the guest is live before it runs) and
   * this power-on's vmware.log must show each NIC on the twin's own LAN segment. When that cannot
   * be shown the twin is powered off hard at once and HV_TWIN_NOT_ISOLATED is thrown.
   */
  async startTwin(twin: TwinVm, opts?: CallOptions): Promise<TwinStartReport> {
    const runner = await this.runner();
    const expected = expectedSegments(await this.readVmx(twin.id, twin.name));
    const unisolated = Object.entries(expected)
      .filter(([, pvn]) => !pvn)
      .map(([nic]) => nic);
    if (unisolated.length > 0) {
      throw new AppError('HV_TWIN_NOT_ISOLATED', `refusing to start twin '${twin.name}': ${unisolated.join(', ')} not on a private lan segment in its configuration`, {
        details: { nics: unisolated },
      });
    }
    const log = join(twin.folder, 'vmware.log');
    const logBefore = await stat(log).then(
      (s) => s.ino,
      () => undefined,
    );
    const powerOff = () => runner.tryRun(['stop', twin.id, 'hard'], { action: 'power off twin', vmName: twin.name, timeoutMs: this.timeouts.quick });
    try {
      await runner.run(['start', twin.id, 'nogui'], { action: 'start twin', vmName: twin.name, timeoutMs: this.t('start', opts), signal: opts?.signal });
    } catch (e) {
      // a start that failed or was killed may still bring the twin up, unchecked
      await powerOff();
      throw e;
    }
    const nics = Object.keys(expected);
    let problems: string[];
    try {
      problems = [];
      for (const nic of nics) {
        const r = await runner.tryRun(['disconnectNamedDevice', twin.id, nic], { action: `disconnect ${nic} of`, vmName: twin.name, timeoutMs: this.timeouts.quick });
        if ('failure' in r) problems.push(`disconnectNamedDevice ${nic} failed: ${r.failure.toolMessage || r.failure.hint}`);
      }
      if (nics.length > 0) {
        const st = await stat(log).catch(() => undefined);
        if (!st || st.ino === logBefore) problems.push('the twin wrote no vmware.log of its own for this start');
        else problems.push(...isolationProblems(await readFile(log, 'utf8'), expected));
      }
    } catch (e) {
      problems = [`the check itself failed: ${(e as Error).message}`];
    }
    if (problems.length > 0) {
      const off = await powerOff();
      const stopped = !('failure' in off) || off.failure.reason === 'not-running';
      throw new AppError(
        'HV_TWIN_NOT_ISOLATED',
        `the network isolation of twin '${twin.name}' could not be verified, so it was powered off at once${stopped ? '' : ' (the power-off failed too: stop it in vmware workstation)'}: ${problems.join('; ')}`,
        { details: { problems } },
      );
    }
    return {
      isolation: {
        verified: true,
        method: 'vmx: every NIC on a private LAN segment (pvn, fresh pvnID) + startConnected FALSE + disconnectNamedDevice; vmware.log checked',
        detail: nics.length === 0 ? 'the twin has no network adapters' : nics.map((n) => `${n} on lan segment ${expected[n]}, disconnected`).join('; '),
      },
    };
  }

  /**
   * Gives the restored folder's .vmx a new identity and the chosen name (restored-identity.ts).
   * Workstation has no registration call (`vmrun register` is for vSphere): the VM is known by its
   * .vmx path, which is what `startVm` takes and what File → Open shows. No vmrun call.
   */
  async registerRestored(folder: string, name: string, opts?: CallOptions & { network?: RestoreNetwork }): Promise<RestoredVm> {
    const vmxs = (await readdir(folder).catch(() => [] as string[])).filter((f) => /\.vmx$/i.test(f));
    if (vmxs.length !== 1) {
      throw new AppError('HV_VM_NOT_FOUND', `unable to register the restored vm: '${folder}' holds ${vmxs.length} .vmx files, expected one`, { details: { folder } });
    }
    const network: RestoreNetwork = opts?.network ?? { kind: 'disconnected' };
    // a network the host lacks is refused before the .vmx is touched
    const target = network.kind === 'network' ? pickNetwork(await this.listNetworks(), network.name) : undefined;
    const configPath = join(folder, vmxs[0]!);
    const vmx = applyVmxNetwork(restoredVmIdentity(await this.readVmx(configPath, name), name), network, target);
    const tmp = `${configPath}.tmp-${randomBytes(3).toString('hex')}`;
    await writeFile(tmp, vmx.toBuffer());
    await rename(tmp, configPath);
    return { id: configPath, name, configPath };
  }

  /**
   * bridged / nat / hostonly, the custom vmnets of the host's networking file and the LAN segments
   * of the user's preferences (restored-network.ts). Reads files only; no vmrun call.
   */
  async listNetworks(_opts?: CallOptions): Promise<HostNetwork[]> {
    const prefs = { ...defaultInventorySources(this.opts.vmFolders), ...this.opts.inventory }.preferencesFiles;
    return vmwareHostNetworks({
      networkingFiles: this.opts.networkingFiles ?? (process.platform === 'win32' ? [] : [LINUX_NETWORKING_FILE]),
      preferencesFiles: prefs,
      platform: process.platform,
    });
  }

  /** `vmrun start <vmx> nogui`; a VM that already runs is not an error. */
  async startVm(id: string, opts?: CallOptions): Promise<void> {
    const name = basename(id).replace(/\.vmx$/i, '');
    const r = await (await this.runner()).tryRun(['start', id, 'nogui'], { action: 'start', vmName: name, timeoutMs: this.t('start', opts), signal: opts?.signal });
    if ('failure' in r && r.failure.reason !== 'already-running') {
      throw new AppError(r.failure.code, `unable to start vm '${name}': ${r.failure.hint}`, { details: { reason: r.failure.reason } });
    }
  }

  async twinToolsRunning(twin: TwinVm, opts?: CallOptions): Promise<boolean> {
    return this.toolsRunning(twin.id, opts);
  }

  async shutdownTwin(twin: TwinVm, opts?: CallOptions): Promise<ShutdownReport> {
    const runner = await this.runner();
    const timeoutMs = this.t('stop', opts);
    const clock = this.opts.clock;
    const started = clock.monotonic();
    // Right after a resume Tools may answer but not run power scripts yet (3009, reference
    // `stop`): retry for a bounded time within the caller's limit.
    const warmupUntil = started + Math.min(this.timeouts.toolsWarmup, timeoutMs / 2);
    let refusals = 0;
    let r: Awaited<ReturnType<VmrunRunner['tryRun']>>;
    for (;;) {
      r = await runner.tryRun(['stop', twin.id, 'soft'], { action: 'shut down twin', vmName: twin.name, timeoutMs: Math.max(1000, started + timeoutMs - clock.monotonic()), signal: opts?.signal });
      const reason = 'failure' in r ? r.failure.reason : undefined;
      if ((reason !== 'tools-not-ready' && reason !== 'tools-not-running') || clock.monotonic() + 1000 > warmupUntil || opts?.signal?.aborted) break;
      // "not running" is worth a retry only while Tools do answer (warming up), not without Tools
      if (reason === 'tools-not-running' && !(await this.toolsRunning(twin.id, { timeoutMs: this.timeouts.quick }).catch(() => false))) break;
      refusals++;
      await clock.sleep(1000, opts?.signal);
    }
    if ('failure' in r) {
      const f = r.failure;
      if (f.reason === 'timeout') throw new AppError('HV_SHUTDOWN_TIMEOUT', `twin '${twin.name}' did not shut down within ${Math.round(timeoutMs / 1000)} s`);
      if (f.reason === 'tools-not-running' || f.reason === 'tools-not-ready') throw new AppError(f.code, `unable to shut down twin '${twin.name}': ${f.hint}`, { details: { reason: f.reason } });
      // vmrun gave up on its own (e.g. "The operation was canceled"): if the guest is still up, it
      // did not shut down — the same outcome for the consistency policy as our own timeout.
      if (f.reason !== 'not-running') {
        if (await this.isRunning(twin.id, opts)) {
          throw new AppError('HV_SHUTDOWN_TIMEOUT', `twin '${twin.name}' did not shut down: ${f.hint}`, { details: { reason: f.reason, toolMessage: f.toolMessage } });
        }
        throw new AppError(f.code, `unable to shut down twin '${twin.name}': ${f.hint}`, { details: { reason: f.reason } });
      }
    }
    // vmrun may return before the VM process is gone; wait until it leaves `vmrun list`.
    while (await this.isRunning(twin.id, opts)) {
      if (this.opts.clock.monotonic() - started > timeoutMs) throw new AppError('HV_SHUTDOWN_TIMEOUT', `twin '${twin.name}' did not power off within ${Math.round(timeoutMs / 1000)} s`);
      await this.opts.clock.sleep(250, opts?.signal);
    }
    return { method: refusals > 0 ? `vmrun stop soft (retried ${refusals}× while tools warmed up)` : 'vmrun stop soft' };
  }

  private async isRunning(vmxPath: string, opts?: CallOptions): Promise<boolean> {
    const k = vmxPathKey(vmxPath);
    return (await this.runningVmx(opts)).some((p) => vmxPathKey(p) === k);
  }

  async powerOffTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    const r = await (await this.runner()).tryRun(['stop', twin.id, 'hard'], { action: 'power off twin', vmName: twin.name, timeoutMs: this.t('quick', opts), signal: opts?.signal });
    if ('failure' in r && r.failure.reason !== 'not-running' && r.failure.reason !== 'vm-not-found') {
      throw new AppError(r.failure.code, `unable to power off twin '${twin.name}': ${r.failure.hint}`);
    }
  }

  async deleteTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    if ((await fileSize(join(twin.folder, TWIN_MARKER))) === undefined) {
      if ((await fileSize(twin.folder)) === undefined) return;
      throw new AppError('PATH_UNSAFE', `refusing to delete '${twin.folder}': it is not a twinsnap twin folder (no ${TWIN_MARKER} marker)`);
    }
    if (await this.isRunning(twin.id, opts)) await this.powerOffTwin(twin, opts);
    await this.waitUnlocked(twin.folder, twin.name, opts?.signal);
    await rm(twin.folder, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
  }

  /**
   * Waits until no `*.lck` directory is left in a stopped VM's folder: the VM's process may own
   * its files for a while after it left `vmrun list` (Packer waits up to 120 s, polling; a
   * deleted lock of a live process comes back, a locked file cannot be deleted on Windows).
   */
  private async waitUnlocked(folder: string, name: string, signal?: AbortSignal): Promise<void> {
    const clock = this.opts.clock;
    const until = clock.monotonic() + this.timeouts.locks;
    for (;;) {
      const locks = (await readdir(folder).catch(() => [] as string[])).filter((f) => /\.lck$/i.test(f));
      if (locks.length === 0) return;
      if (clock.monotonic() > until) {
        throw new AppError(
          'HV_VM_LOCKED',
          `unable to delete twin '${name}': its files are still locked ${Math.round(this.timeouts.locks / 1000)} s after it stopped (${locks.join(', ')}); it is removed at the next recovery`,
          { details: { folder, locks } },
        );
      }
      await clock.sleep(150, signal);
    }
  }

  /**
   * Limits for this VM (reference vmware-twin-facts.md §Q4: time-box suspend, snapshot and start
   * at 300 s or more, scaled by memsize). Per GiB of guest memory: a minute for each call that
   * moves memory (suspend writes it, resume reads it, the capture copies it), at a worst-case
   * HDD rate of ~17 MB/s.
   */
  stepLimits(vm: VmInfo): WorkflowStepLimits {
    const gib = Math.max(1, vm.memoryMiB / 1024);
    const perGib = 60_000;
    const call = Math.max(300_000, perGib * gib);
    return {
      freeze: 2 * call + perGib * gib,
      'copy-config': 120_000,
      resume: call,
      'boot-twin': call + 2 * this.timeouts.quick,
      'shutdown-twin': this.timeouts.stop + this.timeouts.toolsWarmup,
      cleanup: this.timeouts.deleteSnapshot + this.timeouts.locks,
    };
  }

  async releaseFrozen(frozen: FrozenState, opts?: CallOptions): Promise<void> {
    const runner = await this.runner();
    const r = await runner.tryRun(['deleteSnapshot', frozen.vm.id, frozen.handle], {
      action: 'delete the backup snapshot of',
      vmName: frozen.vm.name,
      timeoutMs: this.t('deleteSnapshot', opts),
      signal: opts?.signal,
    });
    if ('failure' in r && r.failure.reason !== 'snapshot-not-found') {
      throw new AppError(r.failure.code, `unable to delete the backup snapshot of vm '${frozen.vm.name}': ${r.failure.hint}`, { details: { reason: r.failure.reason } });
    }
    if (frozen.adapterData?.staging) await rm(frozen.adapterData.staging, { recursive: true, force: true });
  }

  /**
   * Makes production run and removes every leftover of TwinSnap for this VM — also those of a
   * freeze that crashed before its handle was journaled: twin folders whose marker names the VM,
   * staging folders whose owner file names it, and snapshots named `twinsnap-…`.
   */
  async recover(record: { vmId: string; handle?: string; twin?: TwinVm }, opts?: CallOptions): Promise<void> {
    const runner = await this.runner();
    const name = basename(record.vmId);
    const call = (action: string, t: keyof typeof DEFAULT_TIMEOUTS) => ({ action, vmName: name, timeoutMs: this.t(t, opts), signal: opts?.signal });
    if (record.twin) {
      await this.deleteTwin(record.twin, opts).catch((e) => {
        if (!isAppError(e, 'PATH_UNSAFE')) throw e;
      });
    }
    const root = this.twinsRoot(record.vmId);
    const owned = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).trim() === record.vmId;
    for (const entry of await readdir(root).catch(() => [] as string[])) {
      const path = join(root, entry);
      if (entry.startsWith('twinsnap-twin-') && (await owned(join(path, TWIN_MARKER)))) {
        await this.deleteTwin({ id: join(path, 'twin.vmx'), name: 'twin', folder: path, disks: [] }, opts);
      }
    }
    // Production must run: started when suspended, and — when a freeze of ours may have been
    // under way when the engine stopped (a staging folder of this VM that no journaled handle
    // names: its suspend may still be completing) — watched while listed, then started.
    const vmx = await this.readVmx(record.vmId).catch(() => undefined);
    const staged = (await readdir(root).catch(() => [] as string[])).filter((e) => e.startsWith('.twinsnap-') && e !== `.twinsnap-${record.handle}`);
    let freezing = false;
    for (const e of staged) if (!freezing && (await owned(join(root, e, STAGING_OWNER)))) freezing = true;
    if (vmx && (vmxSuspendState(vmx, record.vmId) || (freezing && (await this.isRunning(record.vmId, opts))))) {
      const why = await this.ensureRunning(record.vmId, name, opts?.signal);
      if (why) throw new AppError('HV_VM_BAD_STATE', `unable to recover vm '${name}': production could not be started again (${why}): start it in vmware workstation`);
    }
    const listed = await runner.tryRun(['listSnapshots', record.vmId], call('list snapshots of', 'quick'));
    const names = new Set(
      'stdout' in listed
        ? listed.stdout
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l.startsWith(SNAPSHOT_PREFIX))
        : [],
    );
    if (record.handle) names.add(record.handle);
    // A build killed between the twin folder's mkdir and its marker leaves the folder empty (or
    // with a torn marker): it is this VM's when its name carries one of this VM's handles.
    for (const handle of names) {
      const path = join(root, `twinsnap-twin-${handle}`);
      const inside = await readdir(path).catch(() => undefined);
      if (!inside || !inside.every((f) => f === TWIN_MARKER)) continue;
      const marker = (await readFile(join(path, TWIN_MARKER), 'utf8').catch(() => '')).trim();
      if (record.vmId.startsWith(marker)) await rm(path, { recursive: true, force: true });
    }
    for (const handle of names) {
      await this.releaseFrozen({ vm: { id: record.vmId, name } as VmInfo, handle, frozenDisks: [], configFiles: [], adapterData: { staging: join(root, `.twinsnap-${handle}`) } }, opts);
    }
    for (const entry of await readdir(root).catch(() => [] as string[])) {
      if (!entry.startsWith('.twinsnap-')) continue;
      const path = join(root, entry);
      if (await owned(join(path, STAGING_OWNER))) await rm(path, { recursive: true, force: true });
      else if (await abandonedStaging(path, record.vmId)) await rm(path, { recursive: true, force: true });
    }
  }

  /**
   * What TwinSnap left for this VM (read-only; doctor and tests): `twinsnap-…` snapshots, twin
   * folders whose marker names it (or holding no marker at all) and staging folders it owns.
   */
  async leftovers(vmId: string, opts?: CallOptions): Promise<string[]> {
    const runner = await this.runner();
    const out: string[] = [];
    const listed = await runner.tryRun(['listSnapshots', vmId], { action: 'list snapshots of', vmName: basename(vmId), timeoutMs: this.t('quick', opts), signal: opts?.signal });
    if (!('stdout' in listed)) out.push(`snapshots unknown (listSnapshots failed)`);
    else
      out.push(
        ...listed.stdout
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l.startsWith(SNAPSHOT_PREFIX))
          .map((l) => `snapshot ${l}`),
      );
    const root = this.twinsRoot(vmId);
    const marker = async (file: string) => (await readFile(file, 'utf8').catch(() => undefined))?.trim();
    for (const entry of await readdir(root).catch(() => [] as string[])) {
      const path = join(root, entry);
      if (entry.startsWith('twinsnap-twin-')) {
        const m = await marker(join(path, TWIN_MARKER));
        if (m === undefined || m === vmId) out.push(`twin folder ${path}${m === undefined ? ' (no marker)' : ''}`);
      } else if (entry.startsWith('.twinsnap-') && (await marker(join(path, STAGING_OWNER))) === vmId) out.push(`staging folder ${path}`);
    }
    return out;
  }
}

/**
 * A staging folder whose making was interrupted: `<…>.tmp-<pid>` of a process that is gone,
 * holding at most a (possibly torn) owner file naming this VM.
 */
async function abandonedStaging(path: string, vmId: string): Promise<boolean> {
  const i = path.lastIndexOf(STAGING_TMP);
  const pid = i < 0 ? NaN : Number(path.slice(i + STAGING_TMP.length));
  if (!Number.isInteger(pid) || pid <= 0 || processExists(pid)) return false;
  const inside = await readdir(path).catch(() => undefined);
  if (!inside || !inside.every((f) => f === STAGING_OWNER)) return false;
  const owner = (await readFile(join(path, STAGING_OWNER), 'utf8').catch(() => '')).trim();
  return vmId.startsWith(owner);
}

/** Whether a process exists (EPERM: it does, owned by someone else). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fileSize(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).size;
  } catch {
    return undefined;
  }
}

/** VMware's checkpoint magic numbers (crash-utility `vmware_vmss.h`): complete and partial. */
const CPT_MAGIC_OK = new Set([0xbed2bed2, 0xbed3bed3]);
/** The magic of a checkpoint that was already restored (resumed from): its memory moved on. */
const CPT_MAGIC_RESTORED = 0xbad1bad1;

/**
 * Captures the suspend state (`.vmss` and its companion `.vmem`, same base name) into staging as
 * files production can never write: a copy-on-write clone where the file system has one
 * (reflink on Linux: btrfs, XFS with reflink; libuv cannot clone on Windows), else a byte copy —
 * never a hard link, since resuming production maps the same `.vmem` again and writes into it
 * (hypervisor/README.md, "Memory image").
 * Verifies the capture: the `.vmss` carries a checkpoint magic that is not RESTORED, and the
 * `.vmem`, when there is one, holds the whole guest memory.
 */
async function captureMemoryState(vm: VmInfo, vmss: string, staging: string): Promise<{ files: string[]; bytes: number; method: string }> {
  const fail = (why: string) => new AppError('HV_VM_BAD_STATE', `unable to freeze vm '${vm.name}': the memory state cannot be captured: ${why}`, { details: { vmss } });
  const files: string[] = [];
  const methods = new Set<string>();
  let bytes = 0;
  const vmem = vmss.replace(/\.vmss$/i, '') + '.vmem';
  for (const [from, to] of [
    [vmss, join(staging, 'state.vmss')],
    [vmem, join(staging, 'state.vmem')],
  ] as const) {
    if (from === vmem && (await fileSize(vmem)) === undefined) continue; // memory inside the .vmss (no named file)
    methods.add(await cloneOrCopy(from, to));
    bytes += (await stat(to)).size;
    files.push(to);
  }
  const fh = await open(files[0]!, 'r');
  let magic: number;
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    magic = bytesRead === 4 ? b.readUInt32LE(0) : 0;
  } finally {
    await fh.close();
  }
  if (magic === CPT_MAGIC_RESTORED) throw fail(`${basename(vmss)} was already resumed from (checkpoint magic 0xbad1bad1)`);
  if (!CPT_MAGIC_OK.has(magic)) throw fail(`${basename(vmss)} is not a vmware checkpoint (magic 0x${magic.toString(16).padStart(8, '0')})`);
  if (files.length === 2 && vm.memoryMiB > 0) {
    const size = (await stat(files[1]!)).size;
    const want = vm.memoryMiB * 1024 * 1024;
    if (size < want * 0.99 || size > want * 1.01 + 64 * 1024 * 1024) throw fail(`${basename(vmem)} holds ${size} bytes, expected about ${want} (memsize ${vm.memoryMiB} MiB)`);
  }
  return { files, bytes, method: [...methods].join('+') };
}

/** A copy-on-write clone when the file system can make one (O(1)), else a byte copy. */
async function cloneOrCopy(from: string, to: string): Promise<'reflink' | 'copy'> {
  try {
    await copyFile(from, to, fsConstants.COPYFILE_FICLONE_FORCE);
    return 'reflink';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOSPC') throw e;
    await copyFile(from, to);
    return 'copy';
  }
}

import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError, isAppError } from '../../../../shared/errors/app-error.js';
import type { HypervisorInfo } from '../../../../shared/domain/guest.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { CallOptions, FrozenState, Hypervisor, HypervisorCapabilities, RestoredVm, TwinVm, VmInfo } from '../hypervisor.js';
import { VmxFile } from './vmx-file.js';
import { vmxCpus, vmxDisks, vmxDisplayName, vmxEncrypted, vmxMemoryMiB, vmxNics, vmxSuspendState } from './vmx-facts.js';
import { buildTwinVmx } from './twin-config.js';
import { restoredVmIdentity } from './restored-identity.js';
import { readVmdkParentInfo, writeSparseChild } from './vmdk-child.js';
import { VmrunRunner, parseVmrunList, vmxPathKey, type VmrunHostType } from './vmrun-runner.js';
import { detectVmrun, type VmwareEdition } from './vmware-tool-detect.js';
import { defaultInventorySources, discoverVmxPaths, type InventorySources } from './vmware-inventory.js';

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
  /** Per-operation time limits (ms); every vmrun call is bounded. */
  timeouts?: Partial<Record<'quick' | 'suspend' | 'snapshot' | 'start' | 'stop' | 'deleteSnapshot', number>>;
}

const DEFAULT_TIMEOUTS = { quick: 30_000, suspend: 120_000, snapshot: 300_000, start: 300_000, stop: 300_000, deleteSnapshot: 900_000 };
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
 * (hypervisor/README.md): `suspend hard` → hard-link the suspend state aside → `snapshot` (production
 * continues on new delta disks; the frozen disks become read-only parents) → `start` production.
 * Nothing is copied while production waits. The twin is a new folder whose disks are sparse
 * children of the frozen disks and whose `.vmss` is the linked suspend state.
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

    hvMs += (await runner.run(['suspend', vmxPath, 'hard'], call('suspend', 'suspend'))).durationMs;
    try {
      // Everything below runs while production is suspended: only metadata reads, links, renames.
      const vmxBytes = await readFile(vmxPath);
      const vmx = VmxFile.parse(vmxBytes);
      const vmss = vmxSuspendState(vmx, vmxPath);
      if (!vmss) throw new AppError('HV_VM_BAD_STATE', `unable to freeze vm '${vm.name}': vmware reported it suspended but its .vmx names no suspend state (checkpoint.vmState)`);
      await linkOrCopy(vmss, join(staging, 'state.vmss'));
      const vmem = vmss.replace(/\.vmss$/i, '.vmem');
      if (vmem !== vmss && (await fileSize(vmem)) !== undefined) await linkOrCopy(vmem, join(staging, 'state.vmem'));
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
        adapterData: { vmx: vmxPath, staging, snapshot: handle },
        hypervisorCallMs: hvMs,
      };
    } catch (e) {
      // Never leave production suspended because of our own failure.
      await runner.tryRun(['start', vmxPath, 'nogui'], call('resume', 'start'));
      await runner.tryRun(['deleteSnapshot', vmxPath, handle], call('delete snapshot of', 'deleteSnapshot'));
      await rm(staging, { recursive: true, force: true });
      throw e;
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
    });
    const disks = [];
    for (const d of plan.disks) {
      const child = join(folder, d.childFileName);
      if ((await fileSize(child)) === undefined) {
        await writeSparseChild({ path: child, parentHint: d.parentPath, parent: await readVmdkParentInfo(d.parentPath) });
      }
      disks.push({ slot: d.slot, path: child });
    }
    const vmxPath = join(folder, 'twin.vmx');
    await writeFile(vmxPath, plan.vmx.toBuffer());
    return { id: vmxPath, name: twinName, folder, disks, adapterData: { vmx: vmxPath } };
  }

  async startTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    await (await this.runner()).run(['start', twin.id, 'nogui'], { action: 'start twin', vmName: twin.name, timeoutMs: this.t('start', opts), signal: opts?.signal });
  }

  /**
   * Gives the restored folder's .vmx a new identity and the chosen name (restored-identity.ts).
   * Workstation has no registration call (`vmrun register` is for vSphere): the VM is known by its
   * .vmx path, which is what `startVm` takes and what File → Open shows. No vmrun call.
   */
  async registerRestored(folder: string, name: string, _opts?: CallOptions): Promise<RestoredVm> {
    const vmxs = (await readdir(folder).catch(() => [] as string[])).filter((f) => /\.vmx$/i.test(f));
    if (vmxs.length !== 1) {
      throw new AppError('HV_VM_NOT_FOUND', `unable to register the restored vm: '${folder}' holds ${vmxs.length} .vmx files, expected one`, { details: { folder } });
    }
    const configPath = join(folder, vmxs[0]!);
    const vmx = restoredVmIdentity(await this.readVmx(configPath, name), name);
    const tmp = `${configPath}.tmp-${randomBytes(3).toString('hex')}`;
    await writeFile(tmp, vmx.toBuffer());
    await rename(tmp, configPath);
    return { id: configPath, name, configPath };
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

  async shutdownTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    const runner = await this.runner();
    const timeoutMs = this.t('stop', opts);
    const started = this.opts.clock.monotonic();
    const r = await runner.tryRun(['stop', twin.id, 'soft'], { action: 'shut down twin', vmName: twin.name, timeoutMs, signal: opts?.signal });
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
    await rm(twin.folder, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
  }

  async releaseFrozen(frozen: FrozenState, opts?: CallOptions): Promise<void> {
    const runner = await this.runner();
    const r = await runner.tryRun(['deleteSnapshot', frozen.vm.id, frozen.handle], { action: 'delete the backup snapshot of', vmName: frozen.vm.name, timeoutMs: this.t('deleteSnapshot', opts), signal: opts?.signal });
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
    const owned = async (file: string) => ((await readFile(file, 'utf8').catch(() => '')).trim() === record.vmId);
    for (const entry of await readdir(root).catch(() => [] as string[])) {
      const path = join(root, entry);
      if (entry.startsWith('twinsnap-twin-') && (await owned(join(path, TWIN_MARKER)))) {
        await this.deleteTwin({ id: join(path, 'twin.vmx'), name: 'twin', folder: path, disks: [] }, opts);
      }
    }
    const vmx = await this.readVmx(record.vmId).catch(() => undefined);
    if (vmx && vmxSuspendState(vmx, record.vmId) && !(await this.isRunning(record.vmId, opts))) {
      await runner.tryRun(['start', record.vmId, 'nogui'], call('resume', 'start'));
    }
    const listed = await runner.tryRun(['listSnapshots', record.vmId], call('list snapshots of', 'quick'));
    const names = new Set('stdout' in listed ? listed.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(SNAPSHOT_PREFIX)) : []);
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
    else out.push(...listed.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(SNAPSHOT_PREFIX)).map((l) => `snapshot ${l}`));
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

/** Hard link (O(1)); a copy only when the file system cannot link (different volume, FAT). */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EMLINK') await copyFile(from, to);
    else throw e;
  }
}

import { statSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { join, win32 } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError, isAppError } from '../../../../shared/errors/app-error.js';
import type { GuestState, HostNetwork, HypervisorInfo, RestoreNetwork } from '../../../../shared/domain/guest.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { PowerShellSession } from '../../exec/powershell-session.js';
import type {
  CallOptions,
  FrozenState,
  GuestRoles,
  HostSpaceNeed,
  Hypervisor,
  HypervisorCapabilities,
  RestoredVm,
  ShutdownReport,
  TwinStartReport,
  TwinVm,
  VmInfo,
  WorkflowStepLimits,
} from '../hypervisor.js';
import { watchHostFiles } from './host-progress.js';
import { decodeAnswer, encodeInvocation } from './ps-invocation.js';
import { classifyPsOutcome, psError } from './classify-ps-error.js';
import type { HyperVOp } from './scripts/operations.js';

/** Options of HyperVHypervisor. */
export interface HyperVHypervisorOptions {
  /** PowerShell executable (`--powershell` / TWINSNAP_POWERSHELL); default Windows PowerShell 5.1. */
  powershellPath?: string;
  logger: Logger;
  clock: Clock;
  /** Folder for twins; default `<Get-VMHost VirtualMachinePath>\TwinSnap`. */
  twinsRoot?: string;
  timeouts?: Partial<Record<'quick' | 'checkpoint' | 'export' | 'start' | 'stop' | 'merge', number>>;
  env?: NodeJS.ProcessEnv;
  /** How often the files of a running export or merge are looked at for progress (default 2 s). */
  progressPollMs?: number;
}

const MiB = 1024 * 1024;

/** Operations that may take minutes (copies, merges, a guest's shutdown): each gets its own session. */
const LONG_OPS: ReadonlySet<HyperVOp> = new Set<HyperVOp>(['build-twin', 'import-restored', 'release-checkpoint', 'stop-graceful', 'remove-twin', 'find-leftovers']);

const DEFAULT_TIMEOUTS = { quick: 60_000, checkpoint: 300_000, export: 4 * 3600_000, start: 300_000, stop: 300_000, merge: 3600_000 };

type OneOrMany<T> = T[] | T | null;

/** What a script reports about a VM (see scripts/prelude.ts TS-VmInfo). */
interface PsVm {
  id: string;
  name: string;
  state: string;
  memoryMiB: number;
  cpus: number;
  disks: OneOrMany<{ slot: string; path: string }>;
  nics: OneOrMany<{ name: string; switchName: string; connected: boolean }>;
  integrationServices: OneOrMany<{ name: string; kind: string; enabled: boolean; status: string }>;
  shielded: boolean;
  path: string;
}

/** Hyper-V's state names (emitted with .ToString(), reference §1.2) → engine states. */
export function mapHyperVState(s: string): GuestState {
  if (s === 'Running') return 'running';
  if (s === 'Off') return 'off';
  if (s === 'Saved' || s === 'FastSaved' || s === 'Hibernated') return 'suspended';
  if (s === 'Paused') return 'paused';
  return 'unknown';
}

/** ConvertTo-Json turns a one-element array that lost its `@()` into a bare object; undo that. */
function asArray<T>(v: T[] | T | null | undefined): T[] {
  return Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
}

function icOk(vm: Pick<PsVm, 'integrationServices'>, kind: string): boolean {
  return asArray(vm.integrationServices).some((i) => i.kind === kind && i.enabled && i.status === 'Ok');
}

/** The default PowerShell: Windows PowerShell 5.1 (sysnative from a 32-bit process, §1.1). */
export function defaultPowerShellPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform !== 'win32') return undefined;
  const root = env.SystemRoot ?? env.windir ?? 'C:\\Windows';
  const sys = process.arch === 'ia32' && env.PROCESSOR_ARCHITEW6432 ? 'sysnative' : 'System32';
  return win32.join(root, sys, 'WindowsPowerShell', 'v1.0', 'powershell.exe');
}

/**
 * The Hyper-V adapter: every operation is a fixed script run in one long-lived PowerShell session
 * with its values as base64 JSON (ps-invocation.ts). Twin recipe (hypervisor/README.md): Standard
 * checkpoint (production keeps running) → Export-VMSnapshot into the twin folder, imported in place
 * (Import-VM -Copy -GenerateNewId, VHD source = destination: no second copy) → Rename-VM → all
 * adapters disconnected → Start-VM (resumes the memory state) →
 * Stop-VM through the Shutdown integration service → Remove-VM + folder → Remove-VMSnapshot and
 * wait for the merge.
 */
export class HyperVHypervisor implements Hypervisor {
  readonly kind = 'hyperv' as const;
  readonly capabilities: HypervisorCapabilities = { memoryState: true, linkedTwin: false, runningAfterFreeze: true, gracefulShutdown: true, register: true };
  private readonly timeouts: typeof DEFAULT_TIMEOUTS;
  private session: PowerShellSession | undefined;
  private detected: Promise<HypervisorInfo> | undefined;

  constructor(private readonly opts: HyperVHypervisorOptions) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  }

  private exe(): string | undefined {
    return this.opts.powershellPath ?? defaultPowerShellPath(this.opts.env);
  }

  /** Never throws. Without a PowerShell (non-Windows, nothing configured) it costs nothing. */
  detect(): Promise<HypervisorInfo> {
    const p = (this.detected ??= this.detectNow()
      .catch((e: Error): HypervisorInfo => ({ kind: 'hyperv', available: false, problem: `hyper-v detection failed: ${e.message}` }))
      .then((info) => {
        // Not usable now (not elevated, module missing, tool absent): check again next time.
        if (!info.available && this.detected === p) this.detected = undefined;
        return info;
      }));
    return p;
  }

  private async detectNow(): Promise<HypervisorInfo> {
    const exe = this.exe();
    if (!exe) return { kind: 'hyperv', available: false, problem: 'hyper-v needs a windows host (or give a powershell with --powershell / TWINSNAP_POWERSHELL)' };
    if (/[\\/]/.test(exe)) {
      try {
        await access(exe, constants.X_OK);
      } catch {
        return { kind: 'hyperv', available: false, toolPath: exe, problem: `powershell '${exe}' was not found` };
      }
    }
    const probe = (await this.call('probe', {}, { action: 'probe', vmName: 'host', timeoutMs: this.timeouts.quick })) as {
      psVersion: string;
      elevated: boolean;
      hyperVAdmin: boolean;
      module: boolean;
    };
    const info: HypervisorInfo = { kind: 'hyperv', available: true, toolPath: exe, version: `powershell ${probe.psVersion}` };
    if (!probe.module) return { ...info, available: false, problem: 'the hyper-v powershell module is not installed; enable "Hyper-V Module for Windows PowerShell" in windows features' };
    if (!probe.elevated && !probe.hyperVAdmin) {
      return {
        ...info,
        available: false,
        problem: 'twinsnap is not elevated and not in "Hyper-V Administrators": hyper-v hides all vms from it. run it as administrator or add the user to the group and sign in again',
      };
    }
    return info;
  }

  private async ready(): Promise<void> {
    const info = await this.detect();
    if (info.available) return;
    const elevated = /not elevated/.test(info.problem ?? '');
    throw new AppError(elevated ? 'HV_NOT_ELEVATED' : 'HV_NOT_INSTALLED', info.problem ?? 'hyper-v is not available');
  }

  /**
   * Runs one operation; returns its `result` or throws the classified AppError. Long operations
   * (LONG_OPS) run in a session of their own that ends with the call, so a quick call (a guest
   * listing) never waits behind an export, and its time-out can never kill one.
   */
  private async call(op: HyperVOp, args: unknown, c: { action: string; vmName: string; timeoutMs: number; signal?: AbortSignal }): Promise<unknown> {
    const exe = this.exe();
    if (!exe) throw new AppError('HV_NOT_INSTALLED', 'no powershell configured');
    const own = LONG_OPS.has(op) ? new PowerShellSession({ executable: exe, env: this.opts.env }) : undefined;
    const session = own ?? (this.session ??= new PowerShellSession({ executable: exe, env: this.opts.env }));
    const started = this.opts.clock.monotonic();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    try {
      const r = await session.invoke(encodeInvocation(op, args), c.timeoutMs, c.signal);
      stdout = r.stdout;
      stderr = r.stderr;
    } catch (e) {
      if (!isAppError(e, 'TIMEOUT')) throw e;
      timedOut = true;
    } finally {
      if (own) await this.endSession(own);
    }
    const answer = decodeAnswer(stdout);
    const failure = classifyPsOutcome({ answer, stderr, timedOut });
    this.opts.logger.debug('powershell', { op, durationMs: Math.round(this.opts.clock.monotonic() - started), failure: failure?.reason });
    if (failure) throw psError(failure, c.action, c.vmName);
    return (answer as { result: unknown }).result;
  }

  private t(kind: keyof typeof DEFAULT_TIMEOUTS, o?: CallOptions): number {
    return o?.timeoutMs ?? this.timeouts[kind];
  }

  private toInfo(v: PsVm): VmInfo {
    return {
      id: v.id,
      name: v.name,
      state: mapHyperVState(v.state),
      memoryMiB: v.memoryMiB,
      cpus: v.cpus,
      disks: asArray(v.disks),
      configPath: v.path,
      toolsRunning: icOk(v, 'shutdown') || icOk(v, 'heartbeat'),
      encrypted: v.shielded,
      nics: asArray(v.nics).map((n) => n.name),
      warnings: v.shielded ? ['the vm is shielded; its state is encrypted and cannot be used for a twin'] : [],
    };
  }

  async listVms(o?: CallOptions): Promise<VmInfo[]> {
    await this.ready();
    const r = (await this.call('list-vms', {}, { action: 'list', vmName: '*', timeoutMs: this.t('quick', o), signal: o?.signal })) as PsVm[] | PsVm | null;
    // TwinSnap's own twins (in `twinsnap-twin-…` folders) are not guests to back up.
    return asArray(r)
      .filter((v) => !/[\\/]twinsnap-twin-[^\\/]*([\\/]|$)/i.test(v.path ?? ''))
      .map((v) => this.toInfo(v));
  }

  async getVm(id: string, o?: CallOptions): Promise<VmInfo> {
    await this.ready();
    return this.toInfo((await this.call('get-vm', { id }, { action: 'read', vmName: id, timeoutMs: this.t('quick', o), signal: o?.signal })) as PsVm);
  }

  async freeze(vm: VmInfo, o?: CallOptions): Promise<FrozenState> {
    await this.ready();
    if (vm.encrypted) throw new AppError('HV_ENCRYPTED_VM', `unable to freeze vm '${vm.name}': it is shielded; its memory state cannot be used for a twin`);
    const snapshotName = `twinsnap-${this.opts.clock.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const started = this.opts.clock.monotonic();
    const r = (await this.call('freeze', { id: vm.id, snapshotName }, { action: 'checkpoint', vmName: vm.name, timeoutMs: this.t('checkpoint', o), signal: o?.signal })) as {
      snapshotId: string;
      frozenDisks: OneOrMany<{ slot: string; path: string }>;
      newDiskFiles: OneOrMany<string>;
    };
    return {
      vm,
      handle: r.snapshotId,
      frozenDisks: asArray(r.frozenDisks),
      configFiles: [],
      adapterData: { snapshotId: r.snapshotId, snapshotName, mergeFiles: JSON.stringify(asArray(r.newDiskFiles)) },
      hypervisorCallMs: this.opts.clock.monotonic() - started,
    };
  }

  /**
   * Step limits for this VM: the export copies every byte of its disks once and the merge
   * rewrites the checkpoint's children, so copy-config and clean-up grow with the disks' size on
   * the host (the files' sizes: a dynamic VHDX grows with its data; one that cannot be read
   * counts as empty) at a pessimistic 40 MiB/s; the checkpoint and the twin's start save and
   * restore memory at 20 MiB/s.
   */
  stepLimits(vm: VmInfo): WorkflowStepLimits {
    let bytes = 0;
    for (const d of vm.disks) {
      try {
        bytes += statSync(d.path).size;
      } catch {
        // not readable from here: the workflow's default applies
      }
    }
    const copyMs = Math.ceil((bytes / (40 * 2 ** 20)) * 1000);
    const memoryMs = Math.ceil((vm.memoryMiB / 20) * 1000);
    return { freeze: 300_000 + memoryMs, 'copy-config': 600_000 + copyMs, 'boot-twin': 300_000 + memoryMs, 'shutdown-twin': 600_000, cleanup: 600_000 + copyMs };
  }

  /** A Standard checkpoint never stops production; nothing to do. */
  async resume(_frozen: FrozenState, _o?: CallOptions): Promise<void> {}

  /** The folder twins are built in (the configured one, else `<VirtualMachinePath>\TwinSnap`). */
  private async twinsRoot(o?: CallOptions): Promise<string> {
    const r = (await this.call('host-paths', { twinsRoot: this.opts.twinsRoot ?? '' }, { action: 'find the twin folder for', vmName: 'host', timeoutMs: this.t('quick', o), signal: o?.signal })) as {
      twinsRoot: string;
    };
    return r.twinsRoot;
  }

  /** Reports the growth of `paths` through `o.onProgress` while `fn` runs (see host-progress.ts). */
  private async withFileProgress<T>(o: CallOptions | undefined, paths: () => string[], detail: (files: number) => string, fn: () => Promise<T>): Promise<T> {
    const onProgress = o?.onProgress;
    const stop = onProgress ? watchHostFiles(paths, (seen) => onProgress({ bytesDone: seen.bytes, detail: detail(seen.files) }), { intervalMs: this.opts.progressPollMs ?? 2000 }) : undefined;
    try {
      return await fn();
    } finally {
      stop?.();
    }
  }

  /**
   * Export-VMSnapshot, then the export imported in place with a new id (operation `build-twin`):
   * one copy of the disks per backup. While the export runs, the twin folder's growing files are
   * its progress (`o.onProgress`).
   */
  async buildTwin(frozen: FrozenState, twinName: string, o?: CallOptions): Promise<TwinVm> {
    await this.ready();
    const root = await this.twinsRoot(o);
    const folderName = `twinsnap-twin-${frozen.handle}`;
    const r = (await this.withFileProgress(
      o,
      () => [join(root, folderName)],
      (n) => `export: ${n} file(s) written in the twin folder`,
      () =>
        this.call(
          'build-twin',
          { snapshotId: frozen.handle, vmId: frozen.vm.id, twinsRoot: root, folderName, twinName },
          { action: 'build the twin of', vmName: frozen.vm.name, timeoutMs: this.t('export', o), signal: o?.signal },
        ),
    )) as { twin: PsVm; folder: string; hostBytesWritten?: number; configFiles?: OneOrMany<{ name: string; path: string }> };
    const configFiles = asArray(r.configFiles);
    return {
      id: r.twin.id,
      name: r.twin.name,
      folder: r.folder,
      disks: asArray(r.twin.disks),
      adapterData: { folder: r.folder },
      ...(typeof r.hostBytesWritten === 'number' ? { hostBytesWritten: r.hostBytesWritten } : {}),
      ...(configFiles.length ? { configFiles } : {}),
    };
  }

  /**
   * The export writes one copy of every disk (a dynamic VHDX holds about what its file holds; a
   * file that cannot be read counts as empty) and the checkpoint's memory state into the twin
   * folder, the twin's import copies the memory state once more, and the running twin keeps a
   * memory-sized file of its own (⚠ Hyper-V's saved-state reservation of a running VM is not in
   * the reference; the stand-in's QEMU twin maps its RAM from such a file): three times memory.
   */
  async hostSpaceNeeds(vm: VmInfo, o?: CallOptions): Promise<HostSpaceNeed[]> {
    await this.ready();
    const root = await this.twinsRoot(o);
    let disks = 0;
    for (const d of vm.disks) {
      try {
        disks += statSync(d.path).size;
      } catch {
        // not readable from here
      }
    }
    const memory = vm.memoryMiB * MiB;
    return [
      {
        path: root,
        bytes: disks + 3 * memory,
        what: `the export of the disks (${Math.ceil(disks / MiB)} MiB) and the memory state, exported, imported and the running twin's (3 × ${vm.memoryMiB} MiB)`,
      },
    ];
  }

  /**
   * The guest's role from the host: KVP ProductType 2 (VER_NT_DOMAIN_CONTROLLER) or the VM's
   * notes naming a domain controller (operation `guest-role`).
   */
  async guestRoles(vm: VmInfo, o?: CallOptions): Promise<GuestRoles> {
    await this.ready();
    const r = (await this.call('guest-role', { id: vm.id }, { action: 'read the guest role of', vmName: vm.name, timeoutMs: this.t('quick', o), signal: o?.signal })) as {
      kvp: boolean;
      productType: string;
      notes: string;
    };
    if (String(r.productType) === '2') return { domainController: true, evidence: 'the guest reports ProductType 2 (domain controller) through key-value pair exchange' };
    if (/domain controller|\bAD ?DS\b|\bAD ?LDS\b/i.test(r.notes ?? '')) return { domainController: true, evidence: 'the vm notes name it a domain controller' };
    if (r.kvp) return { domainController: false, evidence: `the guest reports ProductType ${r.productType || 'none'} through key-value pair exchange` };
    return { evidence: 'the guest reports no key-value pair data (service off or not installed), so a domain controller cannot be ruled out' };
  }

  /** Import-VM -Copy -GenerateNewId of the restored folder, renamed (operation `import-restored`). */
  async registerRestored(folder: string, name: string, o?: CallOptions & { network?: RestoreNetwork }): Promise<RestoredVm> {
    await this.ready();
    const network: RestoreNetwork = o?.network ?? { kind: 'disconnected' };
    const r = (await this.call('import-restored', { folder, name, network }, { action: 'import the restored vm', vmName: name, timeoutMs: this.t('export', o), signal: o?.signal })) as {
      vm: PsVm;
      configPath: string;
      notRemoved?: string[];
    };
    const notRemoved = (r.notRemoved ?? []).map(String);
    return { id: r.vm.id, name: r.vm.name, configPath: r.configPath, ...(notRemoved.length ? { notRemoved } : {}) };
  }

  /** The host's virtual switches (Get-VMSwitch; `kind` its SwitchType: External, Internal, Private). */
  async listNetworks(o?: CallOptions): Promise<HostNetwork[]> {
    await this.ready();
    const r = (await this.call('list-switches', {}, { action: 'list virtual switches', vmName: '*', timeoutMs: this.t('quick', o), signal: o?.signal })) as OneOrMany<{
      name: string;
      switchType: string;
      description?: string;
    }>;
    return (r === null ? [] : Array.isArray(r) ? r : [r]).map((x) => ({ name: String(x.name), kind: String(x.switchType), ...(x.description ? { detail: String(x.description) } : {}) }));
  }

  /** Start-VM (a paused VM is resumed; a running one is left alone). */
  async startVm(id: string, o?: CallOptions): Promise<void> {
    await this.ready();
    await this.call('start-vm', { id }, { action: 'start', vmName: id, timeoutMs: this.t('start', o), signal: o?.signal });
  }

  /**
   * Starts the twin and verifies, now that it runs, that none of its adapters is connected to a
   * switch (build-twin disconnected and checked them before the start). If that cannot be shown,
   * the twin is turned off at once and the call rejects with HV_TWIN_NOT_ISOLATED.
   */
  async startTwin(twin: TwinVm, o?: CallOptions): Promise<TwinStartReport> {
    await this.call('start-vm', { id: twin.id }, { action: 'start twin', vmName: twin.name, timeoutMs: this.t('start', o), signal: o?.signal });
    let problem: string;
    let count = 0;
    try {
      const v = (await this.call('get-vm', { id: twin.id }, { action: 'check the network adapters of', vmName: twin.name, timeoutMs: this.t('quick', o), signal: o?.signal })) as PsVm;
      const nics = asArray(v.nics);
      count = nics.length;
      const connected = nics.filter((n) => n.connected || (n.switchName ?? '') !== '');
      problem = connected.length ? `adapter(s) ${connected.map((n) => `'${n.name}' (switch '${n.switchName}')`).join(', ')} connected after the start` : '';
    } catch (e) {
      problem = `the adapters could not be read after the start: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (problem) {
      await this.powerOffTwin(twin, { timeoutMs: this.t('quick') }).catch(() => undefined);
      throw new AppError('HV_TWIN_NOT_ISOLATED', `twin '${twin.name}' was turned off at once: ${problem}`);
    }
    return {
      isolation: {
        verified: true,
        method: 'Disconnect-VMNetworkAdapter on every adapter before the start; Get-VMNetworkAdapter read again after the start',
        detail: `${count} network adapter(s), none connected to a virtual switch`,
      },
    };
  }

  async twinToolsRunning(twin: TwinVm, o?: CallOptions): Promise<boolean> {
    const r = (await this.call('integration-state', { id: twin.id }, { action: 'check integration services of', vmName: twin.name, timeoutMs: this.t('quick', o), signal: o?.signal })) as Pick<
      PsVm,
      'integrationServices'
    >;
    return icOk(r, 'shutdown');
  }

  /**
   * Forced OS shutdown through the Shutdown integration component, polled until Off (operation
   * `stop-graceful`); resolves with the form used, for the snapshot manifest.
   */
  async shutdownTwin(twin: TwinVm, o?: CallOptions): Promise<ShutdownReport> {
    const timeoutMs = this.t('stop', o);
    // the script's own deadline ends first, so it can say why; the session limit is the backstop
    const waitMs = Math.max(1000, timeoutMs - Math.min(15_000, timeoutMs / 4));
    try {
      const r = (await this.call('stop-graceful', { id: twin.id, waitMs }, { action: 'shut down twin', vmName: twin.name, timeoutMs, signal: o?.signal })) as { method?: string };
      return { method: r.method ?? 'Msvm_ShutdownComponent.InitiateShutdown(Force=true)' };
    } catch (e) {
      if (isAppError(e, 'HV_COMMAND_TIMEOUT')) throw new AppError('HV_SHUTDOWN_TIMEOUT', `twin '${twin.name}' did not shut down within ${Math.round(timeoutMs / 1000)} s`, { cause: e });
      throw e;
    }
  }

  async powerOffTwin(twin: TwinVm, o?: CallOptions): Promise<void> {
    await this.call('turn-off', { id: twin.id }, { action: 'power off twin', vmName: twin.name, timeoutMs: this.t('quick', o), signal: o?.signal });
  }

  async deleteTwin(twin: TwinVm, o?: CallOptions): Promise<void> {
    await this.call('remove-twin', { id: twin.id, folder: twin.folder }, { action: 'delete twin', vmName: twin.name, timeoutMs: this.t('stop', o), signal: o?.signal });
  }

  async releaseFrozen(frozen: FrozenState, o?: CallOptions): Promise<void> {
    let mergeFiles: string[] = [];
    try {
      mergeFiles = JSON.parse(frozen.adapterData?.mergeFiles ?? '[]') as string[];
    } catch {
      // a journal from an older version: nothing to wait for
    }
    const waitMs = this.t('merge', o);
    // the merge rewrites the parents and then deletes the differencing files: their changes are its progress
    await this.withFileProgress(
      o,
      () => [...mergeFiles, ...frozen.frozenDisks.map((d) => d.path)],
      (n) => `merge: ${n} disk file(s)`,
      () =>
        this.call(
          'release-checkpoint',
          { snapshotId: frozen.handle, mergeFiles, waitMs },
          { action: 'merge the checkpoint of', vmName: frozen.vm.name, timeoutMs: waitMs + 60_000, signal: o?.signal },
        ),
    );
  }

  /**
   * Makes production run and removes TwinSnap's leftovers for this VM — also those of a freeze or
   * build that crashed before its result was journaled (twin folders marked with the VM's id,
   * checkpoints named `twinsnap-…`).
   */
  async recover(record: { vmId: string; handle?: string; twin?: TwinVm }, o?: CallOptions): Promise<void> {
    await this.ready();
    const name = record.vmId;
    if (record.twin) {
      await this.call('remove-twin', { id: record.twin.id, folder: record.twin.folder }, { action: 'delete the twin of', vmName: name, timeoutMs: this.t('stop', o), signal: o?.signal });
    }
    const found = (await this.call(
      'find-leftovers',
      { vmId: record.vmId, twinsRoot: this.opts.twinsRoot ?? '' },
      { action: 'clean up after', vmName: name, timeoutMs: this.t('stop', o), signal: o?.signal },
    )) as {
      checkpointIds: OneOrMany<string>;
    };
    const ids = new Set(asArray(found.checkpointIds));
    if (record.handle) ids.add(record.handle);
    const vm = await this.getVm(record.vmId, o).catch(() => undefined);
    if (vm && (vm.state === 'paused' || vm.state === 'suspended')) {
      await this.call('start-vm', { id: record.vmId }, { action: 'resume', vmName: vm.name, timeoutMs: this.t('start', o), signal: o?.signal });
    }
    for (const handle of ids) {
      await this.releaseFrozen({ vm: vm ?? ({ id: record.vmId, name } as VmInfo), handle, frozenDisks: [], configFiles: [] }, o);
    }
  }

  /** What TwinSnap left for this VM (read-only; doctor and tests): marked twin folders and their VMs, `twinsnap-` checkpoints. */
  async leftovers(vmId: string, o?: CallOptions): Promise<string[]> {
    await this.ready();
    const r = (await this.call(
      'list-leftovers',
      { vmId, twinsRoot: this.opts.twinsRoot ?? '' },
      { action: 'list the leftovers of', vmName: vmId, timeoutMs: this.t('stop', o), signal: o?.signal },
    )) as { leftovers: OneOrMany<string> };
    return asArray(r.leftovers);
  }

  /**
   * Ends the PowerShell session. The session's process and pipes are unref'd (an idle session
   * must not keep a CLI run alive), so while waiting for it to exit this holds the event loop
   * itself: otherwise a CLI whose last await is engine.close() ends with Node's "unsettled
   * top-level await" (exit 13) instead of its own exit code.
   */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s) await this.endSession(s);
  }

  private async endSession(s: PowerShellSession): Promise<void> {
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await s.dispose();
    } finally {
      clearInterval(keepAlive);
    }
  }
}

/**
 * The one test double of the Hypervisor port (tests only — it lives outside electron/ so it never
 * ships): an in-memory host that keeps the state a real one would have (production running /
 * suspended, frozen handles, twins), enforces the rules the real adapters meet (no twin without
 * its frozen state, no release while a twin uses the frozen disks, one backup snapshot per VM),
 * records every call, and lets a test script failures, hangs and guest behaviour per operation.
 * Used by the workflow / job / service unit tests and run through the conformance suite
 * (hypervisor-scripted.test.ts) like the real adapters.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HypervisorInfo, HypervisorKind } from '../../shared/domain/guest.js';
import { AppError } from '../../shared/errors/app-error.js';
import type { ErrorCode } from '../../shared/errors/error-codes.js';
import { systemClock, type Clock } from '../../electron/engine/core/clock.js';
import type {
  CallOptions,
  FrozenState,
  Hypervisor,
  HypervisorCapabilities,
  RestoredVm,
  ShutdownReport,
  TwinStartReport,
  TwinVm,
  VmInfo,
  WorkflowStepLimits,
} from '../../electron/engine/hypervisor/hypervisor.js';

/** Operations of the port that a script can break. */
export type HvOp =
  | 'detect'
  | 'listVms'
  | 'getVm'
  | 'freeze'
  | 'buildTwin'
  | 'resume'
  | 'startTwin'
  | 'twinToolsRunning'
  | 'shutdownTwin'
  | 'powerOffTwin'
  | 'deleteTwin'
  | 'releaseFrozen'
  | 'recover'
  | 'registerRestored'
  | 'startVm'
  | 'leftovers';

/** How a scripted call misbehaves. */
export type HvFault =
  | { kind: 'fail'; error?: Error; times?: number }
  /**
   * Never settles; `honourSignal` makes it reject on abort like a well-behaved adapter; `after`
   * hangs once the effect has happened (a crash between the effect and its journal record).
   */
  | { kind: 'hang'; honourSignal?: boolean; after?: boolean };

/** The behaviour of every twin's guest (per-VM switches in ScriptedVm add to it). */
export interface TwinBehaviour {
  toolsRunning: boolean;
  /** The guest ignores the power button: soft stop times out. */
  ignoresPowerButton: boolean;
  /**
   * False: startTwin cannot verify the twin's isolation, powers it off and rejects
   * HV_TWIN_NOT_ISOLATED (like a real adapter must).
   */
  isolated?: boolean;
  /** startTwin resolves with `isolation.verified: false` and leaves the twin running (an adapter that should have rejected). */
  reportsUnverified?: boolean;
}

/**
 * A call that takes time on the double's clock: `ms` in all, a progress report every
 * `progressEveryMs` (none when omitted) until `progressUntilMs` (default: the whole call).
 */
export interface ScriptedWork {
  ms: number;
  progressEveryMs?: number;
  progressUntilMs?: number;
}

/** A VM of the double, with behaviour switches for its twins. */
export interface ScriptedVm extends VmInfo {
  /** Twins of this VM never power off on a graceful request (→ HV_SHUTDOWN_TIMEOUT). */
  ignoresPowerButton?: boolean;
  /** The tools / integration services of this VM's twins never come up. */
  twinToolsNeverRun?: boolean;
}

/** Options of ScriptedHypervisor. */
export interface ScriptedHypervisorOptions {
  kind?: HypervisorKind;
  /** False: detect() reports the tool missing. */
  available?: boolean;
  capabilities?: Partial<HypervisorCapabilities>;
  vms?: ScriptedVm[];
  /** Folder twins are reported in (nothing is written anywhere). */
  twinsRoot?: string;
  /** The clock slow calls (`work`) wait on (default: the system clock). */
  clock?: Clock;
  /** Where freeze() writes the captured memory image (a real file, `FrozenState.memoryFiles`); none when omitted. */
  memoryDir?: string;
}

/** A twin the double keeps. */
interface TwinEntry {
  twin: TwinVm;
  running: boolean;
  /** Id of the production VM it was built from. */
  production: string;
}

/** See the file comment. */
export class ScriptedHypervisor implements Hypervisor {
  readonly kind: HypervisorKind;
  capabilities: HypervisorCapabilities;
  info: HypervisorInfo;
  readonly vms = new Map<string, ScriptedVm>();
  /** Twins by name. */
  readonly twins = new Map<string, TwinEntry>();
  /** Frozen handle → production vm id. */
  readonly frozenHandles = new Map<string, string>();
  readonly calls: { op: HvOp; arg?: string }[] = [];
  readonly faults = new Map<HvOp, HvFault>();
  twinBehaviour: TwinBehaviour = { toolsRunning: true, ignoresPowerButton: false };
  /** Most twins that existed at once. */
  maxTwins = 0;
  /** Called when an op starts (after it is logged): lets tests act at an exact moment. */
  onCall?: (op: HvOp) => void;
  /** Calls that take time (and may report progress): see ScriptedWork. */
  readonly work = new Map<HvOp, ScriptedWork>();
  /** What `stepLimits(vm)` answers (undefined: the adapter has no opinion). */
  limits: WorkflowStepLimits | undefined;
  /** Reported as `TwinVm.hostBytesWritten` by buildTwin. */
  hostBytesWritten: number | undefined;
  /** Pessimistic: production, once resumed, keeps writing the memory image captured at the freeze. */
  productionWritesMemory = false;
  private readonly memoryDir: string | undefined;
  private readonly clock: Clock;
  private readonly twinsRoot: string;
  private seq = 0;

  constructor(opts: ScriptedHypervisorOptions = {}) {
    this.kind = opts.kind ?? 'vmware';
    this.capabilities = { memoryState: true, linkedTwin: true, runningAfterFreeze: false, gracefulShutdown: true, register: true, ...opts.capabilities };
    this.info =
      opts.available === false
        ? { kind: this.kind, available: false, problem: 'scripted hypervisor switched off' }
        : { kind: this.kind, available: true, toolPath: this.kind === 'vmware' ? '/usr/bin/vmrun' : 'powershell.exe', version: this.kind === 'vmware' ? 'Workstation 17 Pro' : 'powershell 5.1' };
    this.twinsRoot = opts.twinsRoot ?? '/twins';
    this.clock = opts.clock ?? systemClock;
    this.memoryDir = opts.memoryDir;
    for (const vm of opts.vms ?? []) this.vms.set(vm.id, structuredClone(vm));
  }

  /** Adds a VM (running, tools up, 256 MiB, one disk by default). */
  addVm(partial: Partial<ScriptedVm> & { id: string; name: string }): ScriptedVm {
    const vm = fakeVm({ disks: [{ slot: 'scsi0:0', path: `/vms/${partial.name}/disk.vmdk` }], configPath: `/vms/${partial.name}/${partial.name}.vmx`, ...partial });
    this.vms.set(vm.id, vm);
    return vm;
  }

  /** Makes the next call of `op` fail with `code`. */
  failNext(op: HvOp, code: ErrorCode = 'HV_COMMAND_FAILED', message = `injected failure in ${op}`): void {
    this.faults.set(op, { kind: 'fail', error: new AppError(code, message), times: 1 });
  }

  /** True when no production VM is left paused or suspended by a backup, and no twin or frozen state remains. */
  clean(): { ok: boolean; problems: string[] } {
    const problems: string[] = [];
    for (const vm of this.vms.values()) if (vm.state === 'suspended' || vm.state === 'paused') problems.push(`vm ${vm.name} is ${vm.state}`);
    for (const t of this.twins.keys()) problems.push(`twin ${t} left`);
    for (const h of this.frozenHandles.keys()) problems.push(`frozen handle ${h} left`);
    return { ok: problems.length === 0, problems };
  }

  /** The port's `leftovers`: what a backup left for this VM. */
  leftovers(vmId: string, opts?: CallOptions): Promise<string[]> {
    return this.call('leftovers', vmId, opts, () => this.leftoversOf(vmId));
  }

  /** The port's `stepLimits`: `limits` as set by the test. */
  stepLimits(_vm: VmInfo): WorkflowStepLimits {
    return { ...this.limits };
  }

  /** What a backup left for one VM: its frozen handles and twins (conformance `leftovers`). */
  leftoversOf(vmId: string): string[] {
    const out = [...this.frozenHandles].filter(([, id]) => id === vmId).map(([h]) => `frozen ${h}`);
    for (const t of this.twins.values()) if (t.production === vmId) out.push(`twin ${t.twin.name}`);
    return out;
  }

  private async call<T>(op: HvOp, arg: string | undefined, opts: CallOptions | undefined, fn: () => T): Promise<T> {
    this.calls.push({ op, arg });
    this.onCall?.(op);
    await Promise.resolve();
    if (opts?.signal?.aborted) throw new AppError('CANCELLED', `${op} cancelled`);
    const fault = this.faults.get(op);
    if (fault?.kind === 'fail') {
      if (fault.times !== undefined) {
        if (fault.times <= 1) this.faults.delete(op);
        else fault.times--;
      }
      throw fault.error ?? new AppError('HV_COMMAND_FAILED', `scripted failure of ${op}`);
    }
    if (fault?.kind === 'hang' && fault.after) {
      fn();
      await new Promise<never>(() => {});
    }
    if (fault?.kind === 'hang') {
      await new Promise<never>((_, reject) => {
        if (fault.honourSignal && opts?.signal) {
          const s = opts.signal;
          if (s.aborted) reject(s.reason);
          s.addEventListener('abort', () => reject(s.reason), { once: true });
        }
      });
    }
    const work = this.work.get(op);
    if (work) await this.doWork(work, opts);
    return fn();
  }

  /** Waits `work.ms` on the clock (abortable), reporting progress as scripted. */
  private async doWork(work: ScriptedWork, opts: CallOptions | undefined): Promise<void> {
    const step = work.progressEveryMs ?? work.ms;
    const until = work.progressUntilMs ?? work.ms;
    for (let done = 0; done < work.ms;) {
      const d = Math.min(step, work.ms - done);
      await this.clock.sleep(d, opts?.signal);
      done += d;
      if (work.progressEveryMs !== undefined && done <= until) opts?.onProgress?.({ bytesDone: done, bytesTotal: work.ms, detail: 'scripted work' });
    }
  }

  private vm(id: string): ScriptedVm {
    const vm = this.vms.get(id);
    if (!vm) throw new AppError('HV_VM_NOT_FOUND', `vm '${id}' not found`);
    return vm;
  }

  detect(): Promise<HypervisorInfo> {
    this.calls.push({ op: 'detect' });
    return Promise.resolve(this.info);
  }

  listVms(opts?: CallOptions): Promise<VmInfo[]> {
    return this.call('listVms', undefined, opts, () => [...this.vms.values()].map((v) => structuredClone(v)));
  }

  getVm(id: string, opts?: CallOptions): Promise<VmInfo> {
    return this.call('getVm', id, opts, () => structuredClone(this.vm(id)));
  }

  /** Registers a restored folder as a new, powered-off VM with a new id and the chosen name. */
  registerRestored(folder: string, name: string, opts?: CallOptions): Promise<RestoredVm> {
    return this.call('registerRestored', folder, opts, () => {
      const configPath = `${folder}/${name}.${this.kind === 'vmware' ? 'vmx' : 'vmcx'}`;
      const vm = this.addVm({ id: this.kind === 'vmware' ? configPath : `restored-${++this.seq}`, name, state: 'off', toolsRunning: false, configPath });
      return { id: vm.id, name, configPath };
    });
  }

  /** Powers a VM on (a running one stays running; an encrypted or unknown one fails like the real tools). */
  startVm(id: string, opts?: CallOptions): Promise<void> {
    return this.call('startVm', id, opts, () => {
      const vm = this.vm(id);
      vm.state = 'running';
    });
  }

  /** Suspends production (or, with `runningAfterFreeze`, leaves it running like a Hyper-V checkpoint). */
  freeze(vm: VmInfo, opts?: CallOptions): Promise<FrozenState> {
    return this.call('freeze', vm.id, opts, () => {
      const prod = this.vm(vm.id);
      if (prod.state !== 'running') throw new AppError('HV_VM_BAD_STATE', `unable to freeze vm '${prod.name}': it is ${prod.state}, not running`);
      if (prod.encrypted) throw new AppError('HV_ENCRYPTED_VM', `unable to freeze vm '${prod.name}': it is encrypted`);
      if ([...this.frozenHandles.values()].includes(prod.id)) throw new AppError('HV_VM_BAD_STATE', `unable to freeze vm '${prod.name}': a backup snapshot already exists`);
      if (!this.capabilities.runningAfterFreeze) prod.state = 'suspended';
      const handle = `snap-${++this.seq}`;
      this.frozenHandles.set(handle, prod.id);
      const memoryFiles = this.memoryDir ? [join(this.memoryDir, `${handle}.vmem`)] : undefined;
      if (memoryFiles) writeFileSync(memoryFiles[0]!, `memory of ${prod.name} at ${handle}`);
      return {
        vm: structuredClone(prod),
        handle,
        frozenDisks: prod.disks.map((d) => ({ ...d, path: d.path.replace(/(\.\w+)?$/, (ext) => `-${handle}${ext || '.vmdk'}`) })),
        configFiles: [{ name: `${prod.name}.vmx`, path: prod.configPath ?? '' }],
        adapterData: { scripted: 'yes' },
        hypervisorCallMs: 0,
        ...(memoryFiles ? { memoryFiles } : {}),
      };
    });
  }

  buildTwin(frozen: FrozenState, twinName: string, opts?: CallOptions): Promise<TwinVm> {
    return this.call('buildTwin', twinName, opts, () => {
      if (this.frozenHandles.get(frozen.handle) !== frozen.vm.id) throw new AppError('HV_COMMAND_FAILED', `unable to build twin: frozen state '${frozen.handle}' is gone`);
      const folder = `${this.twinsRoot}/${twinName}`;
      const twin: TwinVm = {
        id: `${folder}/${twinName}.vmx`,
        name: twinName,
        folder,
        disks: frozen.frozenDisks.map((d) => ({ slot: d.slot, path: `${folder}/${d.slot.replace(/\W/g, '-')}.vmdk` })),
        adapterData: { production: frozen.vm.id },
        ...(this.hostBytesWritten !== undefined ? { hostBytesWritten: this.hostBytesWritten } : {}),
      };
      this.twins.set(twinName, { twin: structuredClone(twin), running: false, production: frozen.vm.id });
      this.maxTwins = Math.max(this.maxTwins, this.twins.size);
      return twin;
    });
  }

  resume(frozen: FrozenState, opts?: CallOptions): Promise<void> {
    return this.call('resume', frozen.vm.id, opts, () => {
      this.vm(frozen.vm.id).state = 'running';
      for (const f of this.productionWritesMemory ? (frozen.memoryFiles ?? []) : []) appendFileSync(f, ' + written by production after resume');
    });
  }

  private entry(twin: TwinVm): TwinEntry {
    const t = this.twins.get(twin.name);
    if (!t) throw new AppError('HV_VM_NOT_FOUND', `twin '${twin.name}' not found`);
    return t;
  }

  private toolsUp(t: TwinEntry): boolean {
    const prod = this.vms.get(t.production);
    return this.twinBehaviour.toolsRunning && !prod?.twinToolsNeverRun && (prod?.toolsRunning ?? true);
  }

  /** Starts the twin; when twins cannot be shown isolated, powers it off and rejects HV_TWIN_NOT_ISOLATED. */
  startTwin(twin: TwinVm, opts?: CallOptions): Promise<TwinStartReport> {
    return this.call('startTwin', twin.name, opts, () => {
      const t = this.entry(twin);
      t.running = true;
      if (this.twinBehaviour.isolated === false) {
        t.running = false;
        throw new AppError('HV_TWIN_NOT_ISOLATED', `twin '${twin.name}' may be on a network: its adapters could not be checked; it was powered off`);
      }
      if (this.twinBehaviour.reportsUnverified) return { isolation: { verified: false, method: 'scripted', detail: 'link state unknown' } };
      return { isolation: { verified: true, method: 'scripted: no network', detail: 'the double has no network' } };
    });
  }

  twinToolsRunning(twin: TwinVm, opts?: CallOptions): Promise<boolean> {
    return this.call('twinToolsRunning', twin.name, opts, () => {
      const t = this.twins.get(twin.name);
      return Boolean(t?.running && this.toolsUp(t));
    });
  }

  shutdownTwin(twin: TwinVm, opts?: CallOptions): Promise<ShutdownReport> {
    return this.call('shutdownTwin', twin.name, opts, () => {
      const t = this.twins.get(twin.name);
      if (t && !t.running) return { method: 'scripted soft stop (already off)' };
      if (!t || !this.toolsUp(t)) throw new AppError('HV_TOOLS_NOT_RUNNING', `unable to shut down twin '${twin.name}': its tools are not running`);
      if (this.twinBehaviour.ignoresPowerButton || this.vms.get(t.production)?.ignoresPowerButton) {
        throw new AppError('HV_SHUTDOWN_TIMEOUT', `twin '${twin.name}' did not power off in time`);
      }
      t.running = false;
      return { method: 'scripted soft stop' };
    });
  }

  powerOffTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    return this.call('powerOffTwin', twin.name, opts, () => {
      const t = this.twins.get(twin.name);
      if (t) t.running = false;
    });
  }

  deleteTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    return this.call('deleteTwin', twin.name, opts, () => {
      this.twins.delete(twin.name);
    });
  }

  releaseFrozen(frozen: FrozenState, opts?: CallOptions): Promise<void> {
    return this.call('releaseFrozen', frozen.handle, opts, () => {
      for (const t of this.twins.values()) {
        if (t.production === frozen.vm.id && this.frozenHandles.get(frozen.handle) === frozen.vm.id) {
          throw new AppError('HV_VM_BAD_STATE', `unable to release the snapshot of '${frozen.vm.name}': twin '${t.twin.name}' still uses its disks; delete the twin first`);
        }
      }
      this.frozenHandles.delete(frozen.handle);
    });
  }

  /**
   * Like a real adapter: resumes production, deletes the twins built from it (given, found by the
   * journaled `twinName`, or by the marker real adapters leave), and releases the given frozen
   * handle — or, when none was journaled, every frozen state of this vm the tool made.
   */
  recover(record: { vmId: string; handle?: string; twin?: TwinVm; twinName?: string }, opts?: CallOptions): Promise<void> {
    return this.call('recover', record.vmId, opts, () => {
      const vm = this.vms.get(record.vmId);
      if (vm && (vm.state === 'suspended' || vm.state === 'paused')) vm.state = 'running';
      if (record.twin) this.twins.delete(record.twin.name);
      if (record.twinName) this.twins.delete(record.twinName);
      for (const [name, t] of [...this.twins]) if (t.production === record.vmId) this.twins.delete(name);
      if (record.handle) this.frozenHandles.delete(record.handle);
      for (const [h, id] of [...this.frozenHandles]) if (id === record.vmId) this.frozenHandles.delete(h);
    });
  }
}

/** A running VM with sensible defaults, for tests. */
export function fakeVm(over: Partial<ScriptedVm> & { id: string }): ScriptedVm {
  return {
    name: over.id,
    state: 'running',
    memoryMiB: 256,
    cpus: 1,
    disks: [{ slot: 'scsi0:0', path: `/fake/${over.id}/disk.vmdk` }],
    toolsRunning: true,
    encrypted: false,
    nics: ['ethernet0'],
    ...over,
  };
}

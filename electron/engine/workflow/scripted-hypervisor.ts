import type { HypervisorInfo } from '../../../shared/domain/guest.js';
import { AppError } from '../../../shared/errors/app-error.js';
import type { CallOptions, FrozenState, Hypervisor, HypervisorCapabilities, TwinVm, VmInfo } from '../hypervisor/hypervisor.js';

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
  | 'recover';

/** How a scripted call misbehaves. */
export type HvFault =
  | { kind: 'fail'; error?: Error; times?: number }
  /**
   * Never settles; `honourSignal` makes it reject on abort like a well-behaved adapter; `after`
   * hangs once the effect has happened (a crash between the effect and its journal record).
   */
  | { kind: 'hang'; honourSignal?: boolean; after?: boolean };

/** The behaviour of a twin's guest. */
export interface TwinBehaviour {
  toolsRunning: boolean;
  /** The guest ignores the power button: soft stop times out. */
  ignoresPowerButton: boolean;
}

/**
 * A test double of the Hypervisor port that keeps the state a real host would have (production
 * running / suspended, twins, frozen handles) so tests can assert that nothing is left behind,
 * and lets a test script failures, hangs and guest behaviour per operation.
 */
export class ScriptedHypervisor implements Hypervisor {
  readonly kind = 'vmware' as const;
  capabilities: HypervisorCapabilities = { memoryState: true, linkedTwin: true, runningAfterFreeze: false, gracefulShutdown: true, register: true };
  info: HypervisorInfo = { kind: 'vmware', available: true, toolPath: '/usr/bin/vmrun', version: 'Workstation 17 Pro' };
  readonly vms = new Map<string, VmInfo>();
  readonly twins = new Map<string, { twin: TwinVm; running: boolean }>();
  /** Frozen handle → production vm id. */
  readonly frozenHandles = new Map<string, string>();
  readonly calls: { op: HvOp; arg?: string }[] = [];
  readonly faults = new Map<HvOp, HvFault>();
  twinBehaviour: TwinBehaviour = { toolsRunning: true, ignoresPowerButton: false };
  /** Most twins that existed at once. */
  maxTwins = 0;
  /** Called when an op starts (after it is logged): lets tests act at an exact moment. */
  onCall?: (op: HvOp) => void;
  private seq = 0;

  /** Adds a VM (running, tools up, 256 MiB, one disk by default). */
  addVm(partial: Partial<VmInfo> & { id: string; name: string }): VmInfo {
    const vm: VmInfo = {
      state: 'running',
      memoryMiB: 256,
      disks: [{ slot: 'scsi0:0', path: `/vms/${partial.name}/disk.vmdk` }],
      configPath: `/vms/${partial.name}/${partial.name}.vmx`,
      toolsRunning: true,
      encrypted: false,
      nics: ['ethernet0'],
      ...partial,
    };
    this.vms.set(vm.id, vm);
    return vm;
  }

  /** True when no production VM is left paused or suspended by a backup, and no twin or frozen state remains. */
  clean(): { ok: boolean; problems: string[] } {
    const problems: string[] = [];
    for (const vm of this.vms.values()) if (vm.state === 'suspended' || vm.state === 'paused') problems.push(`vm ${vm.name} is ${vm.state}`);
    for (const t of this.twins.keys()) problems.push(`twin ${t} left`);
    for (const h of this.frozenHandles.keys()) problems.push(`frozen handle ${h} left`);
    return { ok: problems.length === 0, problems };
  }

  private async call<T>(op: HvOp, arg: string | undefined, opts: CallOptions | undefined, fn: () => T): Promise<T> {
    this.calls.push({ op, arg });
    this.onCall?.(op);
    await Promise.resolve();
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
    return fn();
  }

  detect(): Promise<HypervisorInfo> {
    this.calls.push({ op: 'detect' });
    return Promise.resolve(this.info);
  }

  listVms(opts?: CallOptions): Promise<VmInfo[]> {
    return this.call('listVms', undefined, opts, () => [...this.vms.values()].map((v) => structuredClone(v)));
  }

  getVm(id: string, opts?: CallOptions): Promise<VmInfo> {
    return this.call('getVm', id, opts, () => {
      const vm = this.vms.get(id);
      if (!vm) throw new AppError('HV_VM_NOT_FOUND', `vm '${id}' not found`);
      return structuredClone(vm);
    });
  }

  freeze(vm: VmInfo, opts?: CallOptions): Promise<FrozenState> {
    return this.call('freeze', vm.id, opts, () => {
      const prod = this.vms.get(vm.id)!;
      prod.state = 'suspended';
      const handle = `snap-${++this.seq}`;
      this.frozenHandles.set(handle, vm.id);
      return {
        vm: structuredClone(prod),
        handle,
        frozenDisks: prod.disks.map((d) => ({ ...d, path: d.path.replace(/\.vmdk$/, `-${handle}.vmdk`) })),
        configFiles: [{ name: `${prod.name}.vmx`, path: prod.configPath ?? '' }],
      };
    });
  }

  buildTwin(frozen: FrozenState, twinName: string, opts?: CallOptions): Promise<TwinVm> {
    return this.call('buildTwin', twinName, opts, () => {
      const twin: TwinVm = {
        id: `/twins/${twinName}/${twinName}.vmx`,
        name: twinName,
        folder: `/twins/${twinName}`,
        disks: frozen.frozenDisks.map((d) => ({ slot: d.slot, path: `/twins/${twinName}/${d.slot.replace(':', '-')}.vmdk` })),
      };
      this.twins.set(twinName, { twin, running: false });
      this.maxTwins = Math.max(this.maxTwins, this.twins.size);
      return twin;
    });
  }

  resume(frozen: FrozenState, opts?: CallOptions): Promise<void> {
    return this.call('resume', frozen.vm.id, opts, () => {
      this.vms.get(frozen.vm.id)!.state = 'running';
    });
  }

  startTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    return this.call('startTwin', twin.name, opts, () => {
      const t = this.twins.get(twin.name);
      if (!t) throw new AppError('HV_VM_NOT_FOUND', `twin '${twin.name}' not found`);
      t.running = true;
    });
  }

  twinToolsRunning(twin: TwinVm, opts?: CallOptions): Promise<boolean> {
    return this.call('twinToolsRunning', twin.name, opts, () => Boolean(this.twins.get(twin.name)?.running && this.twinBehaviour.toolsRunning));
  }

  shutdownTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    return this.call('shutdownTwin', twin.name, opts, () => {
      if (!this.twinBehaviour.toolsRunning) throw new AppError('HV_TOOLS_NOT_RUNNING', 'tools not running in the twin');
      if (this.twinBehaviour.ignoresPowerButton) throw new AppError('HV_SHUTDOWN_TIMEOUT', `twin '${twin.name}' did not power off in time`);
      const t = this.twins.get(twin.name);
      if (t) t.running = false;
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
      this.frozenHandles.delete(frozen.handle);
    });
  }

  /**
   * Like a real adapter: resumes production, deletes the twin (given, or found by the journaled
   * `twinName`), and releases the given frozen handle — or, when none was journaled, every frozen
   * state of this vm the tool made (adapters find their own by naming convention).
   */
  recover(record: { vmId: string; handle?: string; twin?: TwinVm; twinName?: string }, opts?: CallOptions): Promise<void> {
    return this.call('recover', record.vmId, opts, () => {
      const vm = this.vms.get(record.vmId);
      if (vm && (vm.state === 'suspended' || vm.state === 'paused')) vm.state = 'running';
      if (record.twin) this.twins.delete(record.twin.name);
      if (record.twinName) this.twins.delete(record.twinName);
      if (record.handle) this.frozenHandles.delete(record.handle);
      else for (const [h, id] of [...this.frozenHandles]) if (id === record.vmId) this.frozenHandles.delete(h);
    });
  }
}

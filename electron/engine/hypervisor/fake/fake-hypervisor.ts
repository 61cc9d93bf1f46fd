import { AppError } from '../../../../shared/errors/app-error.js';
import type { ErrorCode } from '../../../../shared/errors/error-codes.js';
import type { HypervisorInfo, HypervisorKind } from '../../../../shared/domain/guest.js';
import type { CallOptions, FrozenState, Hypervisor, HypervisorCapabilities, TwinVm, VmInfo } from '../hypervisor.js';

/** The port's operations, by name (for fault injection and call logs). */
export type FakeOp =
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

/** A VM of the fake, with behaviour switches. */
export interface FakeVm extends VmInfo {
  /** The twin never powers off on a graceful request (→ HV_SHUTDOWN_TIMEOUT). */
  ignoresPowerButton?: boolean;
  /** The twin's tools / integration services never come up. */
  twinToolsNeverRun?: boolean;
}

/** Options of FakeHypervisor. */
export interface FakeHypervisorOptions {
  kind?: HypervisorKind;
  vms?: FakeVm[];
  available?: boolean;
  capabilities?: Partial<HypervisorCapabilities>;
  /** Folder reported for twins (nothing is written there). */
  twinsRoot?: string;
}

/**
 * An in-memory Hypervisor for fast workflow tests: keeps VM states, snapshots and twins in maps,
 * records every call, and fails on demand (`failNext`). Enforces the same rules the real adapters
 * do (no twin without a freeze, production must be resumed, release only after deleting twins).
 */
export class FakeHypervisor implements Hypervisor {
  readonly kind: HypervisorKind;
  readonly capabilities: HypervisorCapabilities;
  /** Every call in order: `[op, id]`. */
  readonly calls: [FakeOp, string][] = [];
  readonly vms = new Map<string, FakeVm>();
  /** Frozen handles still holding a snapshot/checkpoint, by VM id. */
  readonly snapshots = new Map<string, string>();
  readonly twins = new Map<string, TwinVm & { state: 'off' | 'running' }>();
  private readonly available: boolean;
  private readonly twinsRoot: string;
  private readonly faults = new Map<FakeOp, { code: ErrorCode; message: string }>();
  private seq = 0;

  constructor(opts: FakeHypervisorOptions = {}) {
    this.kind = opts.kind ?? 'vmware';
    this.capabilities = { memoryState: true, linkedTwin: true, runningAfterFreeze: false, gracefulShutdown: true, register: false, ...opts.capabilities };
    this.available = opts.available ?? true;
    this.twinsRoot = opts.twinsRoot ?? '/fake/twins';
    for (const vm of opts.vms ?? []) this.vms.set(vm.id, structuredClone(vm));
  }

  /** Makes the next call of `op` fail with `code`. */
  failNext(op: FakeOp, code: ErrorCode = 'HV_COMMAND_FAILED', message = `injected failure in ${op}`): void {
    this.faults.set(op, { code, message });
  }

  private enter(op: FakeOp, id: string, opts?: CallOptions): void {
    this.calls.push([op, id]);
    if (opts?.signal?.aborted) throw new AppError('CANCELLED', `${op} cancelled`);
    const f = this.faults.get(op);
    if (f) {
      this.faults.delete(op);
      throw new AppError(f.code, f.message);
    }
  }

  private vm(id: string): FakeVm {
    const vm = this.vms.get(id);
    if (!vm) throw new AppError('HV_VM_NOT_FOUND', `unable to find vm '${id}'`);
    return vm;
  }

  async detect(): Promise<HypervisorInfo> {
    return this.available ? { kind: this.kind, available: true, toolPath: 'fake', version: '1.0' } : { kind: this.kind, available: false, problem: 'fake hypervisor switched off' };
  }

  async listVms(opts?: CallOptions): Promise<VmInfo[]> {
    this.enter('listVms', '*', opts);
    return [...this.vms.values()].map((v) => structuredClone(v));
  }

  async getVm(id: string, opts?: CallOptions): Promise<VmInfo> {
    this.enter('getVm', id, opts);
    return structuredClone(this.vm(id));
  }

  async freeze(vm: VmInfo, opts?: CallOptions): Promise<FrozenState> {
    this.enter('freeze', vm.id, opts);
    const v = this.vm(vm.id);
    if (v.state !== 'running') throw new AppError('HV_VM_BAD_STATE', `unable to freeze vm '${v.name}': it is ${v.state}, not running`);
    if (v.encrypted) throw new AppError('HV_ENCRYPTED_VM', `unable to freeze vm '${v.name}': it is encrypted`);
    if (this.snapshots.has(v.id)) throw new AppError('HV_VM_BAD_STATE', `unable to freeze vm '${v.name}': a backup snapshot already exists`);
    const handle = `fake-snap-${++this.seq}`;
    v.state = 'suspended';
    this.snapshots.set(v.id, handle);
    return {
      vm: structuredClone(v),
      handle,
      frozenDisks: v.disks.map((d) => ({ ...d })),
      configFiles: [],
      adapterData: { fake: 'yes' },
      hypervisorCallMs: 0,
    };
  }

  async resume(frozen: FrozenState, opts?: CallOptions): Promise<void> {
    this.enter('resume', frozen.vm.id, opts);
    this.vm(frozen.vm.id).state = 'running';
  }

  async buildTwin(frozen: FrozenState, twinName: string, opts?: CallOptions): Promise<TwinVm> {
    this.enter('buildTwin', frozen.vm.id, opts);
    if (this.snapshots.get(frozen.vm.id) !== frozen.handle) throw new AppError('HV_COMMAND_FAILED', `unable to build twin: snapshot '${frozen.handle}' is gone`);
    const id = `twin-${frozen.handle}`;
    const folder = `${this.twinsRoot}/${id}`;
    const twin: TwinVm = { id, name: twinName, folder, disks: frozen.frozenDisks.map((d) => ({ slot: d.slot, path: `${folder}/${d.slot.replace(/\W/g, '-')}.child` })), adapterData: { production: frozen.vm.id } };
    this.twins.set(id, { ...structuredClone(twin), state: 'off' });
    return twin;
  }

  private twin(id: string) {
    const t = this.twins.get(id);
    if (!t) throw new AppError('HV_VM_NOT_FOUND', `unable to find twin '${id}'`);
    return t;
  }

  private productionOf(twin: TwinVm): FakeVm | undefined {
    return this.vms.get(this.twins.get(twin.id)?.adapterData?.production ?? '');
  }

  async startTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    this.enter('startTwin', twin.id, opts);
    this.twin(twin.id).state = 'running';
  }

  async twinToolsRunning(twin: TwinVm, opts?: CallOptions): Promise<boolean> {
    this.enter('twinToolsRunning', twin.id, opts);
    return this.twin(twin.id).state === 'running' && !this.productionOf(twin)?.twinToolsNeverRun && (this.productionOf(twin)?.toolsRunning ?? false);
  }

  async shutdownTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    this.enter('shutdownTwin', twin.id, opts);
    const t = this.twin(twin.id);
    if (t.state !== 'running') return;
    const prod = this.productionOf(twin);
    if (prod?.twinToolsNeverRun || !prod?.toolsRunning) throw new AppError('HV_TOOLS_NOT_RUNNING', `unable to shut down twin '${twin.name}': its tools are not running`);
    if (prod.ignoresPowerButton) throw new AppError('HV_SHUTDOWN_TIMEOUT', `twin '${twin.name}' did not shut down in time`);
    t.state = 'off';
  }

  async powerOffTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    this.enter('powerOffTwin', twin.id, opts);
    const t = this.twins.get(twin.id);
    if (t) t.state = 'off';
  }

  async deleteTwin(twin: TwinVm, opts?: CallOptions): Promise<void> {
    this.enter('deleteTwin', twin.id, opts);
    this.twins.delete(twin.id);
  }

  async releaseFrozen(frozen: FrozenState, opts?: CallOptions): Promise<void> {
    this.enter('releaseFrozen', frozen.vm.id, opts);
    for (const t of this.twins.values()) {
      if (t.adapterData?.production === frozen.vm.id) throw new AppError('HV_VM_BAD_STATE', `unable to release the snapshot of '${frozen.vm.name}': twin '${t.name}' still uses its disks; delete the twin first`);
    }
    if (this.snapshots.get(frozen.vm.id) === frozen.handle) this.snapshots.delete(frozen.vm.id);
  }

  async recover(record: { vmId: string; handle?: string; twin?: TwinVm }, opts?: CallOptions): Promise<void> {
    this.enter('recover', record.vmId, opts);
    for (const [id, t] of this.twins) if (t.adapterData?.production === record.vmId) this.twins.delete(id);
    const vm = this.vms.get(record.vmId);
    if (vm && (vm.state === 'suspended' || vm.state === 'paused')) vm.state = 'running';
    // like the real adapters, recovery also finds a snapshot whose handle was never journaled
    this.snapshots.delete(record.vmId);
  }
}

/** A running VM with sensible defaults, for tests. */
export function fakeVm(over: Partial<FakeVm> & { id: string }): FakeVm {
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

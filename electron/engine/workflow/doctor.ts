import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { DoctorCheck, DoctorReport } from '../../../shared/domain/doctor.js';
import type { HypervisorKind } from '../../../shared/domain/guest.js';
import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import { iso, type Clock } from '../core/clock.js';
import type { FrozenState, Hypervisor, TwinVm, VmInfo, WorkflowStepLimits } from '../hypervisor/hypervisor.js';
import type { BackupStepId } from './backup-steps.js';
import { guarded } from './step-guard.js';
import { stepLimit } from './step-limits.js';

/** What a doctor run needs. */
export interface DoctorOptions {
  clock: Clock;
  /** The adapters to look in (`kind` picks one; else the one that has a VM of that name). */
  hypervisors: Hypervisor[];
  kind?: HypervisorKind;
  /** The VM's name or adapter id; a name that several VMs carry is refused. */
  vm: string;
  /** How long production runs before the memory image is hashed again (default 5 s). */
  stableWaitMs?: number;
  /** Poll interval for states and tools (default 500 ms). */
  pollMs?: number;
  /** Per-step limits configured by the user (as for backups). */
  timeouts?: Partial<Record<BackupStepId, number>>;
  /** Called as each check is decided (the CLI prints them as they come). */
  onCheck?: (c: DoctorCheck) => void;
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Picks the adapter and the one VM `opts.vm` names; refuses unknown and ambiguous names. */
export async function resolveDoctorVm(opts: Pick<DoctorOptions, 'hypervisors' | 'kind' | 'vm'>): Promise<{ hv: Hypervisor; vm: VmInfo; others: VmInfo[] }> {
  const pool = opts.kind ? opts.hypervisors.filter((h) => h.kind === opts.kind) : opts.hypervisors;
  if (!pool.length) throw new AppError('HV_NOT_INSTALLED', `no ${opts.kind ?? ''} hypervisor adapter is configured`.replace('  ', ' '));
  const found: { hv: Hypervisor; vm: VmInfo; all: VmInfo[] }[] = [];
  const problems: string[] = [];
  for (const hv of pool) {
    const info = await hv.detect();
    if (!info.available) {
      problems.push(`${hv.kind}: ${info.problem ?? 'not available'}`);
      continue;
    }
    const all = await hv.listVms({ timeoutMs: 120_000 });
    const byId = all.filter((v) => v.id === opts.vm);
    const matches = byId.length ? byId : all.filter((v) => v.name === opts.vm);
    for (const vm of matches) found.push({ hv, vm, all });
  }
  if (!found.length) {
    throw new AppError('HV_VM_NOT_FOUND', `no vm named '${opts.vm}' was found${problems.length ? ` (${problems.join('; ')})` : ''}; see \`twinsnap guests\``);
  }
  if (found.length > 1) {
    const ids = found.map((f) => `${f.hv.kind}:${f.vm.id}`).join(', ');
    throw new AppError('INVALID_REQUEST', `${found.length} vms are named '${opts.vm}' (${ids}); doctor touches only one vm: name it by its id${opts.kind ? '' : ' or pick --hypervisor'}`);
  }
  const { hv, vm, all } = found[0]!;
  return { hv, vm, others: all.filter((v) => v.id !== vm.id) };
}

/**
 * `twinsnap doctor`: runs each step of the twin workflow against one throwaway VM as an
 * experiment with its own check (see workflow/README.md, "Doctor"), cleans up, and reports
 * which assumption held on this host. Never throws for a failed check; production is running
 * again on every path.
 */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const { clock } = opts;
  const startedAt = iso(clock.now());
  const checks: DoctorCheck[] = [];
  const durations: Record<string, number> = {};
  const check = (name: string, ok: boolean, detail: string, skipped = false) => {
    const c: DoctorCheck = { name, ok, detail, ...(skipped ? { skipped: true } : {}) };
    checks.push(c);
    opts.onCheck?.(c);
    return ok;
  };
  const report = (hv: HypervisorKind, extra: Partial<DoctorReport> = {}): DoctorReport => ({
    ok: checks.every((c) => c.ok),
    hypervisor: hv,
    vm: opts.vm,
    startedAt,
    finishedAt: iso(clock.now()),
    checks,
    durations,
    ...extra,
  });
  let resolved: Awaited<ReturnType<typeof resolveDoctorVm>>;
  try {
    resolved = await resolveDoctorVm(opts);
  } catch (e) {
    check('vm-found', false, (e as Error).message);
    return report(opts.kind ?? opts.hypervisors[0]?.kind ?? 'vmware');
  }
  const { hv, others } = resolved;
  const info = await hv.detect();
  const tool = { path: info.toolPath, version: info.version };
  check('tool', info.available, info.available ? `${info.toolPath ?? '?'}${info.version ? ` — ${info.version}` : ''}` : (info.problem ?? 'not available'));
  const vm = await hv.getVm(resolved.vm.id, { timeoutMs: 120_000 });
  check('vm-found', true, `'${vm.name}' (${vm.id}), ${vm.memoryMiB} MiB, ${vm.disks.length} disk(s); ${others.length} other vm(s) on this host left alone`);
  const done = (extra: Partial<DoctorReport> = {}) => report(hv.kind, { vmId: vm.id, tool, ...extra });
  if (
    !check(
      'vm-ready',
      vm.state === 'running' && vm.toolsRunning,
      `state ${vm.state}, guest tools ${vm.toolsRunning ? 'running' : 'not running'}${vm.state === 'running' && vm.toolsRunning ? '' : ': start the vm and wait for its tools, then run doctor again'}`,
    )
  )
    return done();
  const before = hv.leftovers ? await hv.leftovers(vm.id, { timeoutMs: 120_000 }) : [];
  if (
    !check(
      'clean-before',
      before.length === 0,
      before.length
        ? `TwinSnap leftovers of an earlier run: ${before.join('; ')} — run \`twinsnap jobs\` / start the engine once so recovery removes them`
        : 'no TwinSnap snapshot, twin or staging folder for this vm',
    )
  )
    return done();
  const run = new DoctorRun(opts, hv, vm, check, durations);
  await run.experiment();
  await run.finalChecks(others);
  return done();
}

type CheckFn = (name: string, ok: boolean, detail: string, skipped?: boolean) => boolean;

/** One doctor experiment on one VM (state shared between its steps). */
class DoctorRun {
  private frozen: FrozenState | undefined;
  private twin: TwinVm | undefined;
  private readonly limits: WorkflowStepLimits;
  private readonly pollMs: number;

  constructor(
    private readonly opts: DoctorOptions,
    private readonly hv: Hypervisor,
    private readonly vm: VmInfo,
    private readonly check: CheckFn,
    private readonly durations: Record<string, number>,
  ) {
    this.limits = hv.stepLimits?.(vm) ?? {};
    this.pollMs = opts.pollMs ?? 500;
  }

  private limit(id: BackupStepId): number {
    return stepLimit(id, this.opts.timeouts, this.limits);
  }

  /** Runs `fn` as step `id` within its limit, timing it. */
  private async timed<T>(id: BackupStepId, fn: (signal: AbortSignal, alive: () => void) => Promise<T>): Promise<T> {
    const t0 = this.opts.clock.monotonic();
    try {
      return await guarded(this.opts.clock, `doctor step '${id}'`, { timeoutMs: this.limit(id), idleMs: this.limit(id), ceilingMs: this.limit(id) * 10 }, fn);
    } finally {
      this.durations[id] = Math.round(this.opts.clock.monotonic() - t0);
    }
  }

  async experiment(): Promise<void> {
    try {
      await this.freezeAndResume();
      if (this.twin) await this.twinLife(this.twin);
    } finally {
      await this.cleanup();
    }
  }

  private async freezeAndResume(): Promise<void> {
    const { hv, vm, check } = this;
    const t0 = this.opts.clock.monotonic();
    let frozen: FrozenState;
    try {
      frozen = await this.timed('freeze', (signal) => hv.freeze(vm, { timeoutMs: this.limit('freeze'), signal }));
    } catch (e) {
      check('freeze', false, `freeze failed: ${(e as Error).message}`);
      await this.recover();
      return;
    }
    this.frozen = frozen;
    const freezeMs = this.durations.freeze ?? 0;
    check(
      'freeze',
      true,
      `handle ${frozen.handle}, ${frozen.frozenDisks.length} frozen disk(s); freeze call ${freezeMs} ms${frozen.hypervisorCallMs !== undefined ? ` (hypervisor's own ${Math.round(frozen.hypervisorCallMs)} ms)` : ''}`,
    );
    // Hashing is the doctor's own work: it is left out of the pause figure below.
    const hashStart = this.opts.clock.monotonic();
    const firstHashes = await this.hashMemory(frozen.memoryFiles);
    const hashMs = this.opts.clock.monotonic() - hashStart;
    const build = async () => {
      try {
        this.twin = await this.timed('copy-config', (signal, alive) =>
          hv.buildTwin(frozen, `${vm.name}-twin-doctor`, { timeoutMs: this.limit('copy-config') * 10, signal, onProgress: () => alive() }),
        );
        const t = this.twin;
        check(
          'twin-built',
          true,
          `twin '${t.name}' in ${t.folder}, ${t.disks.length} disk(s) in ${this.durations['copy-config']} ms${t.hostBytesWritten !== undefined ? `; ${t.hostBytesWritten} bytes written on the host` : ''}`,
        );
      } catch (e) {
        check('twin-built', false, `building the twin failed: ${(e as Error).message}`);
      }
    };
    if (!hv.capabilities.runningAfterFreeze) await build();
    let resumed = true;
    try {
      await this.timed('resume', (signal) => hv.resume(frozen, { timeoutMs: this.limit('resume'), signal }));
    } catch (e) {
      resumed = false;
      check('production-running', false, `resume failed: ${(e as Error).message}; recovering production`);
      await this.recover();
    }
    if (resumed) {
      const pause = this.opts.clock.monotonic() - t0 - hashMs;
      this.durations.pause = Math.round(pause);
      const state = await this.waitState('running', 60_000);
      check(
        'production-running',
        state === 'running',
        `${state === 'running' ? 'running again' : `still ${state} 60 s after resume`}; production paused ${Math.round(pause)} ms (freeze ${freezeMs} ms${hv.capabilities.runningAfterFreeze ? '' : ` + copy-config ${this.durations['copy-config'] ?? '-'} ms`} + resume ${this.durations.resume} ms)`,
      );
      if (state !== 'running') await this.recover();
    }
    if (hv.capabilities.runningAfterFreeze) await build();
    await this.memoryStable(firstHashes);
  }

  /** Hashes each memory file; undefined when the adapter names none. */
  private async hashMemory(files: string[] | undefined): Promise<Map<string, string> | undefined> {
    if (!files?.length) return undefined;
    const out = new Map<string, string>();
    for (const f of files) out.set(f, existsSync(f) ? await sha256File(f) : 'missing');
    return out;
  }

  private async memoryStable(first: Map<string, string> | undefined): Promise<void> {
    if (!first) {
      this.check('memory-image-stable', true, `skipped: the ${this.hv.kind} adapter names no captured memory files (FrozenState.memoryFiles)`, true);
      return;
    }
    const wait = this.opts.stableWaitMs ?? 5_000;
    await this.opts.clock.sleep(wait);
    // The twin may have taken the files over (moved into its folder, perhaps renamed, e.g.
    // state.vmss → twin.vmss): match them by file name, else by extension.
    const now = [...first.keys()].map((f) => {
      const twinFiles = this.twin?.memoryFiles ?? [];
      const moved = twinFiles.find((t) => basename(t) === basename(f)) ?? twinFiles.find((t) => extname(t).toLowerCase() === extname(f).toLowerCase());
      return existsSync(f) ? f : (moved ?? f);
    });
    const second = await this.hashMemory(now);
    const changed = [...first].filter(([f], i) => second?.get(now[i]!) !== first.get(f) || first.get(f) === 'missing');
    this.check(
      'memory-image-stable',
      changed.length === 0,
      changed.length
        ? `changed (or missing) ${wait / 1000} s after production resumed: ${changed.map(([f]) => basename(f)).join(', ')} — production writes the memory image the twin resumes from`
        : `${first.size} file(s) unchanged ${wait / 1000} s after production resumed (sha256 ${[...first.values()].map((h) => h.slice(0, 12)).join(', ')})`,
    );
  }

  private async twinLife(twin: TwinVm): Promise<void> {
    const { hv, check } = this;
    let started = false;
    try {
      const rep = await this.timed('boot-twin', async (signal) => {
        const r = await hv.startTwin(twin, { timeoutMs: this.limit('boot-twin'), signal });
        started = true;
        return r;
      });
      const iso = rep?.isolation;
      if (!iso) check('twin-isolated', false, `the ${hv.kind} adapter did not report how the twin is isolated (no TwinStartReport): isolation unproven`);
      else check('twin-isolated', iso.verified, `${iso.verified ? 'verified' : 'NOT verified'}: ${iso.method}${iso.detail ? ` — ${iso.detail}` : ''}`);
      if (iso && !iso.verified) {
        await hv.powerOffTwin(twin, { timeoutMs: 60_000 }).catch(() => {});
        return;
      }
    } catch (e) {
      const notIsolated = isAppError(e, 'HV_TWIN_NOT_ISOLATED');
      check(
        notIsolated ? 'twin-isolated' : 'twin-boots',
        false,
        `${notIsolated ? 'the adapter could not verify isolation and powered the twin off' : 'starting the twin failed'}: ${(e as Error).message}`,
      );
      if (!started) return;
    }
    const t0 = this.opts.clock.monotonic();
    const up = await this.waitTools(twin, this.limit('boot-twin'));
    this.durations['boot-twin'] = (this.durations['boot-twin'] ?? 0) + Math.round(this.opts.clock.monotonic() - t0);
    check(
      'twin-boots',
      up,
      up ? `the twin resumed and its guest tools answered after ${this.durations['boot-twin']} ms` : `the twin's guest tools never answered within ${this.limit('boot-twin') / 1000} s`,
    );
    if (!up) return;
    try {
      const r = await this.timed('shutdown-twin', (signal) => hv.shutdownTwin(twin, { timeoutMs: this.limit('shutdown-twin'), signal }));
      check('graceful-shutdown', true, `the twin shut down cleanly in ${this.durations['shutdown-twin']} ms; method: ${r?.method ?? 'not reported by the adapter'}`);
    } catch (e) {
      check('graceful-shutdown', false, `clean shutdown failed: ${(e as Error).message}`);
    }
  }

  private async cleanup(): Promise<void> {
    const { hv } = this;
    const t0 = this.opts.clock.monotonic();
    const errors: string[] = [];
    if (this.twin) {
      const twin = this.twin;
      await hv.powerOffTwin(twin, { timeoutMs: 60_000 }).catch(() => {});
      await hv.deleteTwin(twin, { timeoutMs: this.limit('cleanup') }).catch((e: Error) => errors.push(`delete twin: ${e.message}`));
    }
    if (this.frozen) {
      const frozen = this.frozen;
      await guarded(this.opts.clock, 'doctor clean-up', { timeoutMs: this.limit('cleanup'), idleMs: this.limit('cleanup'), ceilingMs: this.limit('cleanup') * 10 }, (signal, alive) =>
        this.twin
          ? hv.releaseFrozen(frozen, { timeoutMs: this.limit('cleanup') * 10, signal, onProgress: () => alive() })
          : hv.recover({ vmId: this.vm.id, handle: frozen.handle }, { timeoutMs: this.limit('cleanup'), signal }),
      ).catch((e: Error) => errors.push(`release the frozen state: ${e.message}`));
    }
    this.durations.cleanup = Math.round(this.opts.clock.monotonic() - t0);
    if (this.frozen)
      this.check(
        'cleanup',
        errors.length === 0,
        errors.length ? errors.join('; ') : `twin deleted and ${hv.kind === 'hyperv' ? 'checkpoint merged' : 'snapshot deleted'} in ${this.durations.cleanup} ms`,
      );
  }

  /** After the experiment: production runs, nothing is left, no other VM changed. */
  async finalChecks(othersBefore: VmInfo[]): Promise<void> {
    const { hv, vm, check } = this;
    const state = await this.waitState('running', 60_000);
    if (state !== 'running') await this.recover();
    check('production-running-after', state === 'running', state === 'running' ? 'production is running after the clean-up' : `production was ${state} after the clean-up; recovery was run`);
    if (hv.leftovers) {
      const left = await hv.leftovers(vm.id, { timeoutMs: 120_000 }).catch((e: Error) => [`leftovers() failed: ${e.message}`]);
      check('nothing-left', left.length === 0, left.length ? `left behind: ${left.join('; ')}` : 'no TwinSnap snapshot/checkpoint, twin or staging folder remains');
    } else check('nothing-left', true, `skipped: the ${hv.kind} adapter cannot list leftovers`, true);
    const after = await hv.listVms({ timeoutMs: 120_000 });
    const changed: string[] = [];
    for (const o of othersBefore) {
      const now = after.find((v) => v.id === o.id);
      if (!now) changed.push(`'${o.name}' disappeared`);
      else if (now.state !== o.state) changed.push(`'${o.name}' went ${o.state} → ${now.state}`);
    }
    for (const v of after) if (v.id !== vm.id && !othersBefore.some((o) => o.id === v.id)) changed.push(`'${v.name}' appeared`);
    check(
      'only-this-vm',
      changed.length === 0,
      changed.length ? `other vms changed: ${changed.join('; ')}` : `${othersBefore.length} other vm(s) unchanged; only '${vm.name}' and its twin were touched`,
    );
  }

  private async recover(): Promise<void> {
    await this.hv.recover({ vmId: this.vm.id, handle: this.frozen?.handle, twin: this.twin }, { timeoutMs: this.limit('cleanup') }).catch(() => {});
  }

  private async waitState(want: string, ms: number): Promise<string> {
    const until = this.opts.clock.monotonic() + ms;
    for (;;) {
      const s = await this.hv.getVm(this.vm.id, { timeoutMs: 60_000 }).then(
        (v) => v.state as string,
        (e: Error) => `unknown (${e.message})`,
      );
      if (s === want || this.opts.clock.monotonic() >= until) return s;
      await this.opts.clock.sleep(this.pollMs);
    }
  }

  private async waitTools(twin: TwinVm, ms: number): Promise<boolean> {
    const until = this.opts.clock.monotonic() + ms;
    for (;;) {
      if (await this.hv.twinToolsRunning(twin, { timeoutMs: 30_000 }).catch(() => false)) return true;
      if (this.opts.clock.monotonic() + this.pollMs > until) return false;
      await this.opts.clock.sleep(this.pollMs);
    }
  }
}

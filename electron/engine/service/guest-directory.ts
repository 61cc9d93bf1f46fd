import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { Guest, GuestCandidate, HypervisorKind } from '../../../shared/domain/guest.js';
import { hypervGuestId, isGuestId, nameGuestId, parseGuestId, vmwareGuestId, vmwarePathGuestId, type GuestId } from '../../../shared/domain/guest-id.js';
import { AppError } from '../../../shared/errors/app-error.js';
import type { GuestRecord } from '../catalog/catalog.js';
import type { Hypervisor, VmInfo } from '../hypervisor/hypervisor.js';
import type { EngineBase } from './engine-context.js';
import type { RepositoryAccess } from './repository-access.js';

/** A VM seen now: its contract view, its adapter and the adapter's own description. */
export interface LiveGuest {
  guest: Guest;
  hypervisor: Hypervisor;
  vm: VmInfo;
}

/** What a guest reference resolved to: a VM seen now (`live`) or one the catalog knows. */
export interface ResolvedGuest extends GuestCandidate {
  present: boolean;
  live?: LiveGuest;
  /** `name:` ids whose records were adopted into this guest (their old manifests are its history too). */
  aliases: GuestId[];
}

/** The folder of a VM's configuration (the disambiguator of same-named guests). */
function folderOf(vm: VmInfo): string | undefined {
  return vm.configPath ? dirname(vm.configPath) : undefined;
}

/** `vmware:path-…` for a .vmx path (case-folded on Windows, where paths are case-insensitive). */
function pathId(configPath: string): GuestId {
  const key = process.platform === 'win32' ? resolve(configPath).toLowerCase() : resolve(configPath);
  return vmwarePathGuestId(createHash('sha256').update(key).digest('hex'));
}

/** Maps an adapter's VmInfo to the contract's Guest under the identity `id`. */
export function toGuest(kind: HypervisorKind, vm: VmInfo, id: GuestId, extraWarnings: string[] = []): Guest {
  const warnings: string[] = [];
  if (vm.encrypted) warnings.push('encrypted VM: twin backups are not possible');
  if (vm.state === 'running' && !vm.toolsRunning) warnings.push('guest tools are not running: a clean twin shutdown is not possible');
  warnings.push(...extraWarnings);
  const folder = folderOf(vm);
  return {
    id,
    name: vm.name,
    ...(folder ? { folder } : {}),
    hypervisor: kind,
    state: vm.state,
    memoryMiB: vm.memoryMiB,
    disks: vm.disks.map((d) => ({ name: d.slot, path: d.path })),
    configPath: vm.configPath,
    toolsRunning: vm.toolsRunning,
    warnings,
  };
}

/**
 * Gives every listed VM its identity (shared/domain/guest-id.ts): Hyper-V its VM id, VMware its
 * `uuid.bios`. A VMware uuid seen on more than one .vmx (a copy not yet powered on, so VMware has
 * not asked "moved or copied" yet) stays with the .vmx in the folder the catalog last saw under
 * it; the others — and every .vmx when none is in that folder — are known by their path until
 * they get their own uuid, with a warning. Pure: `known` looks up the catalog's record of an id.
 */
export function assignGuestIds(listed: { hypervisor: Hypervisor; vm: VmInfo }[], known: (id: GuestId) => GuestRecord | undefined): LiveGuest[] {
  const natural = listed.map(({ hypervisor, vm }) => {
    if (hypervisor.kind === 'hyperv') return hypervGuestId(vm.id);
    return (vm.uuidBios && vmwareGuestId(vm.uuidBios)) || pathId(vm.configPath ?? vm.id);
  });
  const holders = new Map<GuestId, number[]>();
  natural.forEach((id, i) => holders.set(id, [...(holders.get(id) ?? []), i]));
  return listed.map(({ hypervisor, vm }, i) => {
    const id = natural[i]!;
    const same = holders.get(id)!;
    if (same.length === 1) return { guest: toGuest(hypervisor.kind, vm, id), hypervisor, vm };
    const lastFolder = known(id)?.folder;
    const keeper = same.find((j) => lastFolder !== undefined && folderOf(listed[j]!.vm) === lastFolder);
    if (keeper === i) return { guest: toGuest(hypervisor.kind, vm, id), hypervisor, vm };
    const others = same.filter((j) => j !== i).map((j) => listed[j]!.vm.configPath ?? listed[j]!.vm.id);
    const warning = `this vm has the same uuid.bios as ${others.join(', ')} (a copy not yet powered on?): its backups are kept apart by its path until vmware gives it its own uuid at its next power-on`;
    return { guest: toGuest(hypervisor.kind, vm, pathId(vm.configPath ?? vm.id), [warning]), hypervisor, vm };
  });
}

/** How a reference is shown in an ambiguity error: id, name, hypervisor and folder. */
function describe(c: GuestCandidate): string {
  return `${c.id} (${[c.hypervisor, c.folder ? `in ${c.folder}` : undefined].filter(Boolean).join(', ') || 'known from its backups'})`;
}

/**
 * The one place where a guest reference (an id, or a display name when unique) becomes a guest,
 * and where listed VMs get their identity. Lists the hypervisors once per call; records what it
 * sees in the catalog (name and folder per id) and adopts the records of a `name:` id (made
 * before guest ids) into the id of the one VM that has that name now.
 */
export class GuestDirectory {
  constructor(private readonly deps: Pick<EngineBase, 'hypervisors' | 'logger'> & { readonly store: RepositoryAccess }) {}

  /** Every VM of every available adapter (one `listVms` per adapter), with its identity. */
  async live(filter?: HypervisorKind): Promise<LiveGuest[]> {
    const listed: { hypervisor: Hypervisor; vm: VmInfo }[] = [];
    for (const h of this.deps.hypervisors) {
      if (filter && h.kind !== filter) continue;
      if (!(await h.detect()).available) continue;
      for (const vm of await h.listVms()) listed.push({ hypervisor: h, vm });
    }
    const catalog = this.deps.store.catalog();
    const out = assignGuestIds(listed, (id) => catalog.guests.get(id));
    this.remember(out);
    return out;
  }

  /** Records name and folder per id, and adopts `name:` records a unique live name claims. */
  private remember(live: LiveGuest[]): void {
    const catalog = this.deps.store.catalog();
    const records = new Map(catalog.guests.list().map((r) => [r.id, r]));
    for (const { guest } of live) {
      const r = records.get(guest.id);
      if (!r || r.name !== guest.name || r.folder !== guest.folder || r.hypervisor !== guest.hypervisor) {
        catalog.guests.upsert({ id: guest.id, name: guest.name, hypervisor: guest.hypervisor, ...(guest.folder ? { folder: guest.folder } : {}) });
      }
    }
    for (const r of records.values()) {
      if (parseGuestId(r.id)?.kind !== 'name') continue;
      const named = live.filter((l) => l.guest.name === r.name);
      if (named.length !== 1) continue;
      catalog.guests.adopt(r.id, named[0]!.guest.id);
      this.deps.logger.info('records kept by guest name were adopted by the vm of that name', { from: r.id, to: named[0]!.guest.id });
    }
  }

  /**
   * Resolves `ref` — a guest id, an adapter's own id (a .vmx path, a Hyper-V VM id) or a display
   * name — to one guest. `liveOnly`: only VMs seen now (what can be backed up). A name several
   * guests share is a USAGE error listing each candidate's id and folder (`details.candidates`);
   * no match is HV_VM_NOT_FOUND with `liveOnly`, else the guest known by that name (`name:<ref>`,
   * as a schedule or policy set before its VM appears — `record` keeps it in the catalog so that
   * VM adopts it — or for cold imports). `live` reuses a listing already made (back up all: one listing).
   */
  async resolve(ref: string, opts: { liveOnly?: boolean; live?: LiveGuest[]; record?: boolean } = {}): Promise<ResolvedGuest> {
    const live = opts.live ?? (await this.live());
    const catalog = this.deps.store.catalog();
    const fromLive = (l: LiveGuest): ResolvedGuest => ({
      id: l.guest.id,
      name: l.guest.name,
      hypervisor: l.guest.hypervisor,
      ...(l.guest.folder ? { folder: l.guest.folder } : {}),
      present: true,
      live: l,
      aliases: catalog.guests.aliases(l.guest.id),
    });
    const fromRecord = (r: GuestRecord): ResolvedGuest => ({
      id: r.id,
      name: r.name,
      ...(r.hypervisor ? { hypervisor: r.hypervisor as HypervisorKind } : {}),
      ...(r.folder ? { folder: r.folder } : {}),
      present: false,
      aliases: catalog.guests.aliases(r.id),
    });
    const byNameOnly = (name: string): ResolvedGuest => {
      const id = nameGuestId(name);
      // recorded, so the VM of that name adopts the schedule or policy once it is seen
      if (opts.record) catalog.guests.upsert({ id, name });
      return { id, name, present: false, aliases: [] };
    };
    if (isGuestId(ref)) {
      const id = catalog.guests.canonical(ref);
      const l = live.find((x) => x.guest.id === id);
      if (l) return fromLive(l);
      const r = catalog.guests.get(id);
      if (r && !opts.liveOnly) return fromRecord(r);
      if (!opts.liveOnly && parseGuestId(id)?.kind === 'name') return byNameOnly(parseGuestId(id)!.value);
      throw new AppError('HV_VM_NOT_FOUND', `no ${opts.liveOnly ? 'vm' : 'guest'} with id '${ref}' was found: run 'twinsnap guests' to list them`, { details: { guest: ref } });
    }
    const byLocator = live.find((x) => x.vm.id === ref || x.vm.configPath === ref);
    if (byLocator) return fromLive(byLocator);
    const hits: ResolvedGuest[] = live.filter((x) => x.guest.name === ref).map(fromLive);
    if (!opts.liveOnly) {
      for (const r of catalog.guests.list()) if (r.name === ref && !hits.some((h) => h.id === r.id)) hits.push(fromRecord(r));
    }
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) {
      const candidates: GuestCandidate[] = hits.map(({ id, name, hypervisor, folder }) => ({ id, name, ...(hypervisor ? { hypervisor } : {}), ...(folder ? { folder } : {}) }));
      throw new AppError('USAGE', `${hits.length} guests are named '${ref}': name one by its id — ${candidates.map(describe).join('; ')}`, { details: { guest: ref, candidates } });
    }
    // a name nothing knows yet: a guest known by that name (its schedule or policy waits for it)
    if (!opts.liveOnly) return byNameOnly(ref);
    throw new AppError('HV_VM_NOT_FOUND', `no guest named '${ref}' was found: run 'twinsnap guests' to list them`, { details: { guest: ref } });
  }
}

import type { GuestId } from '../../../shared/domain/guest-id.js';
import type { LiveGuest } from './guest-directory.js';
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import { toSerializedError } from '../../../shared/errors/serialize.js';
import type { JobInfo, JobStep } from '../../../shared/domain/job.js';
import type { Req } from '../../../shared/ipc/schemas.js';
import { timeId } from '../core/ids.js';
import { checkedFileName, diskExtension, manifestGuestId, type ExportFormat, type Repository } from '../repository/repository.js';
import type { Hypervisor } from '../hypervisor/hypervisor.js';
import type { HypervisorKind } from '../../../shared/domain/guest.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';
import { checkRestoreNetwork, kindOfFolder, replaceVmwareVm, restoreVmFolder } from './restore-vm.js';
import type { VmxNetworkChoice } from '../hypervisor/vmware/restored-identity.js';
import type { RestoreNetwork } from '../../../shared/domain/guest.js';

/** Throttle of restore progress events (per job). */
const PROGRESS_INTERVAL_MS = 250;

type RestoreReq = Req<'restore.start'>;

/**
 * restore.start: a whole VM into a new folder (configuration + disks, in the original or a chosen
 * format) or the disks only. Runs as a job (kind `restore`) with progress events; the result's
 * step detail says exactly where everything went.
 */
export const restoreHandlers: HandlerFactory = (ctx) => ({
  'restore.start': async (req) => {
    // an offsite point is read from the bucket through its cache: each disk's missing chunks are fetched first
    const repo = await ctx.store.repositoryFor(req.source);
    const manifest = await repo.readManifest(req.snapshotId);
    // listing first: it adopts a `name:` id (a point made before guest ids) into its VM's id
    const live = req.mode === 'replace' ? await ctx.guests.live().catch(() => []) : [];
    const guestId = ctx.store.catalog().guests.canonical(manifestGuestId(manifest));
    const original = req.mode === 'replace' ? originalToReplace(live, guestId, manifest.guest, req.confirmName) : undefined;
    if (req.mode === 'disks' && req.network) throw new AppError('INVALID_REQUEST', 'a network applies to a whole-vm restore, not to disks exported alone');
    // new vm: disconnected unless asked (a copy beside the running original must not meet it on
    // the LAN with its IP address and computer name); replace: the original's networks
    const network: RestoreNetwork = req.network ?? (req.mode === 'replace' ? { kind: 'original' } : { kind: 'disconnected' });
    const net = await checkRestoreNetwork(
      ctx.hypervisors,
      manifest.configFiles.map((c) => c.name),
      network,
    );
    const catalog = ctx.store.catalog();
    const now = () => new Date(ctx.clock.now()).toISOString();
    const step: JobStep = { id: 'restore', label: req.mode === 'disks' ? 'Export disks' : req.mode === 'replace' ? `Replace ${manifest.guest}` : 'Restore VM folder', status: 'pending' };
    const job: JobInfo = {
      id: timeId(ctx.clock.now()),
      kind: 'restore',
      guest: manifest.guest,
      guestId,
      trigger: 'manual',
      status: 'running',
      createdAt: now(),
      startedAt: now(),
      steps: [step],
      warnings: [],
      snapshotId: req.snapshotId,
    };
    catalog.jobs.insert(job);
    catalog.jobLog.append(job.id, { at: now(), level: 'info', message: `restore of snapshot ${req.snapshotId} (${req.mode}) to '${req.to}' started` });
    void runRestore(ctx, repo, job, req, net, original).catch(() => {});
    return { jobId: job.id };
  },

  'restore.networks': async (req) => {
    const manifest = await (await ctx.store.repositoryFor(req.source)).readManifest(req.snapshotId);
    const kind = kindOfFolder(manifest.configFiles.map((c) => c.name));
    if (!kind) return { networks: [], problem: 'this restore point holds no vm configuration: restore its disks only' };
    const hv = ctx.hypervisors.find((h) => h.kind === kind);
    if (!hv?.listNetworks) return { hypervisor: kind, networks: [], problem: `${TOOL_NAME[kind]} is not set up in twinsnap, so its networks cannot be listed` };
    try {
      return { hypervisor: kind, networks: await hv.listNetworks() };
    } catch (e) {
      return { hypervisor: kind, networks: [], problem: `the networks of ${TOOL_NAME[kind]} could not be listed: ${toSerializedError(e).message}` };
    }
  },

  'restore.startVm': async (req) => {
    const found = await findRestoredVm(ctx, req.to);
    await found.hv.startVm(found.id);
    const info = await found.hv.getVm(found.id).catch(() => undefined);
    return { vmId: found.id, name: info?.name ?? found.name, hypervisor: found.hv.kind };
  },
});

const TOOL_NAME: Record<HypervisorKind, string> = { vmware: 'VMware Workstation', hyperv: 'Hyper-V' };

function adapterFor(ctx: EngineContext, kind: HypervisorKind): Hypervisor {
  const hv = ctx.hypervisors.find((h) => h.kind === kind);
  if (!hv) throw new AppError('HV_NOT_INSTALLED', `${TOOL_NAME[kind]} is not set up in twinsnap, so it cannot start the restored vm; open it in ${TOOL_NAME[kind]} yourself`);
  return hv;
}

/**
 * The VM that restore.start (new-vm) made in `to`: VMware — the .vmx in the folder (its id);
 * Hyper-V — the VM whose configuration Import-VM put under the folder.
 */
async function findRestoredVm(ctx: EngineContext, to: string): Promise<{ hv: Hypervisor; id: string; name: string }> {
  const files = await readdir(to).catch((cause) => {
    throw new AppError('NOT_FOUND', `'${to}' does not exist: restore the whole vm as a new vm there first`, { cause });
  });
  const kind = kindOfFolder(files);
  if (!kind) throw new AppError('HV_VM_NOT_FOUND', `'${to}' holds no restored vm configuration (.vmx or .vmcx): restore the whole vm as a new vm there first`);
  const hv = adapterFor(ctx, kind);
  if (kind === 'vmware') {
    const vmx = files.find((f) => /\.vmx$/i.test(f))!;
    return { hv, id: join(to, vmx), name: vmx.replace(/\.vmx$/i, '') };
  }
  const root = resolve(to).toLowerCase() + sep;
  const vm = (await hv.listVms()).find((v) => v.configPath && resolve(v.configPath).toLowerCase().startsWith(root));
  if (!vm) throw new AppError('HV_VM_NOT_FOUND', `no hyper-v vm was imported from '${to}': import it with hyper-v manager (import virtual machine → copy, new id) and start it there`);
  return { hv, id: vm.id, name: vm.name };
}

/**
 * Gives a restored folder a new identity and registers it (Hypervisor.registerRestored); returns
 * the sentence for the result page. A failure here leaves the restored files and says how to
 * finish by hand.
 */
async function registerRestored(ctx: EngineContext, folder: string, files: string[], name: string, network: RestoreNetwork): Promise<{ detail: string; warning?: string }> {
  const kind = kindOfFolder(files);
  if (!kind) return { detail: '' };
  const hv = ctx.hypervisors.find((h) => h.kind === kind);
  const byHand =
    kind === 'vmware'
      ? `Open the .vmx in VMware Workstation (File → Open), answer "I copied it" and start it.`
      : 'Import the folder with Hyper-V Manager (Import Virtual Machine → Copy, generate a new ID) and start it.';
  if (!hv?.registerRestored || !hv.capabilities.register) return { detail: byHand };
  try {
    const r = await hv.registerRestored(folder, name, { network });
    return {
      detail:
        kind === 'vmware'
          ? `Ready as '${r.name}' (${r.configPath}) with a new BIOS UUID and new MAC addresses, so it can run beside the original. Start it now, or open it in VMware Workstation (File → Open).`
          : `Imported into Hyper-V as '${r.name}' with a new VM ID, so it can run beside the original. Start it now, or from Hyper-V Manager.`,
      ...(r.notRemoved?.length ? { warning: `these restored files were copied by the import but could not be removed, delete them to free the space: ${r.notRemoved.join(', ')}` } : {}),
    };
  } catch (e) {
    const msg = toSerializedError(e).message;
    return { detail: byHand, warning: `the restored vm could not be registered with ${TOOL_NAME[kind]}: ${msg}` };
  }
}

/**
 * The VM that "replace the original" overwrites: the guest of the restore point, found by its
 * id (never by name: a same-named VM is another guest), confirmed by the user typing its name, powered off (TwinSnap never powers a production VM off
 * itself), and — for now — a VMware VM.
 */
function originalToReplace(live: LiveGuest[], guestId: GuestId, guest: string, confirmName: string | undefined): { hv: Hypervisor; vmxPath: string } {
  if (confirmName !== guest) throw new AppError('INVALID_REQUEST', `type the guest's name '${guest}' to confirm replacing it`);
  for (const { guest: g, hypervisor: hv, vm } of live) {
    if (g.id !== guestId) continue;
    if (hv.kind !== 'vmware' || !vm.configPath) {
      throw new AppError('NOT_IMPLEMENTED', `replacing a ${TOOL_NAME[hv.kind]} vm in place is not available yet: restore it as a new vm, check it, then remove the original`);
    }
    if (vm.state !== 'off') {
      throw new AppError('HV_VM_BAD_STATE', `'${guest}' is ${vm.state}: shut it down first (twinsnap never powers a production vm off by itself), then replace it`);
    }
    return { hv, vmxPath: vm.configPath };
  }
  throw new AppError('HV_VM_NOT_FOUND', `the original vm '${guest}' was not found on this computer: restore the point as a new vm instead`);
}

async function runRestore(ctx: EngineContext, repo: Repository, job: JobInfo, req: RestoreReq, net: VmxNetworkChoice, original?: { hv: Hypervisor; vmxPath: string }): Promise<void> {
  const catalog = ctx.store.catalog();
  const started = ctx.clock.monotonic();
  const now = () => new Date(ctx.clock.now()).toISOString();
  let last = 0;
  const progress = (bytesDone: number, bytesTotal: number) => {
    const t = ctx.clock.monotonic();
    if (t - last < PROGRESS_INTERVAL_MS && bytesDone < bytesTotal) return;
    last = t;
    const seconds = (t - started) / 1000;
    const rate = seconds > 0 ? bytesDone / seconds : 0;
    const cur = catalog.jobs.update(job.id, { bytesDone, bytesTotal, steps: [{ ...job.steps[0]!, status: 'running', startedAt: job.startedAt }] });
    ctx.emit('jobs.progress', { jobId: job.id, step: 'restore', bytesDone, bytesTotal, bytesPerSecond: rate, etaSeconds: rate > 0 ? (bytesTotal - bytesDone) / rate : undefined, job: cur });
  };
  const warnings: string[] = [];
  try {
    const format = (req.format ?? 'original') as ExportFormat | 'original';
    let detail: string;
    if (req.mode === 'disks') {
      const m = await repo.readManifest(req.snapshotId);
      await mkdir(req.to, { recursive: true });
      const total = m.disks.reduce((s, d) => s + d.size, 0);
      let doneBefore = 0;
      const written: string[] = [];
      for (const d of m.disks) {
        const src = d.sourceFormat as ExportFormat | undefined;
        const fmt: ExportFormat = format !== 'original' ? format : src && ['raw', 'vmdk', 'vhdx', 'qcow2'].includes(src) ? src : 'raw';
        const base = checkedFileName(d.fileName, m.id, 'disk file name').replace(/\.[^.]+$/, '');
        const out = await repo.exportDisk(req.snapshotId, d.name, {
          format: fmt,
          to: join(req.to, base + diskExtension(fmt)),
          onProgress: (p) => progress(doneBefore + p.bytesDone, total),
        });
        doneBefore += d.size;
        written.push(out.path);
      }
      detail = `disks written: ${written.join(', ')}`;
    } else if (original) {
      const stamp = new Date(ctx.clock.now()).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
      const r = await replaceVmwareVm(repo, req.snapshotId, { vmxPath: original.vmxPath, stamp, net, onProgress: progress });
      detail = `'${job.guest}' is back at the restore point in '${r.folder}' (${r.files.join(', ')}); its previous files are kept in '${r.previous}': delete them once the vm works. ${networkSentence(net.network)} Start it now, or from VMware Workstation.`;
    } else {
      const name = req.newName ?? `${job.guest ?? 'vm'}-restored`;
      const r = await restoreVmFolder(repo, req.snapshotId, { to: req.to, name, format, net, onProgress: progress });
      const reg = await registerRestored(ctx, r.path, r.files, name, net.network);
      if (reg.warning) warnings.push(reg.warning);
      detail = `VM folder restored to '${r.path}' (${r.files.join(', ')}). ${networkSentence(net.network)} ${reg.detail}`.trim();
    }
    const durationMs = ctx.clock.monotonic() - started;
    const done = catalog.jobs.update(job.id, {
      status: warnings.length ? 'warning' : 'succeeded',
      warnings,
      finishedAt: now(),
      steps: [{ ...job.steps[0]!, status: 'done', startedAt: job.startedAt, durationMs, detail }],
    });
    catalog.jobLog.append(job.id, { at: now(), level: 'info', message: detail, step: 'restore' });
    ctx.emit('jobs.finished', done);
  } catch (e) {
    const err = toSerializedError(e);
    const failed = catalog.jobs.update(job.id, {
      status: err.code === 'CANCELLED' ? 'cancelled' : 'failed',
      finishedAt: now(),
      error: { code: err.code, message: err.message },
      steps: [{ ...job.steps[0]!, status: 'failed', detail: err.message }],
    });
    catalog.jobLog.append(job.id, { at: now(), level: 'error', message: `restore failed: ${err.message}`, step: 'restore' });
    ctx.logger.error('restore failed', { jobId: job.id, error: e });
    ctx.emit('jobs.finished', failed);
  }
}

/** The result page's sentence about the restored VM's network adapters. */
function networkSentence(network: RestoreNetwork): string {
  if (network.kind === 'disconnected') return 'Its network adapters are disconnected (connect them once the original is off, or the two would share an IP address and computer name).';
  if (network.kind === 'network') return `Its network adapters are connected to '${network.name}'.`;
  return "Its network adapters are on the original's networks.";
}

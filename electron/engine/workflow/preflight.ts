import { statfsSync, statSync } from 'node:fs';
import { freemem } from 'node:os';
import { dirname } from 'node:path';
import type { HypervisorInfo } from '../../../shared/domain/guest.js';
import type { ErrorCode } from '../../../shared/errors/error-codes.js';
import type { GuestRoles, HostSpaceNeed, Hypervisor, VmInfo } from '../hypervisor/hypervisor.js';

const MiB = 1024 * 1024;

/** Host probes used by pre-flight checks; injectable so tests can simulate a full host. */
export interface HostProbe {
  /** Free physical memory in bytes. */
  freeMemoryBytes(): number;
  /** Free bytes on the filesystem holding `path` (undefined when it cannot be measured). */
  freeDiskBytes(path: string): number | undefined;
  /** Which volume holds `path` (equal strings = same volume; undefined when unknown). */
  volumeOf?(path: string): string | undefined;
}

/** `path`, or its nearest ancestor that exists (a folder still to be made is on its parent's volume). */
export function existingAncestor(path: string): string {
  let p = path;
  for (;;) {
    try {
      statSync(p);
      return p;
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

/** The real host. */
export const systemHostProbe: HostProbe = {
  freeMemoryBytes: () => freemem(),
  freeDiskBytes: (path) => {
    try {
      const s = statfsSync(existingAncestor(path));
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      return undefined;
    }
  },
  volumeOf: (path) => {
    try {
      return String(statSync(existingAncestor(path)).dev);
    } catch {
      return undefined;
    }
  },
};

/** Margins the checks add on top of what the guest itself needs. */
export interface PreflightMargins {
  /** Free RAM required beyond the guest's memory (default 512 MiB). */
  memoryMarginBytes: number;
  /** Free disk required for the twin's child disks, beyond the memory-state file (default 1 GiB). */
  childDiskMarginBytes: number;
}

/** Default margins. */
export const DEFAULT_MARGINS: PreflightMargins = { memoryMarginBytes: 512 * MiB, childDiskMarginBytes: 1024 * MiB };

/** The outcome of one check. */
export interface PreflightCheck {
  id: 'hypervisor' | 'edition' | 'encryption' | 'memory' | 'disk' | 'tools' | 'state' | 'repository' | 'host-space' | 'guest-role';
  ok: boolean;
  /** A check that passed but that the user must hear about (a job warning). */
  warn?: boolean;
  /** Error code used when this check alone fails. */
  code?: ErrorCode;
  /** Lowercase, actionable. */
  message: string;
}

/** What the checks conclude the job should do. */
export type BackupPlan = 'twin' | 'crash' | 'cold';

/**
 * Runs the pre-flight checks for backing up `vm` and decides the plan:
 * powered off → `cold`; running with Tools and a capable adapter → `twin`; otherwise `crash`
 * when the policy allows it, or failed checks. Never throws; the caller turns failures into
 * an AppError (see `preflightError`).
 */
export function runPreflight(input: { info: HypervisorInfo; hypervisor: Hypervisor; vm: VmInfo; policy: 'require-clean' | 'allow-crash'; probe: HostProbe; margins: PreflightMargins }): {
  plan: BackupPlan;
  checks: PreflightCheck[];
} {
  const { info, hypervisor, vm, policy, probe, margins } = input;
  const checks: PreflightCheck[] = [];
  const name = `'${vm.name}'`;
  checks.push(
    info.available
      ? { id: 'hypervisor', ok: true, message: `${info.kind} tools found${info.toolPath ? ` at ${info.toolPath}` : ''}` }
      : { id: 'hypervisor', ok: false, code: 'HV_NOT_INSTALLED', message: `${info.kind} is not usable: ${info.problem ?? 'tools not found'}` },
  );
  const player = /player/i.test(`${info.version ?? ''} ${info.problem ?? ''}`);
  checks.push(
    player
      ? { id: 'edition', ok: false, code: 'HV_PLAYER_UNSUPPORTED', message: 'vmware workstation player cannot suspend or snapshot through vmrun: install workstation pro' }
      : { id: 'edition', ok: true, message: 'edition supports snapshots' },
  );
  checks.push(
    vm.encrypted
      ? { id: 'encryption', ok: false, code: 'HV_ENCRYPTED_VM', message: `vm ${name} is encrypted: twin backups cannot open its disks; remove the encryption or back it up another way` }
      : { id: 'encryption', ok: true, message: 'not encrypted' },
  );

  if (vm.state === 'off') return { plan: 'cold', checks };
  if (vm.state !== 'running') {
    if (policy === 'allow-crash' && vm.state === 'suspended') {
      checks.push({ id: 'state', ok: true, message: `vm ${name} is suspended: its disks are archived as they are (crash-consistent)` });
      return { plan: 'cold', checks };
    }
    checks.push({ id: 'state', ok: false, code: 'HV_VM_BAD_STATE', message: `vm ${name} is ${vm.state}: resume it or power it off, then retry` });
    return { plan: 'twin', checks };
  }

  const caps = hypervisor.capabilities;
  // A twin whose disks are full copies is fine only when production runs while they are made.
  const twinPossible = caps.memoryState && caps.gracefulShutdown && (caps.linkedTwin || caps.runningAfterFreeze);
  let plan: Exclude<BackupPlan, 'cold'> = 'twin';
  if (!twinPossible) {
    if (policy === 'allow-crash') {
      plan = 'crash';
      checks.push({ id: 'tools', ok: true, message: `${info.kind} adapter cannot build a twin: archiving a crash-consistent copy (policy allow-crash)` });
    } else {
      checks.push({ id: 'tools', ok: false, code: 'PREFLIGHT_FAILED', message: `${info.kind} adapter cannot build a twin; set the policy to allow-crash to accept crash-consistent backups` });
    }
  } else if (!vm.toolsRunning) {
    if (policy === 'allow-crash') {
      plan = 'crash';
      checks.push({ id: 'tools', ok: true, message: `guest tools are not running in ${name}: the twin could not shut down cleanly, archiving a crash-consistent copy (policy allow-crash)` });
    } else {
      checks.push({
        id: 'tools',
        ok: false,
        code: 'HV_TOOLS_NOT_RUNNING',
        message: `guest tools / integration services are not running in ${name}: install or start them (vmware tools, hyper-v shutdown service), or set the policy to allow-crash`,
      });
    }
  } else {
    checks.push({ id: 'tools', ok: true, message: 'guest tools running' });
  }

  if (plan === 'twin') {
    const guestBytes = vm.memoryMiB * MiB;
    const needMem = guestBytes + margins.memoryMarginBytes;
    const freeMem = probe.freeMemoryBytes();
    checks.push(
      freeMem >= needMem
        ? { id: 'memory', ok: true, message: `${mib(freeMem)} MiB free ram ≥ ${mib(needMem)} MiB needed` }
        : {
            id: 'memory',
            ok: false,
            code: 'INSUFFICIENT_MEMORY',
            message: `the twin of ${name} needs ${mib(needMem)} MiB of free ram (guest ${vm.memoryMiB} MiB + ${mib(margins.memoryMarginBytes)} MiB margin) but the host has ${mib(freeMem)} MiB free: close other vms or programs, or run the backup later`,
          },
    );
  }
  {
    const where = vm.configPath ? dirname(vm.configPath) : vm.disks[0] ? dirname(vm.disks[0].path) : undefined;
    const freeDisk = where ? probe.freeDiskBytes(where) : undefined;
    const needDisk = (plan === 'twin' ? vm.memoryMiB * MiB : 0) + margins.childDiskMarginBytes;
    if (freeDisk === undefined) checks.push({ id: 'disk', ok: true, message: 'free disk space could not be measured; continuing' });
    else
      checks.push(
        freeDisk >= needDisk
          ? { id: 'disk', ok: true, message: `${mib(freeDisk)} MiB free next to the vm ≥ ${mib(needDisk)} MiB needed` }
          : {
              id: 'disk',
              ok: false,
              code: 'DISK_FULL',
              message: `the child disks and memory state of ${name} need ${mib(needDisk)} MiB free in '${where}' but only ${mib(freeDisk)} MiB are free: free some space there`,
            },
      );
  }
  return { plan, checks };
}

/** The failed checks, or undefined when all passed. */
export function failedChecks(checks: PreflightCheck[]): PreflightCheck[] | undefined {
  const failed = checks.filter((c) => !c.ok);
  return failed.length ? failed : undefined;
}

function mib(bytes: number): number {
  return Math.floor(bytes / MiB);
}

/** Where the backup will be stored, as the sink measured it before anything is frozen. */
export interface RepositoryRoom {
  path: string;
  /** Free bytes on the repository's file system (undefined when it cannot be measured). */
  freeBytes?: number;
  /** The new data this backup is expected to add (an estimate; see the sink). */
  neededBytes: number;
}

/**
 * The repository check: the sink found the repository, could write to it, and it has room for
 * the expected new data; `room` is the sink's answer or the typed error it failed with
 * (REPO_NOT_FOUND, PERMISSION_DENIED, …). Runs before the freeze, so a backup that could not be
 * stored never pauses production.
 */
export function repositoryCheck(room: RepositoryRoom | { error: { code: ErrorCode; message: string } }): PreflightCheck {
  if ('error' in room) return { id: 'repository', ok: false, code: room.error.code, message: room.error.message };
  const { path, freeBytes, neededBytes } = room;
  if (freeBytes === undefined) return { id: 'repository', ok: true, message: `repository '${path}' is writable; its free space could not be measured` };
  return freeBytes >= neededBytes
    ? { id: 'repository', ok: true, message: `repository '${path}' is writable, ${mib(freeBytes)} MiB free ≥ ${mib(neededBytes)} MiB expected new data` }
    : {
        id: 'repository',
        ok: false,
        code: 'DISK_FULL',
        message: `the repository '${path}' has ${mib(freeBytes)} MiB free but this backup is expected to add about ${mib(neededBytes)} MiB: free space there (forget old restore points, then run gc) or choose a larger repository`,
      };
}

/** One write of a backup on the host, for the host-space check. */
interface Write extends HostSpaceNeed {
  volume: string;
}

/**
 * Every write a twin backup makes on the host, checked per volume before anything is frozen:
 * next to the VM the checkpoint's memory state and production's writes meanwhile (memory + the
 * child-disk margin); what the adapter writes elsewhere (`needs`, e.g. Hyper-V's export and the
 * twin's memory state); the twin's own writes while it runs (the child-disk margin, where the
 * adapter writes); and the repository's new data (`repository`). Writes on the same volume
 * (probe.volumeOf) are added up. A volume whose free space cannot be measured passes with a note.
 */
export function hostSpaceCheck(input: { vm: VmInfo; needs: HostSpaceNeed[]; repository?: { path: string; neededBytes: number }; probe: HostProbe; margins: PreflightMargins }): PreflightCheck {
  const { vm, needs, repository, probe, margins } = input;
  const writes: HostSpaceNeed[] = [];
  const where = vm.configPath ? dirname(vm.configPath) : vm.disks[0] ? dirname(vm.disks[0].path) : undefined;
  if (where)
    writes.push({
      path: where,
      bytes: vm.memoryMiB * MiB + margins.childDiskMarginBytes,
      what: `the checkpoint's memory state and production's writes meanwhile (${vm.memoryMiB} MiB + ${mib(margins.childDiskMarginBytes)} MiB)`,
    });
  writes.push(...needs);
  if (needs[0]) writes.push({ path: needs[0].path, bytes: margins.childDiskMarginBytes, what: `the twin's own writes while it runs (${mib(margins.childDiskMarginBytes)} MiB)` });
  if (repository) writes.push({ path: repository.path, bytes: repository.neededBytes, what: `the repository's new data (about ${mib(repository.neededBytes)} MiB)` });
  const byVolume = new Map<string, Write[]>();
  for (const w of writes) {
    const volume = probe.volumeOf?.(w.path) ?? w.path;
    byVolume.set(volume, [...(byVolume.get(volume) ?? []), { ...w, volume }]);
  }
  const ok: string[] = [];
  for (const group of byVolume.values()) {
    const path = group[0]!.path;
    const need = group.reduce((n, w) => n + w.bytes, 0);
    const free = probe.freeDiskBytes(path);
    if (free === undefined) {
      ok.push(`free space at '${path}' could not be measured`);
      continue;
    }
    if (free < need) {
      return {
        id: 'host-space',
        ok: false,
        code: 'DISK_FULL',
        message: `the backup of '${vm.name}' would write about ${mib(need)} MiB on the volume of '${path}' — ${group.map((w) => w.what).join(', ')} — but only ${mib(free)} MiB are free there: free some space on it (or move the twin folder or the repository to another volume), then retry`,
      };
    }
    ok.push(`${mib(need)} MiB of ${mib(free)} MiB free at '${path}'`);
  }
  return { id: 'host-space', ok: true, message: `room for every write of the backup: ${ok.join('; ')}` };
}

/**
 * The guest's role against the checkpoint the twin needs: Microsoft supports only Production
 * checkpoints (no memory) for guests running AD DS or AD LDS — "Only Production Checkpoints are
 * supported on guests that run Active Directory Domain Services role (Domain Controller) or AD
 * LDS" (learn.microsoft.com/windows-server/virtualization/hyper-v/manage/choose-between-standard-or-production-checkpoints-in-hyper-v)
 * — while a twin resumes from a Standard one. A domain controller is refused under require-clean
 * and backed up with a warning under allow-crash (production is never reverted to the
 * checkpoint; the twin runs isolated and is deleted). Unknown roles pass with the reason.
 */
export function guestRoleCheck(vm: VmInfo, roles: GuestRoles, policy: 'require-clean' | 'allow-crash'): PreflightCheck {
  const name = `'${vm.name}'`;
  if (!roles.domainController) return { id: 'guest-role', ok: true, message: roles.domainController === false ? `not a domain controller: ${roles.evidence}` : `role unknown: ${roles.evidence}` };
  const why = `${name} looks like a domain controller (${roles.evidence}), and microsoft supports only production checkpoints for domain controllers (hyper-v docs: choose between standard or production checkpoints), while a twin needs a standard checkpoint with memory`;
  if (policy === 'allow-crash')
    return { id: 'guest-role', ok: true, warn: true, message: `${why}: backing it up anyway (policy allow-crash); production is never reverted to the checkpoint and the twin runs isolated` };
  return {
    id: 'guest-role',
    ok: false,
    code: 'HV_DOMAIN_CONTROLLER',
    message: `${why}: back it up from inside the guest (windows server backup), or set its policy to allow-crash to accept the risk`,
  };
}

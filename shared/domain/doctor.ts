import type { HypervisorKind } from './guest.js';

/** One experiment of `twinsnap doctor` and whether the assumption it tests held on this host. */
export interface DoctorCheck {
  /** Stable id, e.g. `tool`, `twin-isolated`, `memory-image-stable`, `nothing-left`. */
  name: string;
  ok: boolean;
  /** What was observed (times, versions, hashes, the hypervisor's own words). */
  detail: string;
  /** The check could not apply here (e.g. the adapter names no memory files); `ok` stays true. */
  skipped?: boolean;
}

/**
 * The report of one doctor run against one VM: every check, the step times, and the verdict
 * (`ok` = every check held). Plain data; stored per hypervisor in the catalog.
 */
export interface DoctorReport {
  ok: boolean;
  hypervisor: HypervisorKind;
  /** The VM as the user named it, and the adapter's id once it was found. */
  vm: string;
  vmId?: string;
  /** Tool path and version as detected. */
  tool?: { path?: string; version?: string };
  startedAt: string;
  finishedAt: string;
  checks: DoctorCheck[];
  /** Milliseconds of each step that ran (freeze, copy-config, resume, boot-twin, shutdown-twin, cleanup) and the production pause. */
  durations: Record<string, number>;
}

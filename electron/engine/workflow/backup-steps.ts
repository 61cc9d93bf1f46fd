/** The steps of a backup job, in order. */
export const BACKUP_STEPS = ['preflight', 'freeze', 'copy-config', 'resume', 'boot-twin', 'shutdown-twin', 'archive', 'verify', 'cleanup'] as const;

/** One step of a backup job. */
export type BackupStepId = (typeof BACKUP_STEPS)[number];

/** What the UI shows for each step. */
export const STEP_LABELS: Record<BackupStepId, string> = {
  preflight: 'pre-flight checks',
  freeze: 'freeze production',
  'copy-config': 'build the twin (copy-config)',
  resume: 'resume production',
  'boot-twin': 'boot the twin',
  'shutdown-twin': 'shut the twin down',
  archive: 'archive disks',
  verify: 'boot verification',
  cleanup: 'clean up',
};

/** Default per-step time limits in milliseconds (0 = none). Configurable per WorkflowDeps. */
export const DEFAULT_STEP_TIMEOUTS: Record<BackupStepId, number> = {
  preflight: 60_000,
  freeze: 120_000,
  'copy-config': 120_000,
  resume: 120_000,
  'boot-twin': 300_000,
  'shutdown-twin': 600_000,
  archive: 0,
  verify: 600_000,
  cleanup: 300_000,
};

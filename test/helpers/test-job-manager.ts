import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { JobManager, type JobManagerDeps } from '../../electron/engine/workflow/job-manager.js';
import { memoryJobRecords } from '../../electron/engine/workflow/job-records.js';

/**
 * A JobManager for tests that drive it without an engine (targets from `backupTargets`): data
 * in `dataDir`, job records in memory, memory and disk space never short, state polled every
 * 5 ms; `deps` gives the sink and hypervisors and may override the rest. Caller must `close()` it.
 */
export function testJobManager(dataDir: string, deps: Pick<JobManagerDeps, 'sink' | 'hypervisors'> & Partial<JobManagerDeps>): JobManager {
  return new JobManager({
    clock: systemClock,
    logger: nullLogger,
    dataDir,
    records: memoryJobRecords(),
    probe: { freeMemoryBytes: () => 1e12, freeDiskBytes: () => 1e12 },
    pollMs: 5,
    ...deps,
  });
}

import type { HandlerFactory } from './handlers.js';
import { statusHandlers } from './status-handlers.js';
import { guestHandlers } from './guest-handlers.js';
import { repositoryHandlers } from './repository-handlers.js';
import { jobHandlers } from './job-handlers.js';
import { filesHandlers } from './files-handlers.js';
import { restoreHandlers } from './restore-handlers.js';
import { scheduleHandlers } from './schedule-handlers.js';
import { snapshotAdminHandlers } from './snapshot-admin-handlers.js';
import { doctorHandlers } from './doctor-handlers.js';
import { repositorySetupHandlers } from './repository-setup-handlers.js';
import { offsiteHandlers } from './offsite-access.js';
import { repositoryKeyHandlers } from './repository-key-handlers.js';

/** Every handler slice of the engine; together they implement the whole contract. */
export const allHandlers: HandlerFactory[] = [
  statusHandlers,
  guestHandlers,
  repositoryHandlers,
  jobHandlers,
  filesHandlers,
  restoreHandlers,
  scheduleHandlers,
  snapshotAdminHandlers,
  doctorHandlers,
  repositorySetupHandlers,
  repositoryKeyHandlers,
  offsiteHandlers,
];

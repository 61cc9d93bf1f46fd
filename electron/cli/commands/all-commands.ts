import type { CommandModule } from '../cli-context.js';
import { statusCommands } from './status.js';
import { serveCommand } from './serve.js';
import { backupCommand } from './backup.js';
import { repositoryCommands } from './repository.js';
import { keyCommands } from './keys.js';
import { diskCommands } from './disk.js';
import { filesCommands } from './files.js';
import { scheduleCommands } from './schedule.js';
import { daemonCommand } from './daemon.js';
import { serviceCommands } from './service.js';
import { jobsCommand } from './jobs.js';
import { doctorCommand } from './doctor.js';
import { offsiteCommands } from './offsite.js';

/** Every command module of the CLI, in help order. Add one line per module. */
export const commandModules: CommandModule[] = [
  statusCommands,
  serveCommand,
  doctorCommand,
  backupCommand,
  diskCommands,
  repositoryCommands,
  keyCommands,
  offsiteCommands,
  filesCommands,
  scheduleCommands,
  jobsCommand,
  daemonCommand,
  serviceCommands,
];

import type { BootServiceStatus } from '../../../../shared/ipc/service-status.js';

/** What the Settings page says about the boot service, and the command that fixes it. */
export interface BootServiceWords {
  severity: 'success' | 'info' | 'warning';
  /** The headline, e.g. "Installed, starts at boot, running now (pid 812)." */
  text: string;
  /** What to do about it, when something is to be done. */
  hint?: string;
  /** The command the hint refers to (shown as code, copyable). */
  command?: string;
}

function managerName(b: BootServiceStatus): string {
  return b.manager === 'task-scheduler' ? 'Windows Task Scheduler' : 'systemd';
}

function installCommand(b: BootServiceStatus): string {
  return b.manager === 'task-scheduler' ? 'twinsnap service install' : 'sudo twinsnap service install';
}

function installWhere(b: BootServiceStatus): string {
  return b.manager === 'task-scheduler' ? 'in a command prompt opened as administrator' : 'in a terminal (it needs root)';
}

/**
 * The boot service (systemd unit / scheduled task) in words a small-office admin understands:
 * installed? starts at boot? running now? — and the one command that changes it.
 */
export function bootServiceWords(b: BootServiceStatus): BootServiceWords {
  if (b.manager === 'none')
    return {
      severity: 'info',
      text: 'This computer has no service manager TwinSnap can register with (systemd or Windows Task Scheduler), so scheduled backups only run while this app is open.',
      hint: 'To run them at all times, start this command from your own service manager:',
      command: 'twinsnap daemon',
    };
  if (b.error)
    return {
      severity: 'info',
      text: `Unknown — ${managerName(b)} did not say whether it is installed.`,
      hint: `${managerName(b)} answered: “${b.error.replace(/[.\s]+$/, '')}”. This is expected in a container or without administrator rights. Check it in a terminal with:`,
      command: 'twinsnap service status',
    };
  if (!b.installed)
    return {
      severity: 'warning',
      text: 'Not installed — scheduled backups only run while this app is open.',
      hint: `To install it, run this ${installWhere(b)}:`,
      command: installCommand(b),
    };
  const running = b.active ? `running now${b.pid ? ` (pid ${b.pid})` : ''}` : 'not running now';
  if (b.enabled && b.active) return { severity: 'success', text: `Installed, starts at boot, ${running}.` };
  if (b.enabled)
    return {
      severity: 'warning',
      text: `Installed and starts at boot, but ${running}${b.state ? ` (${b.state})` : ''}: scheduled backups only run while this app is open.`,
      hint: 'To start it now, run:',
      command: b.manager === 'task-scheduler' ? `schtasks /Run /TN ${b.name}` : `sudo systemctl start ${b.name}`,
    };
  return {
    severity: 'warning',
    text: `Installed but does not start at boot, ${running}${b.state ? ` (${b.state})` : ''}.`,
    hint: b.manager === 'task-scheduler' ? `To enable it again, run this ${installWhere(b)}:` : 'To make it start at boot (and now), run:',
    command: b.manager === 'task-scheduler' ? installCommand(b) : `sudo systemctl enable --now ${b.name}`,
  };
}

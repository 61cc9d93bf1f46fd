import type { BootServiceStatus } from '../../../shared/ipc/service-status.js';
import { AppError } from '../../../shared/errors/app-error.js';
import { runProcess, type RunResult } from '../exec/run-process.js';

/** Name of the systemd unit / Windows scheduled task (without `.service`). */
export const BOOT_SERVICE_NAME = 'twinsnap';
/** The systemd unit `twinsnap service install` writes on Linux. */
export const BOOT_SERVICE_UNIT = `${BOOT_SERVICE_NAME}.service`;
/** Task path of the Windows scheduled task `twinsnap service install` registers. */
export const BOOT_SERVICE_TASK = '\\TwinSnap\\Daemon';

/** The properties asked from `systemctl show` (all locale-independent words). */
const SYSTEMD_PROPERTIES = 'LoadState,UnitFileState,ActiveState,SubState,MainPID';
/** Unit file states that mean "starts at boot" (systemctl is-enabled's "enabled" family). */
const ENABLED_UNIT_FILE_STATES = new Set(['enabled', 'enabled-runtime', 'linked', 'linked-runtime', 'alias']);
const QUERY_TIMEOUT_MS = 15_000;

/** Options of queryBootService. */
export interface BootServiceQueryOptions {
  /** Defaults to `process.platform`. */
  platform?: NodeJS.Platform;
  /** Environment of the queried tool (PATH decides which `systemctl` runs); defaults to ours. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Another unit / task to ask about (tests); defaults to TwinSnap's own. */
  name?: string;
}

/**
 * The argv of every command that queries the boot service on `platform` (what `service status
 * --dry-run` prints); empty when the platform has no service manager TwinSnap registers with.
 */
export function bootServiceQueryCommands(platform: NodeJS.Platform, name?: string): string[][] {
  if (platform === 'linux') return [['systemctl', 'show', name ?? BOOT_SERVICE_UNIT, `--property=${SYSTEMD_PROPERTIES}`]];
  if (platform === 'win32')
    return [
      ['schtasks.exe', '/Query', '/TN', name ?? BOOT_SERVICE_TASK, '/XML'],
      ['schtasks.exe', '/Query', '/TN', name ?? BOOT_SERVICE_TASK, '/FO', 'CSV', '/NH'],
    ];
  return [];
}

/** `KEY=value` lines of `systemctl show` as a record (values may be empty). */
export function parseSystemctlShow(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** The boot service's status from `systemctl show` properties (LoadState=not-found: not installed). */
export function systemdStatus(props: Record<string, string>, name = BOOT_SERVICE_UNIT): BootServiceStatus {
  const load = props.LoadState ?? '';
  const unitFile = props.UnitFileState ?? '';
  const activeState = props.ActiveState ?? '';
  const sub = props.SubState ?? '';
  const installed = load !== '' && load !== 'not-found';
  const active = installed && (activeState === 'active' || activeState === 'reloading' || activeState === 'activating');
  const pid = Number(props.MainPID);
  const words = [load, unitFile, activeState && `${activeState}${sub ? ` (${sub})` : ''}`].filter(Boolean);
  return {
    manager: 'systemd',
    name,
    installed,
    // A masked unit is loaded-but-refused: never "starts at boot".
    enabled: installed && load !== 'masked' && ENABLED_UNIT_FILE_STATES.has(unitFile),
    active,
    ...(active && Number.isInteger(pid) && pid > 0 ? { pid } : {}),
    ...(words.length ? { state: words.join(' / ') } : {}),
  };
}

/** Text of the first `<tag>` element inside `<parent>` of a task XML, or undefined. */
function xmlText(xml: string, parent: string, tag: string): string | undefined {
  const p = new RegExp(`<${parent}(?:\\s[^>]*)?>([\\s\\S]*?)</${parent}>`).exec(xml);
  if (!p) return undefined;
  return new RegExp(`<${tag}>\\s*([^<]*?)\\s*</${tag}>`).exec(p[1]!)?.[1];
}

/**
 * The boot service's status from `schtasks /Query /XML` (installed, enabled: the task's
 * Settings/Enabled and its BootTrigger's Enabled, both default true) and the Status column of
 * `schtasks /Query /FO CSV /NH` (`Running`; that word is localised, so callers also trust a
 * live scheduler lock held by the daemon).
 */
export function taskSchedulerStatus(xml: string | undefined, csv: string | undefined, name = BOOT_SERVICE_TASK): BootServiceStatus {
  if (xml === undefined) return { manager: 'task-scheduler', name, installed: false, enabled: false, active: false };
  const settingsEnabled = xmlText(xml, 'Settings', 'Enabled') ?? 'true';
  const bootEnabled = xmlText(xml, 'BootTrigger', 'Enabled') ?? 'true';
  const hasBoot = /<BootTrigger[\s>]/.test(xml);
  const cols =
    (csv ?? '')
      .trim()
      .split(/\r?\n/)[0]
      ?.match(/"([^"]*)"/g)
      ?.map((c) => c.slice(1, -1)) ?? [];
  const status = cols[2];
  return {
    manager: 'task-scheduler',
    name,
    installed: true,
    enabled: settingsEnabled === 'true' && hasBoot && bootEnabled === 'true',
    active: status === 'Running',
    ...(status ? { state: status } : {}),
  };
}

/** The last lines of a failed tool's output, for an error sentence. */
function tail(r: RunResult): string {
  return (r.stderr || r.stdout).trim().split(/\r?\n/).slice(-2).join(' ');
}

/**
 * Asks the service manager whether TwinSnap's boot service is installed, starts at boot and
 * runs now: `systemctl show twinsnap.service` on Linux, `schtasks /Query` on Windows. Never
 * throws for an unanswerable manager (no systemd, no D-Bus): the answer then carries `error`.
 */
export async function queryBootService(opts: BootServiceQueryOptions = {}): Promise<BootServiceStatus> {
  const platform = opts.platform ?? process.platform;
  const [first, second] = bootServiceQueryCommands(platform, opts.name);
  if (!first) return { manager: 'none', name: BOOT_SERVICE_NAME, installed: false, enabled: false, active: false };
  const run = (argv: string[]) => runProcess(argv[0]!, argv.slice(1), { timeoutMs: opts.timeoutMs ?? QUERY_TIMEOUT_MS, env: opts.env, maxOutputBytes: 256 * 1024 });
  const manager = platform === 'win32' ? 'task-scheduler' : 'systemd';
  const name = opts.name ?? (platform === 'win32' ? BOOT_SERVICE_TASK : BOOT_SERVICE_UNIT);
  const unknown = (error: string): BootServiceStatus => ({ manager, name, installed: false, enabled: false, active: false, error });
  try {
    if (platform === 'linux') {
      const r = await run(first);
      const props = parseSystemctlShow(r.stdout);
      if (r.timedOut) return unknown(`systemctl did not answer within ${Math.round((opts.timeoutMs ?? QUERY_TIMEOUT_MS) / 1000)} s`);
      if (r.exitCode !== 0 || !props.LoadState) return unknown(tail(r) || `systemctl show exited with ${r.exitCode}`);
      return systemdStatus(props, name);
    }
    const x = await run(first);
    // schtasks exits 1 with "cannot find the file specified" when the task does not exist.
    if (x.exitCode !== 0) {
      if (x.timedOut) return unknown('schtasks did not answer in time');
      if (/access is denied/i.test(`${x.stderr}${x.stdout}`)) return unknown(`schtasks was refused (${tail(x)}): open TwinSnap as administrator to see the task`);
      return taskSchedulerStatus(undefined, undefined, name);
    }
    const c = await run(second!);
    return taskSchedulerStatus(x.stdout, c.exitCode === 0 ? c.stdout : undefined, name);
  } catch (e) {
    if (e instanceof AppError && e.code === 'TOOL_NOT_FOUND') {
      // No systemctl at all: this Linux does not use systemd (or no schtasks: a stripped Windows).
      return platform === 'linux'
        ? { manager: 'none', name, installed: false, enabled: false, active: false, error: 'systemctl is not installed: this system does not use systemd' }
        : unknown('schtasks.exe is not available');
    }
    if (e instanceof AppError) return unknown(e.message);
    throw e;
  }
}

/**
 * Task Scheduler's "Running" is a localised word: an installed task whose daemon holds the
 * repository's scheduler lock, alive on this host, is running too (and that is its pid).
 */
export function withDaemonLockEvidence(boot: BootServiceStatus, holder: { pid: number; host: string; role: string; alive: boolean } | undefined, thisHost: string): BootServiceStatus {
  if (boot.manager !== 'task-scheduler' || !boot.installed || boot.error || !holder?.alive || holder.role !== 'daemon' || holder.host !== thisHost) return boot;
  return { ...boot, active: true, pid: boot.pid ?? holder.pid };
}

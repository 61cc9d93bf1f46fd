/** queryBootService against a fake `systemctl` on PATH (each state), and one real systemctl call. */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../exec/run-process.js';
import { BOOT_SERVICE_TASK, BOOT_SERVICE_UNIT, queryBootService, taskSchedulerStatus, withDaemonLockEvidence } from './boot-service-query.js';

let dir: string;
let bin: string;
const env = () => ({ ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` });

/** Makes the fake systemctl print `stdout` (and `stderr`) and exit with `code`. */
function fake(stdout: string, code = 0, stderr = ''): void {
  writeFileSync(join(dir, 'out.txt'), stdout);
  writeFileSync(join(dir, 'err.txt'), stderr);
  writeFileSync(join(dir, 'rc.txt'), String(code));
}

const show = (p: Record<string, string>) =>
  `${Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-bootsvc-'));
  bin = join(dir, 'bin');
  const script = join(bin, 'systemctl');
  // The fake records its argv (one per line) and replays the canned answer.
  mkdirSync(bin);
  writeFileSync(script, `#!/bin/sh\nd='${dir}'\nprintf '%s\\n' "$@" > "$d/argv.txt"\ncat "$d/out.txt"\ncat "$d/err.txt" >&2\nexit "$(cat "$d/rc.txt")"\n`);
  chmodSync(script, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(process.platform !== 'win32')('queryBootService with a fake systemctl', () => {
  it('asks systemctl show for the unit with locale-independent properties', async () => {
    fake(show({ LoadState: 'not-found', UnitFileState: '', ActiveState: 'inactive', SubState: 'dead', MainPID: '0' }));
    const s = await queryBootService({ platform: 'linux', env: env() });
    expect(readFileSync(join(dir, 'argv.txt'), 'utf8').trim().split('\n')).toEqual(['show', BOOT_SERVICE_UNIT, '--property=LoadState,UnitFileState,ActiveState,SubState,MainPID']);
    expect(s).toEqual({ manager: 'systemd', name: BOOT_SERVICE_UNIT, installed: false, enabled: false, active: false, state: 'not-found / inactive (dead)' });
  });

  it('installed, enabled and running: the main pid', async () => {
    fake(show({ LoadState: 'loaded', UnitFileState: 'enabled', ActiveState: 'active', SubState: 'running', MainPID: '4321' }));
    expect(await queryBootService({ platform: 'linux', env: env() })).toEqual({
      manager: 'systemd',
      name: BOOT_SERVICE_UNIT,
      installed: true,
      enabled: true,
      active: true,
      pid: 4321,
      state: 'loaded / enabled / active (running)',
    });
  });

  it('installed but disabled and stopped; enabled but failed; masked', async () => {
    fake(show({ LoadState: 'loaded', UnitFileState: 'disabled', ActiveState: 'inactive', SubState: 'dead', MainPID: '0' }));
    expect(await queryBootService({ platform: 'linux', env: env() })).toMatchObject({ installed: true, enabled: false, active: false });
    fake(show({ LoadState: 'loaded', UnitFileState: 'enabled', ActiveState: 'failed', SubState: 'failed', MainPID: '0' }));
    const failed = await queryBootService({ platform: 'linux', env: env() });
    expect(failed).toMatchObject({ installed: true, enabled: true, active: false, state: 'loaded / enabled / failed (failed)' });
    expect(failed.pid).toBeUndefined();
    fake(show({ LoadState: 'masked', UnitFileState: 'masked', ActiveState: 'inactive', SubState: 'dead', MainPID: '0' }));
    expect(await queryBootService({ platform: 'linux', env: env() })).toMatchObject({ installed: true, enabled: false, active: false });
  });

  it('a system without systemd as init: an error, nothing claimed', async () => {
    fake('', 1, "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n");
    const s = await queryBootService({ platform: 'linux', env: env() });
    expect(s).toMatchObject({ manager: 'systemd', installed: false, enabled: false, active: false });
    expect(s.error).toBe("System has not been booted with systemd as init system (PID 1). Can't operate. Failed to connect to bus: Host is down");
  });

  it('no systemctl at all: manager none', async () => {
    const s = await queryBootService({ platform: 'linux', env: { ...process.env, PATH: join(dir, 'empty') } });
    expect(s).toMatchObject({ manager: 'none', installed: false, active: false, error: expect.stringMatching(/does not use systemd/) });
  });

  it('other platforms have no manager to ask', async () => {
    expect(await queryBootService({ platform: 'darwin' })).toEqual({ manager: 'none', name: 'twinsnap', installed: false, enabled: false, active: false });
  });
});

describe.runIf(process.platform !== 'win32')('queryBootService with a fake schtasks.exe', () => {
  let wbin: string;
  const wenv = () => ({ ...process.env, PATH: `${wbin}${delimiter}${process.env.PATH ?? ''}` });
  /** The fake answers /XML from xml.txt (exit from xml-rc.txt) and /FO CSV from csv.txt. */
  function win(xmlOut: string, xmlRc: number, csv = '', xmlErr = ''): void {
    writeFileSync(join(wbin, 'xml.txt'), xmlOut);
    writeFileSync(join(wbin, 'xml-err.txt'), xmlErr);
    writeFileSync(join(wbin, 'xml-rc.txt'), String(xmlRc));
    writeFileSync(join(wbin, 'csv.txt'), csv);
  }
  const taskXml = '<?xml version="1.0"?>\n<Task><Triggers><BootTrigger><Enabled>true</Enabled></BootTrigger></Triggers><Settings><Enabled>true</Enabled></Settings></Task>\n';

  beforeAll(() => {
    wbin = join(dir, 'winbin');
    mkdirSync(wbin);
    const d = wbin;
    writeFileSync(
      join(wbin, 'schtasks.exe'),
      `#!/bin/sh\nprintf '%s\\n' "$@" >> '${d}/argv.txt'\ncase "$*" in *"/XML"*) cat '${d}/xml.txt'; cat '${d}/xml-err.txt' >&2; exit "$(cat '${d}/xml-rc.txt')";; esac\ncat '${d}/csv.txt'\n`,
    );
    chmodSync(join(wbin, 'schtasks.exe'), 0o755);
  });

  it('a missing task is not installed; a denied query is unknown, not "missing"', async () => {
    win('', 1, '', 'ERROR: The system cannot find the file specified.\r\n');
    expect(await queryBootService({ platform: 'win32', env: wenv() })).toEqual({ manager: 'task-scheduler', name: BOOT_SERVICE_TASK, installed: false, enabled: false, active: false });
    win('', 1, '', 'ERROR: Access is denied.\r\n');
    expect(await queryBootService({ platform: 'win32', env: wenv() })).toMatchObject({ installed: false, error: expect.stringMatching(/refused.*administrator/) });
  });

  it('an installed, running task: both queries, with the task path as one argument', async () => {
    rmSync(join(wbin, 'argv.txt'), { force: true });
    win(taskXml, 0, '"\\TwinSnap\\Daemon","N/A","Running"\r\n');
    expect(await queryBootService({ platform: 'win32', env: wenv() })).toEqual({ manager: 'task-scheduler', name: BOOT_SERVICE_TASK, installed: true, enabled: true, active: true, state: 'Running' });
    expect(readFileSync(join(wbin, 'argv.txt'), 'utf8').trim().split('\n')).toEqual(['/Query', '/TN', BOOT_SERVICE_TASK, '/XML', '/Query', '/TN', BOOT_SERVICE_TASK, '/FO', 'CSV', '/NH']);
  });
});

const hasSystemctl = await runProcess('systemctl', ['--version'], { timeoutMs: 10_000 }).then(
  (r) => r.exitCode === 0,
  () => false,
);

describe.runIf(process.platform === 'linux' && hasSystemctl)('queryBootService with the real systemctl', () => {
  it('a unit that does not exist is not installed (or systemd cannot be asked here: said so)', async () => {
    const name = `twinsnap-test-absent-${process.pid}.service`;
    const s = await queryBootService({ name });
    expect(s).toMatchObject({ manager: 'systemd', name, installed: false, enabled: false, active: false });
    // With systemd as init: LoadState=not-found. In a container without it: an explicit error.
    if (s.error) expect(s.error).toMatch(/systemd|bus/i);
    else expect(s.state).toMatch(/^not-found/);
  });
});

describe('taskSchedulerStatus', () => {
  const xml = (settingsEnabled: string, bootEnabled: string) =>
    `<?xml version="1.0" encoding="UTF-16"?>\n<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n  <Triggers>\n    <BootTrigger>\n      <Enabled>${bootEnabled}</Enabled>\n    </BootTrigger>\n  </Triggers>\n  <Settings>\n    <IdleSettings>\n      <StopOnIdleEnd>false</StopOnIdleEnd>\n    </IdleSettings>\n    <Enabled>${settingsEnabled}</Enabled>\n  </Settings>\n</Task>\n`;

  it('reads installed / enabled from the XML and Running from the CSV', () => {
    expect(taskSchedulerStatus(undefined, undefined)).toEqual({ manager: 'task-scheduler', name: BOOT_SERVICE_TASK, installed: false, enabled: false, active: false });
    expect(taskSchedulerStatus(xml('true', 'true'), '"\\TwinSnap\\Daemon","N/A","Running"\r\n')).toEqual({
      manager: 'task-scheduler',
      name: BOOT_SERVICE_TASK,
      installed: true,
      enabled: true,
      active: true,
      state: 'Running',
    });
    expect(taskSchedulerStatus(xml('false', 'true'), '"\\TwinSnap\\Daemon","N/A","Disabled"')).toMatchObject({ installed: true, enabled: false, active: false });
    expect(taskSchedulerStatus(xml('true', 'false'), '"\\TwinSnap\\Daemon","N/A","Ready"')).toMatchObject({ installed: true, enabled: false, active: false, state: 'Ready' });
  });
});

describe('withDaemonLockEvidence', () => {
  const task = { manager: 'task-scheduler', name: BOOT_SERVICE_TASK, installed: true, enabled: true, active: false, state: 'Wird ausgeführt' } as const;
  const daemon = { pid: 812, host: 'pc', role: 'daemon', alive: true };

  it('a localised task status is running when its daemon holds the lock on this host', () => {
    expect(withDaemonLockEvidence(task, daemon, 'pc')).toEqual({ ...task, active: true, pid: 812 });
    expect(withDaemonLockEvidence(task, { ...daemon, role: 'app' }, 'pc')).toBe(task);
    expect(withDaemonLockEvidence(task, { ...daemon, alive: false }, 'pc')).toBe(task);
    expect(withDaemonLockEvidence(task, daemon, 'other-pc')).toBe(task);
    expect(withDaemonLockEvidence({ ...task, installed: false }, daemon, 'pc').active).toBe(false);
    // systemd answers for itself.
    const unit = { manager: 'systemd', name: BOOT_SERVICE_UNIT, installed: true, enabled: true, active: false } as const;
    expect(withDaemonLockEvidence(unit, daemon, 'pc')).toBe(unit);
  });
});

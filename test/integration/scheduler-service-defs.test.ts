import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/index.js';
import { servicePlan, systemdQuote, systemdUnit, TASK_NAME, windowsQuote, windowsTaskXml, type DaemonCommandLine } from '../../electron/cli/commands/service.js';
import { taskSchedulerStatus } from '../../electron/engine/scheduler/boot-service-query.js';

const tmp = mkdtempSync(join(tmpdir(), 'twinsnap-svc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Arguments with everything that needs escaping: spaces, quotes, backslashes, $ and %. */
const nasty: DaemonCommandLine = {
  executable: '/opt/Twin Snap/node',
  args: ['/opt/Twin Snap/bin/twinsnap.mjs', '--data-dir', '/var/lib/twin "snap" $HOME %h\\x', 'daemon'],
  workingDirectory: '/opt/Twin Snap',
};

function hasPython(): boolean {
  return spawnSync('python3', ['-c', 'print(1)']).status === 0;
}

describe('systemd unit', () => {
  const unit = systemdUnit(nasty, { user: 'backup' });

  it('has the sections and settings a boot service needs', () => {
    expect(unit).toMatch(/^\[Unit\]$/m);
    expect(unit).toMatch(/^\[Service\]\nType=simple$/m);
    expect(unit).toMatch(/^User=backup$/m);
    expect(unit).toMatch(/^WorkingDirectory=\/opt\/Twin Snap$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^TimeoutStopSec=900$/m);
    expect(unit).toMatch(/^\[Install\]\nWantedBy=multi-user.target$/m);
  });

  it.skipIf(!hasPython())('ExecStart splits back into exactly the argv (python shlex + systemd $$/%% rules as the oracle)', () => {
    const line = /^ExecStart=(.*)$/m.exec(unit)![1]!;
    const out = execFileSync('python3', ['-c', 'import shlex,sys,json; print(json.dumps(shlex.split(sys.argv[1])))', line], { encoding: 'utf8' });
    const argv = (JSON.parse(out) as string[]).map((w) => w.replace(/\$\$/g, '$').replace(/%%/g, '%'));
    expect(argv).toEqual([nasty.executable, ...nasty.args]);
  });

  it('passes systemd-analyze verify when systemd can load units here', () => {
    const dir = join(tmp, 'unit');
    const cmd: DaemonCommandLine = { executable: process.execPath, args: ['/tmp/x y/twinsnap.mjs', 'daemon'], workingDirectory: tmp };
    const file = join(tmp, 'twinsnap.service');
    writeFileSync(file, systemdUnit(cmd));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    if (r.error || /Failed to (initialize|setup|create)|not been booted|System has not been booted/i.test(r.stderr)) {
      console.warn(`systemd-analyze unavailable here, skipped: ${r.error?.message ?? r.stderr.split('\n')[0]}`);
      return;
    }
    const problems = r.stderr.split('\n').filter((l) => l.includes('twinsnap.service') && !/Command .* is not executable|No such file/.test(l));
    expect(problems, r.stderr).toEqual([]);
    void dir;
  });

  it('refuses control characters in an argument', () => {
    expect(() => systemdQuote('a\nb')).toThrow(/control character/);
  });

  it('install writes the unit, reloads, then enables --now; uninstall reverses it', () => {
    const plan = servicePlan('install', 'linux', nasty, { unitDir: '/etc/systemd/system', user: 'backup' });
    expect(plan.map((s) => ('write' in s ? `write ${s.write}` : 'run' in s ? s.run.join(' ') : `remove ${s.remove}`))).toEqual([
      'write /etc/systemd/system/twinsnap.service',
      'systemctl daemon-reload',
      'systemctl enable --now twinsnap.service',
    ]);
    expect(servicePlan('uninstall', 'linux', nasty).map((s) => ('run' in s ? s.run.join(' ') : 'remove' in s ? `remove ${s.remove}` : 'write'))).toEqual([
      'systemctl disable --now twinsnap.service',
      'remove /etc/systemd/system/twinsnap.service',
      'systemctl daemon-reload',
    ]);
  });
});

describe('Windows scheduled task', () => {
  const win: DaemonCommandLine = {
    executable: 'C:\\Program Files\\TwinSnap\\node.exe',
    args: ['C:\\Program Files\\TwinSnap\\bin\\twinsnap.mjs', '--data-dir', 'C:\\Data\\a "b" & <c>\\', 'daemon'],
    workingDirectory: 'C:\\Program Files\\TwinSnap',
  };

  function parse(xml: string) {
    const errors: string[] = [];
    const doc = new DOMParser({ onError: (level: string, msg: string) => void (level !== 'warning' && errors.push(msg)) } as never).parseFromString(xml, 'text/xml');
    expect(errors).toEqual([]);
    const text = (tag: string) => doc.getElementsByTagName(tag)[0]?.textContent ?? undefined;
    return { doc, text };
  }

  it('is well-formed XML in the task namespace that runs at boot, elevated, as SYSTEM, without a time limit', () => {
    const { doc, text } = parse(windowsTaskXml(win));
    expect(doc.documentElement!.tagName).toBe('Task');
    expect(doc.documentElement!.getAttribute('xmlns')).toBe('http://schemas.microsoft.com/windows/2004/02/mit/task');
    expect(doc.getElementsByTagName('BootTrigger').length).toBe(1);
    expect(text('RunLevel')).toBe('HighestAvailable');
    expect(text('UserId')).toBe('S-1-5-18');
    expect(text('ExecutionTimeLimit')).toBe('PT0S');
    expect(text('MultipleInstancesPolicy')).toBe('IgnoreNew');
    expect(text('DisallowStartIfOnBatteries')).toBe('false');
    expect(text('Command')).toBe(win.executable);
    expect(text('WorkingDirectory')).toBe(win.workingDirectory);
  });

  it('quotes Arguments so CommandLineToArgvW gives back the exact argv', () => {
    const { text } = parse(windowsTaskXml(win));
    expect(splitWindows(text('Arguments')!)).toEqual(win.args);
    for (const a of ['', 'plain', 'with space', 'tail\\', 'q"uote', 'both \\" and \\\\', 'C:\\dir with space\\']) expect(splitWindows(windowsQuote(a))).toEqual([a]);
  });

  it('runs as a named account with an S4U logon when asked', () => {
    const { text } = parse(windowsTaskXml(win, { runAs: 'HOST\\alice' }));
    expect(text('UserId')).toBe('HOST\\alice');
    expect(text('LogonType')).toBe('S4U');
    expect(text('RunLevel')).toBe('HighestAvailable');
  });

  it('install registers the UTF-16 XML with schtasks /Create /XML, then removes the temp file', () => {
    const taskFile = join(tmp, 'task.xml');
    const plan = servicePlan('install', 'win32', win, { taskFile });
    const w = plan[0] as { write: string; content: string; encoding: string };
    expect(w).toMatchObject({ write: taskFile, encoding: 'utf16le' });
    writeFileSync(taskFile, Buffer.from(w.content, 'utf16le'));
    const bytes = readFileSync(taskFile);
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]); // UTF-16LE BOM, as the XML declaration says
    parse(bytes.toString('utf16le').replace(/^\ufeff/, ''));
    expect((plan[1] as { run: string[] }).run).toEqual(['schtasks.exe', '/Create', '/TN', '\\TwinSnap\\Daemon', '/XML', taskFile, '/F']);
    expect(plan[2]).toEqual({ remove: taskFile });
  });

  it('the engine status query reads the task it registers as installed and starting at boot', () => {
    // What `schtasks /Query /XML` gives back is the registered definition (re-serialised).
    expect(taskSchedulerStatus(windowsTaskXml(win), undefined)).toMatchObject({ manager: 'task-scheduler', name: TASK_NAME, installed: true, enabled: true });
    expect(taskSchedulerStatus(windowsTaskXml(win).replace('<Enabled>true</Enabled>\n      <Delay>', '<Enabled>false</Enabled>\n      <Delay>'), undefined).enabled).toBe(false);
    expect(servicePlan('status', 'win32', win)).toEqual([{ run: ['schtasks.exe', '/Query', '/TN', TASK_NAME, '/XML'] }, { run: ['schtasks.exe', '/Query', '/TN', TASK_NAME, '/FO', 'CSV', '/NH'] }]);
    expect(servicePlan('status', 'linux', win)).toEqual([{ run: ['systemctl', 'show', 'twinsnap.service', '--property=LoadState,UnitFileState,ActiveState,SubState,MainPID'] }]);
  });
});

/** CommandLineToArgvW (the documented rules), as an independent re-implementation for the test. */
function splitWindows(cmd: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < cmd.length) {
    while (cmd[i] === ' ' || cmd[i] === '\t') i++;
    if (i >= cmd.length) break;
    let cur = '';
    let inQ = false;
    for (; i < cmd.length; i++) {
      const c = cmd[i]!;
      if (c === '\\') {
        let n = 0;
        while (cmd[i] === '\\') {
          n++;
          i++;
        }
        if (cmd[i] === '"') {
          cur += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) cur += '"';
          else inQ = !inQ;
        } else {
          cur += '\\'.repeat(n);
          i--;
        }
      } else if (c === '"') inQ = !inQ;
      else if ((c === ' ' || c === '\t') && !inQ) break;
      else cur += c;
    }
    out.push(cur);
  }
  return out;
}

describe.runIf(process.platform === 'linux')('twinsnap service status (the engine query, a fake systemctl on PATH)', () => {
  const bin = join(tmp, 'fake-bin');
  let savedPath: string | undefined;
  const answer = (props: string) => writeFileSync(join(bin, 'answer.txt'), props);

  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\ncat '${join(bin, 'answer.txt')}'\n`);
    chmodSync(join(bin, 'systemctl'), 0o755);
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}${delimiter}${savedPath ?? ''}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
  });

  async function status(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(['--data-dir', join(tmp, 'cli-data'), ...args, 'service', 'status'], {
      stdout: (x) => void (out += x),
      stderr: (x) => void (err += x),
      stdoutBytes: async () => {},
      isTTY: false,
    });
    return { code, out, err };
  }

  it('says not installed, with the install command, and reports the same as service.status in --json', async () => {
    answer('LoadState=not-found\nUnitFileState=\nActiveState=inactive\nSubState=dead\nMainPID=0\n');
    const text = await status();
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/^boot service twinsnap\.service: not installed — .*'twinsnap service install'/m);
    expect(text.out).toMatch(/^scheduler: not running$/m);
    const json = await status('--json');
    expect(JSON.parse(json.out)).toMatchObject({ platform: 'linux', owner: 'none', bootService: { manager: 'systemd', installed: false, enabled: false, active: false } });
  });

  it('installed, enabled and running: pid and state words', async () => {
    answer('LoadState=loaded\nUnitFileState=enabled\nActiveState=active\nSubState=running\nMainPID=812\n');
    const text = await status();
    expect(text.out).toMatch(/^boot service twinsnap\.service: installed, starts at boot, running now \(pid 812\) \[loaded \/ enabled \/ active \(running\)\]$/m);
  });
});

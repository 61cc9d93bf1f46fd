/**
 * `twinsnap daemon` end to end against vmrun-sim (real .vmx folder on QEMU TCG, a real Linux
 * guest): a schedule set through the CLI fires real twin backups — one catch-up of a run missed
 * while "the host was off" as soon as the daemon starts, then the next slot on time. Job history
 * comes back through `twinsnap jobs --json`, success notifications reach a local webhook
 * receiver, a second daemon on the same repository is refused by the lock, and SIGTERM stops the
 * daemon cleanly (lock released).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogPath, openCatalog } from '../../electron/engine/catalog/catalog.js';
import type { JobHistoryEntry } from '../../electron/cli/commands/jobs.js';
import { SCHEDULER_LOCK_FILE } from '../../electron/engine/scheduler/scheduler-lock.js';
import { run } from '../harness/guest/exec.js';
import { makeTestVm, type TestVm } from '../harness/guest/make-test-vm.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VMRUN = join(ROOT, 'test/harness/vmrun-sim/vmrun');
const WORK = join(ROOT, '.cache/scratch/scheduler-daemon');
const SIM_STATE = join(WORK, 'sim-state');
const DATA = join(WORK, 'data');
const VM_NAME = 'Sched VM';
const env = { ...process.env, VMRUN_SIM_STATE: SIM_STATE };

const simAvailable = existsSync(VMRUN) && spawnSync('qemu-system-x86_64', ['--version']).status === 0;
if (!simAvailable) console.warn('scheduler-daemon e2e skipped: vmrun-sim or qemu-system-x86_64 is not available');

let vm: TestVm;
let hookServer: Server;
let hookUrl = '';
const hooks: { severity: string; title: string; details?: { trigger?: string } }[] = [];

async function vmrun(...args: string[]): Promise<string> {
  const r = await run(VMRUN, ['-T', 'ws', ...args], { timeoutMs: 180_000, allowFailure: true, env });
  return `${r.stdout}${r.stderr}`;
}

async function waitFor(what: string, fn: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function cli(args: string[]): ChildProcess & { out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/twinsnap.mjs'), '--data-dir', DATA, '--vmrun', VMRUN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return Object.assign(child, { out: () => out, err: () => err, exit });
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

beforeAll(async () => {
  if (!simAvailable) return;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(SIM_STATE, { recursive: true });
  mkdirSync(DATA, { recursive: true });
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
  writeFileSync(join(DATA, 'config.json'), JSON.stringify({ version: 1, repository: join(DATA, 'repository'), maxConcurrentTwins: 1, notifications: { onSuccess: true, webhookUrl: hookUrl } }));
  vm = await makeTestVm(join(WORK, 'vms', VM_NAME), { name: VM_NAME, diskFormat: 'vmdk-flat' });
  await vmrun('start', vm.vmxPath, 'nogui');
  await waitFor('production tools', async () => (await vmrun('checkToolsState', vm.vmxPath)).includes('running'), 180_000);
}, 300_000);

afterAll(async () => {
  if (!simAvailable) return;
  for (const line of (await vmrun('list')).split('\n').slice(1)) if (line.trim()) await vmrun('stop', line.trim(), 'hard');
  await new Promise((r) => hookServer?.close(r));
});

describe('twinsnap daemon process (no hypervisor needed)', () => {
  it('--serve publishes its endpoint for the app (0600, token only there), refuses a second daemon, and cleans up on SIGTERM', async () => {
    const data = join(WORK, 'data-serve');
    rmSync(data, { recursive: true, force: true });
    mkdirSync(data, { recursive: true });
    const start = (args: string[]) => {
      const c = spawn(process.execPath, [join(ROOT, 'bin/twinsnap.mjs'), '--data-dir', data, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      c.stdout.on('data', (b: Buffer) => (out += b.toString()));
      c.stderr.on('data', (b: Buffer) => (err += b.toString()));
      return { c, out: () => out, err: () => err, exit: new Promise<number | null>((r) => c.once('exit', (code) => r(code))) };
    };
    const d = start(['daemon', '--serve']);
    try {
      await waitFor('the daemon to start', () => d.out().includes('twinsnap daemon running'), 60_000);
      const ep = JSON.parse(readFileSync(join(data, 'daemon.json'), 'utf8')) as { pid: number; url: string; token: string };
      expect(statSync(join(data, 'daemon.json')).mode & 0o777).toBe(0o600);
      expect(ep.pid).toBe(d.c.pid);
      expect(ep.url).toContain(encodeURIComponent(ep.token));
      expect(d.out()).not.toContain(ep.token);
      const lock = JSON.parse(readFileSync(join(data, 'repository', SCHEDULER_LOCK_FILE), 'utf8')) as { pid: number; endpoint: string };
      expect(lock).toMatchObject({ pid: d.c.pid, role: 'daemon', endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/) });
      const res = await fetch(ep.url);
      expect(res.status).toBeLessThan(500);
      const second = start(['daemon']);
      expect(await second.exit).toBe(1);
      expect(second.err()).toMatch(/another process already runs the scheduler of this repository \(pid \d+ on .*, daemon/);
    } finally {
      d.c.kill('SIGTERM');
    }
    expect(await d.exit, d.err()).toBe(0);
    expect(d.out()).toMatch(/twinsnap daemon stopped/);
    expect(existsSync(join(data, 'daemon.json'))).toBe(false);
    expect(existsSync(join(data, 'repository', SCHEDULER_LOCK_FILE))).toBe(false);
  }, 120_000);
});

describe.skipIf(!simAvailable)('twinsnap daemon against vmrun-sim', () => {
  it(
    'fires real scheduled backups (a catch-up at start, then on time), records them, notifies, and stops on SIGTERM',
    async () => {
      // A slot an hour ago (missed while "the host was off") and one a little ahead.
      const now = Date.now();
      const next = Math.ceil((now + 90_000) / 60_000) * 60_000;
      const set = cli(['--json', 'schedule', 'set', VM_NAME, '--times', `${hhmm(now - 3_600_000)},${hhmm(next)}`, '--tz', 'UTC']);
      expect(await set.exit, set.err()).toBe(0);
      const saved = JSON.parse(set.out()) as { guestId: string };
      expect(saved).toMatchObject({ guest: VM_NAME, guestId: expect.stringMatching(/^vmware:[0-9a-f]{32}$/), timeZone: 'UTC', schedule: { kind: 'times' } });
      // The schedule was set two hours ago as far as the scheduler's persisted state (keyed by guest id) knows.
      const cat = openCatalog(catalogPath(DATA), { now: () => Date.now() });
      cat.settings.set(`scheduler.state.${saved.guestId}`, { handledThrough: now - 2 * 3_600_000, since: now - 2 * 3_600_000 });
      cat.close();

      const daemon = cli(['daemon']);
      try {
        await waitFor('the daemon to start', () => daemon.out().includes('twinsnap daemon running'), 60_000);
        expect(existsSync(join(DATA, 'repository', SCHEDULER_LOCK_FILE))).toBe(true);

        // One scheduler per repository: a second daemon is refused while the first runs.
        const second = cli(['daemon']);
        expect(await second.exit).toBe(1);
        expect(second.err()).toMatch(/another process already runs the scheduler of this repository \(pid \d+/);

        const finished = () => (daemon.out().match(/backup of 'Sched VM' (succeeded|warning|failed|cancelled)/g) ?? []).length;
        await waitFor('the catch-up backup', () => finished() >= 1, 6 * 60_000);
        expect(daemon.out()).toMatch(/backup of 'Sched VM' started \(catch-up\)/);
        await waitFor('the on-time backup', () => finished() >= 2, Math.max(0, next - Date.now()) + 6 * 60_000);
        const succeeded = daemon.out().match(/backup of 'Sched VM' succeeded/g) ?? [];
        if (succeeded.length !== 2) {
          // Say why: the job logs of what did not succeed.
          const jobs = cli(['--json', 'jobs', '--guest', VM_NAME]);
          await jobs.exit;
          const logs = (JSON.parse(jobs.out() || '[]') as JobHistoryEntry[]).filter((j) => j.status !== 'succeeded').map((j) => ({ status: j.status, error: j.error, log: j.log }));
          expect.fail(`${daemon.out()}\n${JSON.stringify(logs, null, 1)}`);
        }
      } finally {
        daemon.kill('SIGTERM');
      }
      expect(await daemon.exit, daemon.err()).toBe(0);
      expect(daemon.out()).toMatch(/SIGTERM received: stopping the scheduler/);
      expect(daemon.out()).toMatch(/twinsnap daemon stopped/);
      expect(existsSync(join(DATA, 'repository', SCHEDULER_LOCK_FILE))).toBe(false);

      // Job history from the catalog: steps with durations, bytes, log lines.
      const jobs = cli(['--json', 'jobs', '--guest', VM_NAME]);
      expect(await jobs.exit, jobs.err()).toBe(0);
      const history = JSON.parse(jobs.out()) as JobHistoryEntry[];
      expect(history).toHaveLength(2);
      for (const j of history) {
        expect(j).toMatchObject({ kind: 'backup', guest: VM_NAME, status: 'succeeded' });
        expect(j.snapshotId).toBeTruthy();
        expect(j.steps.find((s) => s.id === 'archive')).toMatchObject({ status: 'done', durationMs: expect.any(Number) });
        expect(j.durationMs).toBeGreaterThan(0);
        expect(j.log.length).toBeGreaterThan(3);
      }

      // Success notifications were delivered to the webhook, the first one a catch-up.
      await waitFor('two webhook notifications', () => hooks.length >= 2, 30_000);
      expect(hooks.map((h) => [h.severity, h.title])).toEqual([
        ['success', `backup of '${VM_NAME}' succeeded`],
        ['success', `backup of '${VM_NAME}' succeeded`],
      ]);
      expect(hooks[0]!.details?.trigger).toBe('catch-up');
    },
    20 * 60_000,
  );
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_GUESTS, ROOT, setupDemo } from './demo.js';

// `npm run demo`'s set-up part (issue 17.9), short: the guest, the simulated VMs and a data folder
// whose config lists them; twinsnap — through the simulated vmrun — finds them as guests.
const dir = mkdtempSync(join(tmpdir(), 'twinsnap-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run demo (set-up)', () => {
  it('makes simulated VMs twinsnap finds through vmrun-sim, and is idempotent', async () => {
    const lines: string[] = [];
    const demo = await setupDemo({ dir, count: 2, start: false, say: (l) => lines.push(l) });
    expect(demo.vms.map((v) => v.vmxPath)).toEqual(DEMO_GUESTS.slice(0, 2).map((n) => join(dir, 'vms', n, `${n}.vmx`)));
    expect(JSON.parse(readFileSync(join(demo.dataDir, 'config.json'), 'utf8'))).toMatchObject({ vmFolders: [join(dir, 'vms')] });
    const guests = JSON.parse(
      execFileSync(process.execPath, [join(ROOT, 'bin', 'twinsnap.mjs'), '--data-dir', demo.dataDir, '--json', 'guests'], { env: demo.env, encoding: 'utf8', timeout: 120_000 }),
    ) as { name: string; hypervisor: string; state: string }[];
    expect(guests.map((g) => [g.name, g.hypervisor, g.state]).sort()).toEqual(
      DEMO_GUESTS.slice(0, 2)
        .map((n) => [n, 'vmware', 'off'])
        .sort(),
    );
    // a second run keeps what is there
    const again = await setupDemo({ dir, count: 2, start: false, say: (l) => lines.push(l) });
    expect(again.vms.map((v) => v.vmxPath)).toEqual(demo.vms.map((v) => v.vmxPath));
    expect(lines.filter((l) => l.startsWith('making VM'))).toHaveLength(2);
  }, 600_000);
});

/**
 * Manifests written before guest ids (no `guestId`) get the id their stored configuration gives
 * (electron/engine/repository/snapshot/stored-identity.ts): a VMware point its .vmx's
 * `uuid.bios` — the id the live VM has, whatever its name now — and a Hyper-V point the VM id
 * its exported .vmcx is named by; `name:<guest>` only when nothing identifies the VM, or when
 * one uuid was held by two .vmx files at once (a copy that kept it). An older catalog's rows and
 * the schedule kept under the name follow (sync and `catalog rebuild` alike).
 *
 * The points are written by the current repository code and then made old: `guestId` removed
 * from the manifest and its digest recomputed, as a version before guest ids wrote it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuestId } from '../../shared/domain/guest-id.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { catalogPath, openCatalog } from '../../electron/engine/catalog/catalog.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { initRepository, openRepository, toSummary, type ConfigFileInput } from '../../electron/engine/repository/repository.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';

const dir = mkdtempSync(join(tmpdir(), 'twinsnap-old-manifests-'));
const dataDir = join(dir, 'data');
const repoDir = join(dataDir, 'repository');
const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

const uuid = (b: number) => `56 4d ${b.toString(16).padStart(2, '0')} 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65`;
const hex = (b: number) => uuid(b).replace(/[\s-]/g, '');
const vmx = (name: string, bios: number, location: string): ConfigFileInput => ({
  name: 'production.vmx',
  data: `.encoding = "UTF-8"\ndisplayName = "${name}"\nuuid.location = "${location}"\nuuid.bios = "${uuid(bios)}"\nscsi0:0.fileName = "disk.vmdk"\n`,
});
const L1 = '56 4d 11 11 11 11 11 11-11 11 11 11 11 11 11 11';
const L2 = '56 4d 22 22 22 22 22 22-22 22 22 22 22 22 22 22';
const HV_ID = '0F8FAD5B-D9CB-469F-A165-70867728950E';

// name, configuration, day: what each old point was
const POINTS: [key: string, guest: string, config: ConfigFileInput[], day: number][] = [
  ['office-1', 'office', [vmx('office', 0x01, L1)], 0],
  ['office-2', 'office', [vmx('office', 0x01, L1)], 2],
  [
    'ledger',
    'Ledger',
    [
      { name: `${HV_ID}.vmcx`, data: Buffer.from([0xfe, 0xed, 1, 2]) },
      { name: `${HV_ID}.vmgs`, data: Buffer.from([0]) },
    ],
    1,
  ],
  ['cold', 'cold', [], 1],
  // moved: one uuid under two locations one after the other — one VM
  ['db-1', 'db', [vmx('db', 0x03, L1)], 0],
  ['db-2', 'db', [vmx('db', 0x03, L2)], 3],
  // copied with its uuid kept: two locations whose points interleave — two VMs, kept by name
  ['web-1', 'web', [vmx('web', 0x02, L1)], 0],
  ['web-copy', 'web copy', [vmx('web copy', 0x02, L2)], 1],
  ['web-2', 'web', [vmx('web', 0x02, L1)], 2],
];
const ids = new Map<string, string>();
const expected: Record<string, string> = {
  'office-1': `vmware:${hex(0x01)}`,
  'office-2': `vmware:${hex(0x01)}`,
  ledger: `hyperv:${HV_ID.toLowerCase()}`,
  cold: 'name:cold',
  'db-1': `vmware:${hex(0x03)}`,
  'db-2': `vmware:${hex(0x03)}`,
  'web-1': 'name:web',
  'web-copy': 'name:web copy',
  'web-2': 'name:web',
};

/** Removes `guestId` from a stored manifest (plain repository), recomputing its digest: a manifest of a version before guest ids. */
function makeOld(snapshotId: string): void {
  const file = join(repoDir, 'snapshots', snapshotId, 'manifest.json');
  const outer = JSON.parse(readFileSync(file, 'utf8')) as { manifest: Record<string, unknown>; digest: string };
  delete outer.manifest.guestId;
  outer.digest = createHash('sha256').update(JSON.stringify(outer.manifest)).digest('hex');
  writeFileSync(file, `${JSON.stringify(outer, null, 1)}\n`);
}

let engine: Engine;
const officeSchedule = { kind: 'times' as const, times: ['02:00'] };

beforeAll(async () => {
  const img = join(dir, 'disk.img');
  writeFileSync(img, Buffer.alloc(256 * 1024, 0x5a));
  const repo = await initRepository(repoDir, { workers: 1 });
  const disk = await RawFileDisk.open(img);
  try {
    for (const [key, guest, configFiles, day] of POINTS) {
      const s = await repo.createSnapshot({ guest, consistency: 'clean-twin', timeMs: T0 + day * DAY + ids.size * 1000, configFiles, disks: [{ name: 'disk0', disk, sourceFormat: 'raw' }] });
      makeOld(s.id);
      ids.set(key, s.id);
    }
  } finally {
    await disk.close();
    await repo.close();
  }
  // what a catalog of an older version holds after its migration to guest ids: office's points
  // and its schedule kept under name:office
  const cat = openCatalog(catalogPath(dataDir));
  const reopened = await openRepository(repoDir);
  for (const key of ['office-1', 'office-2']) cat.snapshots.upsert({ ...toSummary(await reopened.readManifest(ids.get(key)!)), guestId: 'name:office' as GuestId });
  await reopened.close();
  cat.schedules.set({ guestId: 'name:office' as GuestId, guest: 'office', schedule: officeSchedule });
  cat.close();

  // the live host: office, renamed since ("Office PC"), in another folder; nothing named office
  const hv = new ScriptedHypervisor({ memoryDir: dir });
  hv.addVm({ id: '/vms/office-pc/office.vmx', name: 'Office PC', uuidBios: uuid(0x01) });
  engine = await createEngine({ dataDir, hypervisors: [hv], logger: nullLogger });
}, 120_000);
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const listed = async () => Object.fromEntries((await engine.service.call('snapshots.list', {})).map((s) => [[...ids].find(([, id]) => id === s.id)![0], s.guestId]));

describe('manifests written before guest ids', () => {
  it("are listed under the id their stored configuration gives — the live VM's id for a VMware .vmx, the VM id for a Hyper-V .vmcx — and an older catalog's rows and schedule follow", async () => {
    // the catalog sync re-keys the older catalog's name:office rows and adopts the name
    expect(await listed()).toEqual(expected);
    const live = (await engine.service.call('guests.list', { refresh: true })).find((g) => g.name === 'Office PC')!;
    expect(live.id).toBe(`vmware:${hex(0x01)}`);
    expect((await engine.service.call('snapshots.list', { guest: live.id })).map((s) => s.id)).toEqual([ids.get('office-1'), ids.get('office-2')]);
    expect((await engine.service.call('schedules.list', {})).map((s) => [s.guestId, s.guest])).toEqual([[live.id, 'office']]);
  });

  it('catalog rebuild gives the same ids, and keeps the adoption', async () => {
    expect(await engine.service.call('catalog.rebuild', {})).toEqual({ snapshots: POINTS.length });
    expect(await listed()).toEqual(expected);
    expect((await engine.service.call('schedules.list', {})).map((s) => s.guestId)).toEqual([`vmware:${hex(0x01)}`]);
    // a name whose points recovered no single id is not adopted: the copy's and the original's points stay apart
    expect((await engine.service.call('snapshots.list', { guest: 'name:web' })).map((s) => s.id)).toEqual([ids.get('web-1'), ids.get('web-2')]);
  });
});

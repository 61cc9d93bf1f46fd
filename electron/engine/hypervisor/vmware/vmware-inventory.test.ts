import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverVmxPaths, registeredVmxPaths, scanForVmx } from './vmware-inventory.js';

describe('VMware inventory discovery', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsnap-inv-'));
    writeFileSync(
      join(dir, 'inventory.vmls'),
      ['.encoding = "UTF-8"', 'vmlist1.config = "C:\\VMs\\Acc\\Acc.vmx"', 'vmlist1.DisplayName = "Acc"', 'vmlist2.config = "folder1"', 'index0.field0.name = "x"', ''].join('\n'),
    );
    mkdirSync(join(dir, 'default', 'A b'), { recursive: true });
    writeFileSync(join(dir, 'default', 'A b', 'A b.vmx'), 'config.version = "8"\n');
    writeFileSync(join(dir, 'preferences'), `prefvmx.defaultvmpath = "${join(dir, 'default')}"\n`);
    mkdirSync(join(dir, 'user', 'x', 'y', 'z', 'too-deep'), { recursive: true });
    writeFileSync(join(dir, 'user', 'x', 'one.vmx'), '');
    writeFileSync(join(dir, 'user', 'x', 'y', 'z', 'too-deep', 'deep.vmx'), '');
    mkdirSync(join(dir, 'user', 'x', 'one.vmx.lck'));
    mkdirSync(join(dir, 'user', 'twinsnap-twin-abc'));
    writeFileSync(join(dir, 'user', 'twinsnap-twin-abc', 'twin.vmx'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads registered .vmx paths from inventory.vmls and ignores non-vmx entries', async () => {
    expect(await registeredVmxPaths([join(dir, 'inventory.vmls'), join(dir, 'missing.vmls')])).toEqual(['C:\\VMs\\Acc\\Acc.vmx']);
  });

  it('scans the preferences default folder and user folders, depth-limited, skipping lock folders and twins', async () => {
    const found = await discoverVmxPaths({ inventoryFiles: [join(dir, 'inventory.vmls')], preferencesFiles: [join(dir, 'preferences')], vmFolders: [join(dir, 'user')] });
    expect(found).toEqual(['C:\\VMs\\Acc\\Acc.vmx', join(dir, 'default', 'A b', 'A b.vmx'), join(dir, 'user', 'x', 'one.vmx')]);
    expect(await scanForVmx(join(dir, 'nonexistent'))).toEqual([]);
  });
});

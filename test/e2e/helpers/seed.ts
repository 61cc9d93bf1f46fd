import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './serve.js';

/**
 * Seeds a data folder with real restore points through the CLI (`twinsnap import-disk`, cold
 * snapshots of a small generated raw disk), so pages show engine-made data, not mocks.
 * `guests` lists one guest name per snapshot to create (repeat a name for several points).
 */
export function seedColdSnapshots(dataDir: string, guests: string[]): void {
  mkdirSync(dataDir, { recursive: true });
  const disk = join(dataDir, 'seed-disk.img');
  writeFileSync(disk, Buffer.alloc(0));
  const fd = openSync(disk, 'r+');
  writeSync(fd, Buffer.from('twinsnap e2e seed disk\n'), 0, 23, 1024 * 1024);
  writeSync(fd, Buffer.alloc(1), 0, 1, 4 * 1024 * 1024 - 1);
  closeSync(fd);
  for (const g of guests) {
    execFileSync(process.execPath, ['bin/twinsnap.mjs', '--data-dir', dataDir, '--json', 'import-disk', '--guest', g, disk], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 120_000 });
  }
}

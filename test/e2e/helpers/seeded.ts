import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect } from '@playwright/test';
import { seedColdSnapshots } from './seed.js';
import { startServe, type ServeHandle } from './serve.js';

/**
 * `seeded`: one `twinsnap serve` per worker over a data folder holding real restore points made
 * by the engine (cold imports: Mail ×2, Accounting ×1). Shared by the spec files of a worker;
 * tests that change data must not assume more than their own spec's order.
 */
export const test = base.extend<object, { seeded: ServeHandle }>({
  seeded: [
    async ({}, use) => {
      const dir = mkdtempSync(join(tmpdir(), 'twinsnap-e2e-seeded-'));
      seedColdSnapshots(dir, ['Mail', 'Mail', 'Accounting']);
      const s = await startServe({ dataDir: dir });
      await use(s);
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    { scope: 'worker', timeout: 180_000 },
  ],
});

export { expect };

import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayers } from '../../build/scripts/check-layers.mjs';
import { makeTempDir } from '../helpers/temp-dir.js';

const root = new URL('../..', import.meta.url).pathname;

/** A copy of shared/ + electron/ + renderer/ with one extra file. */
function treeWith(file: string, content: string): string {
  const dir = makeTempDir('twinsnap-layers-').path;
  for (const d of ['shared', 'electron', 'renderer']) cpSync(join(root, d), join(dir, d), { recursive: true, filter: (p) => !p.includes('node_modules') });
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), content);
  return dir;
}

describe('layering rules', () => {
  it('pass on the project as it is', () => {
    expect(checkLayers(root)).toEqual([]);
  });

  it.each([
    ['electron/engine/disk/bad.ts', "import { app } from 'electron';", /may not import 'electron'/],
    ['electron/engine/disk/bad.ts', "import { spawn } from 'node:child_process';", /only electron\/engine\/exec may spawn/],
    ['electron/engine/repository/bad.ts', "import Database from 'better-sqlite3';", /only electron\/engine\/catalog/],
    ['electron/engine/disk/bad.ts', "import { x } from '../repository/repository.js';", /may not import engine\/repository/],
    ['renderer/src/bad.ts', "import { readFileSync } from 'node:fs';", /no Node built-ins/],
    ['renderer/src/bad.ts', "import { createEngine } from '../../electron/engine/engine.js';", /may import only renderer\/ and shared\//],
    ['shared/bad.ts', "import { join } from 'node:path';", /environment-free/],
    ['shared/bad.ts', "import { x } from '../electron/engine/engine.js';", /may import only shared/],
    // the faces reach the engine only through its entry (the contract and the Engine's members)
    ['electron/cli/commands/bad.ts', "import { JobManager } from '../../engine/workflow/job-manager.js';", /electron\/cli may import only electron\/engine\/engine\.ts from the engine/],
    ['electron/cli/commands/bad.ts', "import { backupReport } from '../../engine/service/job-handlers.js';", /electron\/cli may import only electron\/engine\/engine\.ts/],
    ['electron/server/bad.ts', "import { diskInfo } from '../engine/disk/disk-info.js';", /electron\/server may import only electron\/engine\/engine\.ts/],
    ['electron/cli/commands/bad.ts', "import type { Engine } from '../../engine/engine.js';\nexport const jobs = (engine: Engine) => engine.context.jobs.manager;", /uses the engine's composed parts/],
    // the scheduler and notify declare ports; the service plugs the workflow into them
    ['electron/engine/scheduler/bad.ts', "import { JobManager } from '../workflow/job-manager.js';", /engine\/scheduler may not import engine\/workflow/],
    ['electron/engine/service/bad.ts', "import { RepoLayout } from '../repository/layout.js';", /may import only electron\/engine\/repository\/repository\.ts from engine\/repository/],
  ])('fail when %s has `%s`', (file, content, message) => {
    const v = checkLayers(treeWith(file, content));
    expect(v).toHaveLength(1);
    expect(v[0]).toMatch(message);
  });
});

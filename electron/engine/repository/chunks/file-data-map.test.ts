import { closeSync, mkdirSync, openSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileDataMap, parseFilefrag } from './file-data-map.js';

const MiB = 1024 * 1024;
const dir = join(process.cwd(), '.cache', `file-data-map-${process.pid}`);
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fileDataMap', () => {
  it.runIf(process.platform === 'linux')('finds the written ranges of a sparse file and nothing in its holes', async () => {
    const f = join(dir, 'sparse.img');
    const fd = openSync(f, 'w');
    const written = [0, 5 * MiB + 4096, 9 * MiB - 4096];
    for (const off of written) writeSync(fd, randomBytes(4096), 0, 4096, off);
    ftruncateSync(fd, 16 * MiB);
    closeSync(fd);
    const map = await fileDataMap(f, 16 * MiB);
    if (!map) return; // a file system without FIEMAP here: the caller reads everything (tested below)
    for (const off of written) expect(map.some((r) => r.offset <= off && off + 4096 <= r.offset + r.length)).toBe(true);
    const covered = map.reduce((a, r) => a + r.length, 0);
    expect(covered).toBeLessThan(2 * MiB); // the 16 MiB file is mostly holes
  });

  it('is undefined for a file it cannot map (missing file, size mismatch)', async () => {
    expect(await fileDataMap(join(dir, 'missing.img'), 4096)).toBeUndefined();
    const f = join(dir, 'small.img');
    const fd = openSync(f, 'w');
    writeSync(fd, randomBytes(8192));
    closeSync(fd);
    expect(await fileDataMap(f, 4096)).toBeUndefined();
  });
});

describe('parseFilefrag', () => {
  const out = [
    'Filesystem type is: ef53',
    'File size of /x.img is 8388608 (2048 blocks of 4096 bytes)',
    ' ext:     logical_offset:        physical_offset: length:   expected: flags:',
    '   0:        0..     255:    1000..    1255:    256:            ',
    '   1:      256..     511:    2000..    2255:    256:       1256:',
    '   2:     1024..    1039:    3000..    3015:     16:       2256: last,eof',
    '/x.img: 3 extents found',
  ];
  it('merges adjacent extents into byte ranges', () => {
    expect(parseFilefrag(out.join('\n'), 8 * MiB)).toEqual([
      { offset: 0, length: 2 * MiB },
      { offset: 4 * MiB, length: 16 * 4096 },
    ]);
  });
  it('rejects output it cannot trust: a missing head (truncated), a missing last extent, another size', () => {
    expect(parseFilefrag([...out.slice(0, 3), ...out.slice(4)].join('\n'), 8 * MiB)).toBeUndefined();
    expect(parseFilefrag([...out.slice(0, 5), out[6]].join('\n'), 8 * MiB)).toBeUndefined();
    expect(parseFilefrag(out.join('\n'), 4 * MiB)).toBeUndefined();
    expect(parseFilefrag(out.slice(0, 6).join('\n'), 8 * MiB)).toBeUndefined();
  });
  it('accepts a file that is all hole', () => {
    expect(parseFilefrag([out[0], out[1], '/x.img: 0 extents found'].join('\n'), 8 * MiB)).toEqual([]);
  });
});

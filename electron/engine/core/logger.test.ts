import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';
import { createFileLogger } from './logger.js';

describe('createFileLogger', () => {
  it('writes one JSON object per line with child fields', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'twinsnap-log-')), 'engine.log');
    createFileLogger({ file, clock: systemClock }).child({ job: 'j1' }).info('step done', { step: 'freeze' });
    const rec = JSON.parse(readFileSync(file, 'utf8').trim());
    expect(rec).toMatchObject({ level: 'info', msg: 'step done', job: 'j1', step: 'freeze' });
  });

  it('rotates by size and keeps a bounded number of files', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'twinsnap-log-')), 'engine.log');
    const log = createFileLogger({ file, clock: systemClock, maxBytes: 1000, keep: 2 });
    for (let i = 0; i < 200; i++) log.info('x'.repeat(50), { i });
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(readFileSync(file, 'utf8').length).toBeLessThanOrEqual(1000);
    const last = readFileSync(file, 'utf8').trim().split('\n').pop()!;
    expect(JSON.parse(last).i).toBe(199);
  });
});

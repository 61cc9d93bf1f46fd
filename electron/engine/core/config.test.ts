import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../shared/errors/app-error.js';
import { loadConfig } from './config.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'twinsnap-config-'));

describe('loadConfig', () => {
  it('creates a config with a default repository inside the data folder on first run', () => {
    const dir = tmp();
    const cfg = loadConfig(dir);
    expect(cfg.repository).toBe(join(dir, 'repository'));
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).version).toBe(1);
    expect(cfg.scheduler).toEqual({ maintenanceAt: '03:30', catchUpGraceHours: 24 });
  });

  it('reads the scheduler keys an admin sets and fills the missing one', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'config.json'), '{"version":1,"repository":"/r","scheduler":{"maintenanceAt":"01:15"}}');
    expect(loadConfig(dir).scheduler).toEqual({ maintenanceAt: '01:15', catchUpGraceHours: 24 });
  });

  it.each([
    ['{ not json', /not valid JSON/, undefined],
    ['{"version":1,"repository":"/r","maxConcurrentTwins":"two"}', /field 'maxConcurrentTwins'/, 'maxConcurrentTwins'],
    ['{"version":1,"repository":"/r","notifications":{"webhookUrl":"not a url"}}', /field 'notifications.webhookUrl'/, 'notifications.webhookUrl'],
    ['{"version":1,"repository":"/r","scheduler":{"maintenanceAt":"25:00"}}', /field 'scheduler.maintenanceAt'.*24-hour/, 'scheduler.maintenanceAt'],
    ['{"version":1,"repository":"/r","scheduler":{"catchUpGraceHours":-1}}', /field 'scheduler.catchUpGraceHours'/, 'scheduler.catchUpGraceHours'],
    ['{"version":1,"repository":"/r","typo":true}', /field '\(root\)'|typo/, undefined],
  ])('rejects a malformed file naming the file and the field: %s', (text, msg, field) => {
    const dir = tmp();
    const file = join(dir, 'config.json');
    writeFileSync(file, text);
    let err: unknown;
    try {
      loadConfig(dir);
    } catch (e) {
      err = e;
    }
    expect(isAppError(err, 'CONFIG_INVALID')).toBe(true);
    const e = err as Error & { details: { file: string; field?: string } };
    expect(e.message).toContain(file);
    expect(e.message).toMatch(msg);
    if (field) expect(e.details.field).toBe(field);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});

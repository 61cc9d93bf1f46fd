import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/helpers/temp-dir.js';
import { main } from './index.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    stdoutBytes: async (b) => void (out += Buffer.from(b).toString()),
    isTTY: false,
  });
  return { code, out, err };
}

describe('twinsnap CLI', () => {
  it('lists its commands with --help and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['status', 'guests', 'serve']) expect(r.out).toContain(c);
  });

  it('prints its version', async () => {
    const r = await run(['--version']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on a usage error', async () => {
    expect((await run(['no-such-command'])).code).toBe(2);
    expect((await run(['serve', '--port', 'abc'])).code).toBe(2);
  });

  it('prints JSON with --json and exits 1 with a typed error on failure', async () => {
    const dir = makeTempDir();
    const ok = await run(['--data-dir', dir.path, 'status', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ dataDir: dir.path, repository: `${dir.path}/repository` });
    const bad = makeTempDir();
    writeFileSync(`${bad.path}/config.json`, '{"version":2}');
    const fail = await run(['--data-dir', bad.path, '--json', 'status']);
    expect(fail.code).toBe(1);
    expect(JSON.parse(fail.err).error.code).toBe('CONFIG_INVALID');
  });
});

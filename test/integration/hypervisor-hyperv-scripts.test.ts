/**
 * Every script the Hyper-V adapter can send — each operation with its prelude and wrapper, and the
 * one-line invocation exactly as written to PowerShell's stdin — is parsed by PowerShell's own
 * parser (pwsh 7), and its syntax tree is walked for what Windows PowerShell 5.1, the real
 * target, lacks (test/harness/hyperv-module/check-scripts.ps1; the list and its sources are in
 * that folder's README). One pwsh process checks them all. Known-bad samples, one per rule, prove
 * that each rule can fail.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeInvocation, scriptFor } from '../../electron/engine/hypervisor/hyperv/ps-invocation.js';
import { OPERATIONS, type HyperVOp } from '../../electron/engine/hypervisor/hyperv/scripts/operations.js';
import { findPwsh } from '../harness/hyperv-module/pwsh.mjs';

const CHECKER = resolve(import.meta.dirname, '../harness/hyperv-module/check-scripts.ps1');

/** One sample per rule of the 5.1 check: each must be flagged. */
const PS7_ONLY: Record<string, string> = {
  'pipeline chain': 'Get-Item x && Get-Item y',
  ternary: '$a = $b ? 1 : 2',
  'null-coalescing': '$a = $b ?? 1',
  'null-coalescing assignment': '$a ??= 1',
  'null-conditional': '${a}?.Name',
  'clean block': 'function f { process { } clean { } }',
  'ForEach-Object -Parallel': '1..3 | ForEach-Object -Parallel { $_ }',
  'ForEach-Object -Parallel by alias and prefix': '1..3 | % -Para { $_ }',
  'ConvertFrom-Json -AsHashtable': "'{}' | ConvertFrom-Json -AsHashtable",
  'ConvertFrom-Json -Depth': "'{}' | ConvertFrom-Json -Depth 3",
  'Join-String': '1, 2 | Join-String',
  'Get-Content -AsByteStream': 'Get-Content -AsByteStream x',
  'Join-Path -AdditionalChildPath': 'Join-Path a b -AdditionalChildPath c',
  $IsWindows: 'if ($IsWindows) { }',
  'numeric suffix': '$a = 5u',
  'unicode escape': '$a = "`u{2713}"',
  '.NET Core method': "[IO.Path]::GetRelativePath('a', 'b')",
};

describe('the Hyper-V scripts in PowerShell’s own parser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twinsnap-ps-parse-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every operation parses without error and uses nothing Windows PowerShell 5.1 lacks; each 5.1 rule flags its sample', () => {
    const pwsh = findPwsh();
    expect(pwsh, 'pwsh (PowerShell 7) is not installed: .ci/run installs it with `dotnet tool install --global PowerShell --version 7.6.10`').toBeDefined();
    const ops = Object.keys(OPERATIONS) as HyperVOp[];
    const items = [
      ...ops.map((op) => ({ name: `script ${op}`, text: scriptFor(op) })),
      // the line as sent: a hostile value must stay inside base64
      ...ops.map((op) => ({ name: `invocation ${op}`, text: encodeInvocation(op, { id: "x'; rm -rf / #", name: '$(calc) `n "q"' }) })),
      ...Object.entries(PS7_ONLY).map(([rule, text]) => ({ name: `sample ${rule}`, text })),
      { name: 'sample broken syntax', text: 'if ($a { }' },
    ];
    const input = join(dir, 'scripts.json');
    writeFileSync(input, JSON.stringify(items));
    const out = execFileSync(pwsh!, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', CHECKER, '-InputPath', input], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, TERM: 'dumb' } });
    const results = JSON.parse(out) as { name: string; parseErrors: string[]; ps51: string[] }[];
    expect(results.map((r) => r.name)).toEqual(items.map((i) => i.name));

    const scripts = results.filter((r) => !r.name.startsWith('sample '));
    expect(scripts.length).toBe(ops.length * 2);
    expect(scripts.filter((r) => r.parseErrors.length > 0 || r.ps51.length > 0)).toEqual([]);

    const samples = results.filter((r) => r.name.startsWith('sample '));
    expect(samples.filter((r) => r.name !== 'sample broken syntax' && (r.ps51.length === 0 || r.parseErrors.length > 0)).map((r) => r.name)).toEqual([]);
    expect(samples.find((r) => r.name === 'sample broken syntax')!.parseErrors.length).toBeGreaterThan(0);
  }, 120_000);
});

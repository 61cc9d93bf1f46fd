import { describe, it, expect } from 'vitest';
import { basename } from 'node:path';
import { readTranscripts } from '../fixtures/transcripts/read-transcript.js';
import { classifyPsOutcome, psError } from '../../electron/engine/hypervisor/hyperv/classify-ps-error.js';
import { decodeAnswer, encodeInvocation, scriptFor } from '../../electron/engine/hypervisor/hyperv/ps-invocation.js';
import { OPERATIONS, type HyperVOp } from '../../electron/engine/hypervisor/hyperv/scripts/operations.js';

const transcripts = readTranscripts('hyperv');

describe('classifyPsOutcome against recorded PowerShell transcripts', () => {
  it('has transcripts to check', () => {
    expect(transcripts.length).toBeGreaterThanOrEqual(20);
  });
  for (const t of transcripts) {
    it(`${basename(t.file)} → ${t.headers.expect}`, () => {
      const f = classifyPsOutcome({ answer: decodeAnswer(t.stdout), stderr: t.stderr, timedOut: t.headers.timedOut === 'true' });
      if (t.headers.expect === 'OK') expect(f).toBeUndefined();
      else expect({ code: f?.code, reason: f?.reason }).toEqual({ code: t.headers.expect, reason: t.headers.reason });
    });
  }

  it('words the error for the user, without TwinSnap-internal markers', () => {
    const t = transcripts.find((x) => basename(x.file) === 'shutdown-ic-unavailable-twinsnap.txt')!;
    const e = psError(classifyPsOutcome({ answer: decodeAnswer(t.stdout), stderr: '', timedOut: false })!, 'shut down twin', 'Accounting');
    expect(e.message).toMatch(/^unable to shut down twin vm 'Accounting': the shutdown integration service is not running/);
    expect(e.details?.toolMessage).not.toMatch(/TWINSNAP:/);
  });
});

describe('PowerShell invocation encoding', () => {
  const hostile = `a'; rm -rf / #$(touch /tmp/pwned) \`x\` \u2018q\u2019 "d"`;

  it('sends one line of base64 only: no value can reach the PowerShell parser', () => {
    const line = encodeInvocation('build-twin', { twinName: hostile });
    expect(line).not.toMatch(/\n/);
    expect(line).toMatch(/^& \(\[ScriptBlock\]::Create\(\[Text\.Encoding\]::UTF8\.GetString\(\[Convert\]::FromBase64String\('[A-Za-z0-9+/=]+'\)\)\)\) '[A-Za-z0-9+/=]+'$/);
    const args = /'([A-Za-z0-9+/=]+)'$/.exec(line)![1]!;
    expect(JSON.parse(Buffer.from(args, 'base64').toString('utf8'))).toEqual({ twinName: hostile });
  });

  for (const op of Object.keys(OPERATIONS) as HyperVOp[]) {
    it(`script '${op}' carries its marker, module-qualifies Hyper-V cmdlets and never uses -Name lookups or a silent -Force stop`, () => {
      const s = scriptFor(op);
      expect(s.split('\n')[0]).toBe(`# twinsnap-op: ${op}`);
      const cmdlets = [...s.matchAll(/(?<![\w\\-])((?:Get|Set|Start|Stop|Remove|Export|Import|Compare|Rename|Checkpoint|Disconnect|Resume)-VM\w*)/g)].map((m) => m[1]);
      expect(cmdlets).toEqual([]); // every VM cmdlet is written Hyper-V\<Verb>-VM…
      expect(s).not.toMatch(/Get-VM\s+-Name/);
      // -Force on Stop-VM only together with an explicit -TurnOff (a deliberate power-off)
      for (const m of s.matchAll(/Stop-VM[^\n]*/g)) if (/-Force/.test(m[0])) expect(m[0]).toMatch(/-TurnOff/);
      expect(s).toMatch(/ConvertFrom-Json/);
      // arrays returned by functions are unrolled by PowerShell; every use must re-wrap them
      expect(s).not.toMatch(/=\s*\(TS-(Disks|Ics)\b/);
      expect(s).toMatch(/disks = @\(TS-Disks/);
    });
  }
});

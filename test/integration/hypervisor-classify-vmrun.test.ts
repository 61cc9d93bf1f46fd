import { describe, it, expect } from 'vitest';
import { basename } from 'node:path';
import { readTranscripts } from '../fixtures/transcripts/read-transcript.js';
import { classifyVmrunOutcome, vmrunError } from '../../electron/engine/hypervisor/vmware/classify-vmrun-error.js';

const transcripts = readTranscripts('vmrun');

describe('classifyVmrunOutcome against recorded vmrun transcripts', () => {
  it('has transcripts to check', () => {
    expect(transcripts.length).toBeGreaterThanOrEqual(20);
  });
  for (const t of transcripts) {
    it(`${basename(t.file)} → ${t.headers.expect}`, () => {
      const exit = t.headers.exit === 'null' ? null : Number(t.headers.exit);
      const f = classifyVmrunOutcome({ exitCode: exit, stdout: t.stdout, stderr: t.stderr, timedOut: t.headers.timedOut === 'true' });
      if (t.headers.expect === 'OK') {
        expect(f).toBeUndefined();
      } else {
        expect({ code: f?.code, reason: f?.reason }).toEqual({ code: t.headers.expect, reason: t.headers.reason });
      }
    });
  }
});

describe('vmrunError', () => {
  it('builds a lowercase actionable message that names the action and the vm', () => {
    const f = classifyVmrunOutcome({ exitCode: 255, stdout: 'Error: The VMware Tools are not running in the virtual machine: /x.vmx\n', stderr: '', timedOut: false })!;
    const e = vmrunError(f, 'shut down', 'Accounting');
    expect(e.code).toBe('HV_TOOLS_NOT_RUNNING');
    expect(e.message).toMatch(/^unable to shut down vm 'Accounting': vmware tools are not running/);
    expect(e.details).toMatchObject({ reason: 'tools-not-running' });
  });
});

import { describe, expect, it } from 'vitest';
import { AppError } from './app-error.js';
import { ERROR_CODES, ERROR_KINDS } from './error-codes.js';
import { fromSerializedError, toSerializedError } from './serialize.js';

describe('error serialisation', () => {
  it('round-trips an AppError with details and a cause chain', () => {
    const inner = new AppError('HV_COMMAND_TIMEOUT', 'vmrun timed out after 120 s', { details: { tool: 'vmrun' } });
    const outer = new AppError('PREFLIGHT_FAILED', "unable to suspend vm 'Accounting': vmrun timed out", { cause: inner });
    const back = fromSerializedError(JSON.parse(JSON.stringify(toSerializedError(outer))));
    expect({ code: back.code, message: back.message, kind: back.kind, cause: (back.cause as AppError).code, details: (back.cause as AppError).details }).toEqual({
      code: 'PREFLIGHT_FAILED',
      message: "unable to suspend vm 'Accounting': vmrun timed out",
      kind: 'environment',
      cause: 'HV_COMMAND_TIMEOUT',
      details: { tool: 'vmrun' },
    });
  });

  it('turns foreign errors into INTERNAL and unknown peer codes into INTERNAL', () => {
    expect(toSerializedError(new TypeError('x is undefined')).code).toBe('INTERNAL');
    expect(fromSerializedError({ code: 'NO_SUCH_CODE', message: 'm' }).code).toBe('INTERNAL');
    expect(fromSerializedError('garbage').code).toBe('INTERNAL');
  });

  it('bounds the depth of cyclic cause chains', () => {
    const a = new AppError('INTERNAL', 'a');
    (a as { cause?: unknown }).cause = a;
    let s = toSerializedError(a);
    let depth = 0;
    while (s.cause) {
      s = s.cause;
      depth++;
    }
    expect(depth).toBeLessThanOrEqual(8);
  });

  it('gives every registered code a known kind and UPPER_SNAKE name', () => {
    for (const [code, meta] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(ERROR_KINDS).toContain(meta.kind);
    }
  });
});

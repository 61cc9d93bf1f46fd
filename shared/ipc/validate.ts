import { AppError } from '../errors/app-error.js';
import { requestSchemas, type EngineMethod, type Req } from './schemas.js';

/** True when `m` names an engine method. */
export function isEngineMethod(m: unknown): m is EngineMethod {
  return typeof m === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, m);
}

/**
 * Validates a request for `method`; throws UNKNOWN_METHOD or INVALID_REQUEST (with the field
 * path of each problem) otherwise. Returns the parsed request.
 */
export function validateRequest(method: unknown, req: unknown): { method: EngineMethod; req: Req<EngineMethod> } {
  if (!isEngineMethod(method)) {
    throw new AppError('UNKNOWN_METHOD', `unknown method '${String(method).slice(0, 100)}'`);
  }
  const parsed = requestSchemas[method].safeParse(req ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const first = issues[0];
    throw new AppError('INVALID_REQUEST', `invalid request for '${method}': ${first ? `${first.path || '(root)'}: ${first.message}` : 'rejected'}`, { details: { issues } });
  }
  return { method, req: parsed.data as Req<EngineMethod> };
}

import { AppError } from '../../../shared/errors/app-error.js';
import type { EngineClient, Res } from '../../../shared/ipc/contract.js';
import { requestSchemas, type EngineMethod, type Req } from '../../../shared/ipc/schemas.js';
import { validateRequest } from '../../../shared/ipc/validate.js';
import type { EngineContext } from './engine-context.js';
import type { HandlerFactory } from './handlers.js';

/**
 * EngineService implements the whole contract by composing the handler slices of each area.
 * `call()` is what every transport uses: it validates the request, then dispatches.
 */
export class EngineService {
  private readonly impl: Partial<EngineClient> = {};

  constructor(ctx: EngineContext, factories: HandlerFactory[]) {
    for (const f of factories) {
      const slice = f(ctx);
      for (const [k, fn] of Object.entries(slice)) {
        if (k in this.impl) throw new Error(`engine method '${k}' is implemented twice`);
        (this.impl as Record<string, unknown>)[k] = fn;
      }
    }
  }

  /** Methods that have an implementation. */
  implementedMethods(): string[] {
    return Object.keys(this.impl);
  }

  /** Validates `req` against the method's schema and runs it. Throws AppError. */
  async call<M extends EngineMethod>(method: M | string, req: unknown): Promise<Res<M>> {
    const v = validateRequest(method, req);
    const fn = this.impl[v.method] as ((r: Req<M>) => Promise<Res<M>>) | undefined;
    if (!fn) throw new AppError('NOT_IMPLEMENTED', `'${v.method}' is not available in this version`);
    return fn(v.req as Req<M>);
  }

  /** A typed client calling this service in process (the CLI uses it). */
  client(): EngineClient {
    const c = {} as Record<string, (r: unknown) => Promise<unknown>>;
    for (const m of Object.keys(requestSchemas)) c[m] = (r) => this.call(m, r);
    return c as unknown as EngineClient;
  }
}

import { useMemo, type ReactNode } from 'react';
import type { EngineClient } from '../../../../shared/ipc/contract.js';
import { ServicesContext, useServices } from '../../stores/hooks.js';

/** The file calls that take a `source`. */
const FILE_METHODS = new Set<string>(['files.list', 'files.find', 'files.read', 'files.restore']);

/** An engine client whose file calls read the offsite copy (`source: 'offsite'`); every other call is the engine's own. */
export function offsiteFilesClient(engine: EngineClient): EngineClient {
  return new Proxy(engine, {
    get(target, prop, receiver) {
      const real = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !FILE_METHODS.has(prop) || typeof real !== 'function') return real;
      return (req: object) => (real as (r: object) => Promise<unknown>).call(target, { ...req, source: 'offsite' });
    },
  });
}

/**
 * Children (the file browser, its preview, download and restore dialog) read files from the
 * offsite copy instead of the local repository, unchanged: their engine calls carry `source`.
 */
export function OffsiteFiles({ children }: { children: ReactNode }) {
  const services = useServices();
  const value = useMemo(() => ({ ...services, engine: offsiteFilesClient(services.engine) }), [services]);
  return <ServicesContext.Provider value={value}>{children}</ServicesContext.Provider>;
}

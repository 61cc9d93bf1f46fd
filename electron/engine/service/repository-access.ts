/**
 * Accessors for the engine's single catalog and repository instances, shared by every handler
 * slice (repository, workflow, scheduler, files). Each opens on first use and closes with the
 * engine.
 */
import { catalogPath, openCatalog, type Catalog } from '../catalog/catalog.js';
import type { EngineContext } from './engine-context.js';

/** The engine's catalog (`<dataDir>/catalog.sqlite`), opened once. */
export function getCatalog(ctx: EngineContext): Catalog {
  return ctx.lazy('catalog', () => {
    const cat = openCatalog(catalogPath(ctx.dataDir), { now: () => ctx.clock.now() });
    ctx.onClose(() => cat.close());
    return cat;
  });
}

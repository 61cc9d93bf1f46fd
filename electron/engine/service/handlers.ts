import type { EngineClient } from '../../../shared/ipc/contract.js';
import type { EngineContext } from './engine-context.js';

/** A slice of the contract implemented by one area (repository, files, jobs…). */
export type HandlerSlice = Partial<EngineClient>;
/** Builds a slice from the engine context. */
export type HandlerFactory = (ctx: EngineContext) => HandlerSlice;

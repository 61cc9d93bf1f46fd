/** Returns the layering violations under `root` (empty when clean). */
export function checkLayers(root: string): string[];
export const ENGINE_RANKS: Record<string, number>;

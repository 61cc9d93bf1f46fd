/** Page size the alignment is good for (any 4 KiB-aligned offset inside the buffer stays aligned). */
export const PAGE = 4096;

/** The one WebAssembly API used here (the node project's types don't declare the global). */
interface WasmMemoryCtor {
  new (d: { initial: number; maximum: number }): { buffer: ArrayBuffer };
}

/**
 * A Buffer of `bytes` whose first byte is page-aligned, for bulk file I/O buffers.
 *
 * Why: `Buffer.allocUnsafe` of a large size comes from malloc, whose big blocks start 16 bytes
 * past a page boundary. The kernel then copies between the page cache and a buffer that is
 * misaligned with it, which measured about 3x the CPU of an aligned copy for reads on the CI
 * box (AMD EPYC; `rep movsb` dislikes mutually misaligned source and destination). WebAssembly
 * memory is page-aligned by construction, so the buffer is a view over one. Falls back to a
 * plain allocation if the runtime refuses (address-space limits).
 */
export function alignedBuffer(bytes: number): Buffer {
  if (bytes <= 0) return Buffer.alloc(0);
  const pages = Math.ceil(bytes / 65536);
  try {
    const Memory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryCtor } }).WebAssembly.Memory;
    const mem = new Memory({ initial: pages, maximum: pages });
    return Buffer.from(mem.buffer, 0, bytes);
  } catch {
    return Buffer.allocUnsafe(bytes);
  }
}

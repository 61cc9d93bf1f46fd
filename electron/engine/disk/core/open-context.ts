import type { PathResolver, VirtualDisk } from '../virtual-disk.js';
import type { SourceOpener } from './file-source.js';

/** What a format reader needs to open the other files of a chain. */
export interface OpenContext {
  resolver: PathResolver;
  /** Opens the parent `ref` (as written in `from`) as a whole disk, with cycle and depth checks. */
  openParent(ref: string, from: string): Promise<VirtualDisk>;
  /** Opens extent files. */
  openSource: SourceOpener;
}

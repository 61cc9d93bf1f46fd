/** One line of `npm run bench`: our figure beside the named peer's, measured in the same run. */
export interface BenchRow {
  /** Area: disk, repository, fs, twin, ui. */
  area: string;
  /** What was measured, e.g. "convert 2 GiB sparse VMDK → raw". */
  name: string;
  /** Our value and its unit (e.g. seconds, MB/s, ms, MB). */
  ours: number;
  unit: string;
  /** The peer's value in the same unit, when there is a peer. */
  peer?: number;
  peerName?: string;
  /** ours/peer or peer/ours as stated in `ratioMeaning`; higher-is-better is stated there. */
  ratio?: number;
  ratioMeaning?: string;
  /** The goal from the issue and whether it was met. */
  goal?: string;
  met?: boolean;
  note?: string;
}

/** A bench module exports `bench()`; test/bench/run.ts runs them all and prints a table. */
export type BenchFn = (opts: { scratch: string; quick: boolean }) => Promise<BenchRow[]>;

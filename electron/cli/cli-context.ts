import type { Command } from 'commander';
import { AppError } from '../../shared/errors/app-error.js';
import { createEngine, type Engine, type EngineOptions } from '../engine/engine.js';
import { terminalSafeDeep } from './terminal-text.js';
import { givenPassword, promptSecret } from './password.js';

/** Where the CLI writes (tests pass buffers). */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Raw bytes to stdout (`cat`). */
  stdoutBytes: (b: Uint8Array) => Promise<void>;
  isTTY: boolean;
}

/** Global options every command sees. */
export interface GlobalOptions {
  repo?: string;
  dataDir?: string;
  json?: boolean;
  vmrun?: string;
  powershell?: string;
  s3Endpoint?: string;
  passwordFile?: string;
}

/** What command modules get: the engine (opened on demand), output helpers, global options. */
export interface CliContext {
  io: CliIo;
  globals(): GlobalOptions;
  /**
   * Opens the engine once per invocation (closed by the CLI runner); `tuning` (the daemon's
   * `--catch-up-grace`) applies when this call opens it.
   */
  engine(tuning?: Pick<EngineOptions, 'catchUpGraceMs'>): Promise<Engine>;
  /** Prints `data` as JSON with --json, else `human(data)` (if given) or pretty JSON. */
  print<T>(data: T, human?: (d: T) => string): void;
  /** Throws a usage error (exit code 2). */
  usage(message: string): never;
}

/** A module that adds commands to the program. */
export type CommandModule = (program: Command, ctx: CliContext) => void;

/** Creates the context; `close()` releases the engine. */
export function createCliContext(io: CliIo, getGlobals: () => GlobalOptions): CliContext & { close(): Promise<void> } {
  let engine: Promise<Engine> | undefined;
  return {
    io,
    globals: getGlobals,
    engine: (tuning) => {
      if (!engine) {
        const g = getGlobals();
        engine = createEngine({
          dataDir: g.dataDir,
          repository: g.repo ?? process.env.TWINSNAP_REPO,
          vmrunPath: g.vmrun,
          powershellPath: g.powershell,
          s3Endpoint: g.s3Endpoint,
          ...tuning,
          repositoryPassword: async () => givenPassword(g.passwordFile),
          repositoryPasswordPrompt: () => promptSecret('repository password: '),
        });
      }
      return engine;
    },
    print(data, human) {
      if (getGlobals().json) io.stdout(`${JSON.stringify(data, null, 2)}\n`);
      // every string of the data is shown with its control characters escaped (guest and file
      // names must not drive the terminal or forge lines); --json stays exact
      else io.stdout(`${human ? human(terminalSafeDeep(data)) : JSON.stringify(terminalSafeDeep(data), null, 2)}\n`);
    },
    usage(message) {
      throw new AppError('USAGE', message);
    },
    async close() {
      if (!engine) return;
      const e = await engine.catch(() => undefined);
      await e?.close().catch(() => {});
    },
  };
}

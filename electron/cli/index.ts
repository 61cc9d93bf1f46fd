import { Command, CommanderError, Option } from 'commander';
import { isAppError } from '../../shared/errors/app-error.js';
import { toSerializedError } from '../../shared/errors/serialize.js';
import { engineVersion } from '../engine/engine.js';
import { createCliContext, type CliIo, type GlobalOptions } from './cli-context.js';
import { commandModules } from './commands/all-commands.js';
import { terminalSafe } from './terminal-text.js';

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const defaultIo: CliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  stdoutBytes: (b) => new Promise((resolve, reject) => process.stdout.write(b, (e) => (e ? reject(e) : resolve()))),
  isTTY: Boolean(process.stdout.isTTY),
};

/** Builds the commander program with every command module registered. */
export function buildProgram(ctx: ReturnType<typeof createCliContext>, io: CliIo): Command {
  const program = new Command('twinsnap')
    .description('Application-consistent backups of running Hyper-V and VMware Workstation VMs (twin technique)')
    .version(engineVersion(), '-V, --version')
    .addOption(new Option('--repo <dir>', 'repository folder, or s3://BUCKET/PREFIX to read an offsite copy (default: the one in the app data folder; env TWINSNAP_REPO)'))
    .addOption(new Option('--s3-endpoint <url>', 'S3 endpoint of s3:// repositories and offsite copies (env TWINSNAP_S3_ENDPOINT; default AWS)'))
    .addOption(new Option('--data-dir <dir>', 'app data folder (env TWINSNAP_DATA_DIR)'))
    .addOption(new Option('--json', 'print machine-readable JSON'))
    .addOption(new Option('--vmrun <path>', 'vmrun executable (env TWINSNAP_VMRUN)'))
    .addOption(new Option('--powershell <path>', 'PowerShell executable (env TWINSNAP_POWERSHELL)'))
    .addOption(new Option('--password-file <file>', "password of an encrypted repository: the file's first line; owner-only (env TWINSNAP_PASSWORD; else asked on a terminal)"))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  program.enablePositionalOptions(false);
  for (const m of commandModules) m(program, ctx);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const ref: { program?: Command } = {};
  const ctx = createCliContext(io, () => (ref.program?.opts() ?? {}) as GlobalOptions);
  const program = buildProgram(ctx, io);
  ref.program = program;
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (isAppError(e, 'USAGE')) {
      io.stderr(`error: ${terminalSafe(e.message)}\n`);
      return EXIT.usage;
    }
    const s = toSerializedError(e);
    if ((program.opts() as GlobalOptions).json) io.stderr(`${JSON.stringify({ error: s })}\n`);
    else io.stderr(`error: ${terminalSafe(s.message)}${isAppError(e) ? ` [${s.code}]` : ''}\n`);
    return EXIT.failure;
  } finally {
    await ctx.close();
  }
}

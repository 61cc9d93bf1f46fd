// The stdin protocol of `powershell -Command -` as node-powershell v5 uses it: every line is one
// statement. node-powershell frames each call with `[Console]::Error.WriteLine("<delim>")` and
// `[Console]::Out.WriteLine("<delim>")` lines; TwinSnap sends exactly one line per operation:
//   & ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('<b64>')))) '<b64>'
// The simulator recognises the script by its `# twinsnap-op: <name>` marker and its base64 JSON
// argument. It NEVER evaluates anything: any other line is answered like PowerShell answers an
// unknown command (on stderr), which is how an injection attempt would become visible.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runOperation } from './operations.mjs';

const WRITE_LINE = /^\[Console\]::(Out|Error)\.WriteLine\("([A-Za-z0-9]*)"\)$/;
const INVOCATION =
  /^& \(\[ScriptBlock\]::Create\(\[Text\.Encoding\]::UTF8\.GetString\(\[Convert\]::FromBase64String\('([A-Za-z0-9+/=]+)'\)\)\)\) '([A-Za-z0-9+/=]*)'$/;
const RESULT_PREFIX = 'TWINSNAP-RESULT:';

/** Encodes a script answer the way TwinSnap's scripts do (base64 of UTF-8 JSON). */
export function resultLine(answer) {
  return RESULT_PREFIX + Buffer.from(JSON.stringify(answer), 'utf8').toString('base64');
}

/** Handles one stdin line; returns text for stdout/stderr. */
export async function handleLine(line) {
  const log = process.env.HYPERV_SIM_LOG;
  if (log) appendFileSync(log, line + '\n');
  const trimmed = line.trim();
  if (trimmed === '') return {};
  const w = WRITE_LINE.exec(trimmed);
  if (w) return w[1] === 'Out' ? { out: w[2] + '\n' } : { err: w[2] + '\n' };
  const m = INVOCATION.exec(trimmed);
  if (!m) {
    const word = trimmed.split(/\s+/)[0].slice(0, 60);
    return {
      err:
        `${word} : The term '${word}' is not recognized as the name of a cmdlet, function, script file, or operable program.\n` +
        `    + CategoryInfo          : ObjectNotFound: (${word}:String) [], CommandNotFoundException\n` +
        `    + FullyQualifiedErrorId : CommandNotFoundException\n`,
    };
  }
  const script = Buffer.from(m[1], 'base64').toString('utf8');
  const op = /^# twinsnap-op: ([a-z-]+)\s*$/m.exec(script)?.[1];
  if (!op) return { err: 'hyperv-sim: a script without a twinsnap-op marker was sent; the simulator only runs TwinSnap scripts\n' };
  let args;
  try {
    args = JSON.parse(Buffer.from(m[2], 'base64').toString('utf8'));
  } catch (e) {
    return { out: resultLine({ ok: false, error: { message: `Invalid JSON primitive: ${e.message}`, type: 'System.ArgumentException', fqid: 'System.ArgumentException,Microsoft.PowerShell.Commands.ConvertFromJsonCommand', category: 'NotSpecified' } }) + '\n' };
  }
  try {
    const result = await runOperation(op, args);
    return { out: resultLine({ ok: true, result: result ?? null }) + '\n' };
  } catch (e) {
    const error = e && e.psError ? e.psError : { message: String(e?.message ?? e), type: 'System.Exception', fqid: 'HyperVSimInternal', category: 'NotSpecified' };
    return { out: resultLine({ ok: false, error }) + '\n' };
  }
}

/** Reads stdin line by line, strictly in order (async operations included), until EOF. */
export function main(argv) {
  if (argv.includes('-Version') || argv.includes('--version')) {
    process.stdout.write('5.1.sim\n');
    return;
  }
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      const r = await handleLine(line);
      if (r.out) process.stdout.write(r.out);
      if (r.err) process.stderr.write(r.err);
    });
  });
  rl.on('close', () => {
    chain.then(() => process.exit(0));
  });
}

import { PRELUDE } from './scripts/prelude.js';
import { OPERATIONS, type HyperVOp } from './scripts/operations.js';

/**
 * How a TwinSnap operation travels to PowerShell: ONE line per call (multi-line input is
 * unreliable with `-Command -`, reference hyper-v.md §2.4)
 *
 *   & ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('<script>')))) '<args>'
 *
 * where `<script>` is base64 of the fixed script text and `<args>` base64 of the JSON arguments.
 * Both are pure base64 (A–Z a–z 0–9 + / =) inside single quotes, so no value can ever reach the
 * PowerShell parser as code and no code page can mangle it (§3). The script answers with one line
 * `TWINSNAP-RESULT:<base64 of UTF-8 JSON>`: `{ ok: true, result }` or `{ ok: false, error }`.
 */

/** The marker line every script starts with (names the operation in PowerShell's logs and transcripts). */
export const OP_MARKER = '# twinsnap-op: ';
/** Prefix of the one result line. */
export const RESULT_PREFIX = 'TWINSNAP-RESULT:';

/** The full script text of an operation (marker, param, decoding, try/catch, JSON output). */
export function scriptFor(op: HyperVOp): string {
  return [
    `${OP_MARKER}${op}`,
    'param([string]$TwinSnapArgs)',
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    "$WarningPreference = 'SilentlyContinue'",
    "$ConfirmPreference = 'None'",
    "function TS-Out($o) { $j = ConvertTo-Json -InputObject $o -Depth 10 -Compress; [Console]::Out.WriteLine('" +
      RESULT_PREFIX +
      "' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($j))) }",
    'try {',
    '  $a = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($TwinSnapArgs)) | ConvertFrom-Json',
    '  $result = $null',
    PRELUDE,
    OPERATIONS[op],
    '  TS-Out ([pscustomobject]@{ ok = $true; result = $result })',
    '} catch {',
    '  $e = $_',
    '  TS-Out ([pscustomobject]@{ ok = $false; error = [pscustomobject]@{ message = [string]$e.Exception.Message; type = [string]$e.Exception.GetType().FullName; fqid = [string]$e.FullyQualifiedErrorId; category = [string]$e.CategoryInfo.Category } })',
    '}',
    '',
  ].join('\n');
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The single command line for `op` with `args` (any JSON value). */
export function encodeInvocation(op: HyperVOp, args: unknown): string {
  return `& ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${b64(scriptFor(op))}')))) '${b64(JSON.stringify(args ?? {}))}'`;
}

/** A decoded script answer. */
export type PsAnswer = { ok: true; result: unknown } | { ok: false; error: { message: string; type?: string; fqid?: string; category?: string } };

/** Finds and decodes the result line; undefined when the script produced none. */
export function decodeAnswer(stdout: string): PsAnswer | undefined {
  const line = stdout
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) return undefined;
  try {
    return JSON.parse(Buffer.from(line.slice(RESULT_PREFIX.length).trim(), 'base64').toString('utf8')) as PsAnswer;
  } catch {
    return undefined;
  }
}

// Where the tests find PowerShell 7: TWINSNAP_PWSH, else pwsh on PATH, else the .NET global tool
// that .ci/run installs (~/.dotnet/tools/pwsh). Same order as ./powershell.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Absolute path of pwsh, or undefined when it is not installed. */
export function findPwsh(env = process.env) {
  const candidates = [
    env.TWINSNAP_PWSH,
    ...(env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, 'pwsh')),
    join(homedir(), '.dotnet', 'tools', 'pwsh'),
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

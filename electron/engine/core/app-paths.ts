import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The default app data folder: `%APPDATA%\TwinSnap` on Windows, `~/Library/Application
 * Support/TwinSnap` on macOS, `$XDG_DATA_HOME/twinsnap` (or `~/.local/share/twinsnap`) elsewhere.
 * `TWINSNAP_DATA_DIR` overrides it.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.TWINSNAP_DATA_DIR) return env.TWINSNAP_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'TwinSnap');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'TwinSnap');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'twinsnap');
}

import { access, constants } from 'node:fs/promises';
import { dirname, join, win32 } from 'node:path';
import { findExecutable, runProcess } from '../../exec/run-process.js';

/**
 * Finding vmrun and telling Workstation Pro from Player. Default install folders are the
 * documented Windows/Linux locations; a configured path (`--vmrun`, TWINSNAP_VMRUN, config
 * `vmrunPath`) always wins. Checking for a missing tool costs a few `access()` calls, nothing more.
 */

/** Which VMware product provides vmrun. */
export type VmwareEdition = 'workstation' | 'player' | 'unknown';

/** What detection found. */
export interface VmrunDetection {
  path?: string;
  version?: string;
  edition: VmwareEdition;
  problem?: string;
}

const WIN_DIRS = [
  'C:\\Program Files (x86)\\VMware\\VMware Workstation',
  'C:\\Program Files\\VMware\\VMware Workstation',
  'C:\\Program Files (x86)\\VMware\\VMware Player',
  'C:\\Program Files\\VMware\\VMware Player',
];
const POSIX_CANDIDATES = ['/usr/bin/vmrun', '/usr/local/bin/vmrun', '/usr/lib/vmware/bin/vmrun'];

/** Candidate vmrun paths for this platform, in order of preference. */
export function defaultVmrunCandidates(platform: NodeJS.Platform = process.platform): string[] {
  return platform === 'win32' ? WIN_DIRS.map((d) => win32.join(d, 'vmrun.exe')) : POSIX_CANDIDATES;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Player vs Pro: Workstation installs `vmware(.exe)` beside vmrun (Linux: /usr/bin/vmware),
 * Player only `vmplayer(.exe)`. Unknown (e.g. a simulator) when neither is found.
 */
export async function detectEdition(vmrunPath: string, platform: NodeJS.Platform = process.platform): Promise<VmwareEdition> {
  const dir = platform === 'win32' ? win32.dirname(vmrunPath) : dirname(vmrunPath);
  const j = platform === 'win32' ? win32.join : join;
  const ext = platform === 'win32' ? '.exe' : '';
  if (await exists(j(dir, `vmware${ext}`))) return 'workstation';
  if (platform !== 'win32' && (await exists('/usr/bin/vmware')) && dir.startsWith('/usr')) return 'workstation';
  if (await exists(j(dir, `vmplayer${ext}`))) return 'player';
  return 'unknown';
}

/** Finds vmrun (configured path first), reads its version and edition. Never throws. */
export async function detectVmrun(configured: string | undefined, timeoutMs = 15_000): Promise<VmrunDetection> {
  try {
    let path: string | undefined;
    if (configured) {
      if (!(await exists(configured))) {
        return { edition: 'unknown', problem: `the configured vmrun '${configured}' does not exist; fix --vmrun / TWINSNAP_VMRUN / vmrunPath` };
      }
      path = configured;
    } else {
      path = await findExecutable(process.platform === 'win32' ? ['vmrun.exe'] : ['vmrun'], defaultVmrunCandidates());
    }
    if (!path) {
      return { edition: 'unknown', problem: 'vmware workstation (vmrun) was not found; install vmware workstation pro, or give its path with --vmrun or TWINSNAP_VMRUN' };
    }
    // vmrun without arguments prints "vmrun version X build-N" and its usage (reference §1.1).
    const r = await runProcess(path, [], { timeoutMs });
    const m = /vmrun version\s+([0-9.]+)(?:\s+build-(\d+))?/i.exec(`${r.stdout}\n${r.stderr}`);
    const version = m ? (m[2] ? `${m[1]} build-${m[2]}` : m[1]) : undefined;
    if (r.timedOut) return { path, edition: 'unknown', problem: `'${path}' did not answer within ${timeoutMs / 1000} s` };
    const edition = await detectEdition(path);
    return { path, version, edition };
  } catch (e) {
    return { edition: 'unknown', problem: `unable to run vmrun: ${(e as Error).message}` };
  }
}

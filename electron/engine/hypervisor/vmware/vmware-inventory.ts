import { readFile, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, win32 } from 'node:path';
import { VmxFile } from './vmx-file.js';

/**
 * Where VMware VMs are found (reference vmware-workstation.md §2.7): Workstation's inventory
 * (`inventory.vmls`: `vmlistN.config = "<vmx>"`), the default VM folder from its preferences
 * (`prefvmx.defaultvmpath`), and folders the user adds (config `vmFolders`), scanned for `.vmx`.
 */

/** Host files the inventory is read from; injectable so tests never read the real user's. */
export interface InventorySources {
  inventoryFiles: string[];
  preferencesFiles: string[];
  vmFolders: string[];
}

/** The standard locations of inventory.vmls and preferences for this user. */
export function defaultInventorySources(vmFolders: string[], env: NodeJS.ProcessEnv = process.env, platform = process.platform): InventorySources {
  if (platform === 'win32') {
    const appData = env.APPDATA ?? win32.join(homedir(), 'AppData', 'Roaming');
    return {
      inventoryFiles: [win32.join(appData, 'VMware', 'inventory.vmls')],
      preferencesFiles: [win32.join(appData, 'VMware', 'preferences.ini')],
      vmFolders,
    };
  }
  return {
    inventoryFiles: [join(homedir(), '.vmware', 'inventory.vmls')],
    preferencesFiles: [join(homedir(), '.vmware', 'preferences')],
    vmFolders,
  };
}

export async function readVmxLike(path: string): Promise<VmxFile | undefined> {
  try {
    return VmxFile.parse(await readFile(path));
  } catch {
    return undefined;
  }
}

/** `.vmx` paths registered in Workstation's inventory files. */
export async function registeredVmxPaths(files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const inv = await readVmxLike(f);
    if (!inv) continue;
    for (const [k, v] of inv.entries()) if (/^vmlist\d+\.config$/i.test(k) && /\.vmx$/i.test(v)) out.push(v);
  }
  return out;
}

/** Default VM folders named in preferences (`prefvmx.defaultvmpath`). */
export async function preferenceVmFolders(files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const v = (await readVmxLike(f))?.get('prefvmx.defaultvmpath');
    if (v) out.push(v);
  }
  return out;
}

/** Finds `.vmx` files under `root` (depth-limited, symlinks not followed, bounded count; TwinSnap's own twin and staging folders skipped). */
export async function scanForVmx(root: string, maxDepth = 3, limit = 2000): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (found.length >= limit) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isFile() && /\.vmx$/i.test(e.name)) found.push(join(dir, e.name));
      else if (e.isDirectory() && depth < maxDepth && !e.name.endsWith('.lck') && !e.name.startsWith('.twinsnap') && !e.name.startsWith('twinsnap-twin-')) await walk(join(dir, e.name), depth + 1);
    }
  };
  await walk(root, 0);
  return found;
}

/** Every .vmx the adapter should show: inventory ∪ preferences folder ∪ user folders. */
export async function discoverVmxPaths(src: InventorySources): Promise<string[]> {
  const folders = [...(await preferenceVmFolders(src.preferencesFiles)), ...src.vmFolders];
  const all = [...(await registeredVmxPaths(src.inventoryFiles))];
  for (const f of folders) all.push(...(await scanForVmx(f)));
  return all;
}

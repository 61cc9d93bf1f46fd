import { hypervGuestId, vmwareGuestId, type GuestId } from '../../../../shared/domain/guest-id.js';

/**
 * Guest ids of manifests written before guest ids, recovered from the configuration stored with
 * them (the rules are shared/domain/guest-id.ts's):
 *
 * - **VMware**: the stored `.vmx` carries `uuid.bios` → `vmware:<uuid.bios>`, the id the live VM
 *   has, and `uuid.location` (the hash of the .vmx path Workstation last settled the uuid for).
 * - **Hyper-V**: the stored configuration is the export of the VM's checkpoint, whose `.vmcx`
 *   (`.xml` before 2016) is named by the VM id → `hyperv:<VM id>`.
 *
 * The copied-VM rule: a uuid kept by a copy (not yet powered on, or `uuid.action = "keep"`) is
 * shown by two .vmx files at once, each with its own `uuid.location`. A VM that moved also changes
 * `uuid.location`, but its points under the old and the new location follow one another in time;
 * points of one uuid under two locations whose times interleave were two VMs running at once, and
 * the .vmx alone cannot tell whose points are whose: they keep `name:<guest>`.
 */

/** What the stored configuration of one old manifest says about its VM. */
export interface StoredIdentity {
  snapshotId: string;
  /** The display name recorded in the manifest. */
  guest: string;
  /** Freeze time (ms). */
  time: number;
  /** The id its configuration gives, if any. */
  id?: GuestId;
  /** VMware: `uuid.location` of its .vmx (lower case, no separators). */
  location?: string;
}

const GUID_FILE = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?\.(vmcx|xml)$/i;

/** The quoted value of `key` in .vmx text (keys are case-insensitive; the last one wins, as in Workstation). */
function vmxValue(text: string, key: string): string | undefined {
  let found: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^=#\s][^=]*?)\s*=\s*"([^"]*)"\s*$/.exec(line);
    if (m && m[1]!.toLowerCase() === key) found = m[2];
  }
  return found;
}

/** True when a stored configuration file is a .vmx whose content {@link identityFromConfig} needs. */
export function isVmxName(name: string): boolean {
  return /\.vmx$/i.test(name);
}

/**
 * The identity a snapshot's stored configuration gives: `files` are its configuration files,
 * with the content of the .vmx ones ({@link isVmxName}; the others are known by name).
 */
export function identityFromConfig(files: readonly { name: string; data?: Buffer }[]): Pick<StoredIdentity, 'id' | 'location'> {
  for (const f of files) {
    const guid = GUID_FILE.exec(f.name);
    if (guid) return { id: hypervGuestId(guid[1]!) };
  }
  const vmx = files.filter((f) => isVmxName(f.name) && f.data);
  if (vmx.length !== 1) return {};
  const text = vmx[0]!.data!.toString('utf8');
  const uuid = vmxValue(text, 'uuid.bios');
  const id = uuid ? vmwareGuestId(uuid) : undefined;
  if (!id) return {};
  const location = vmxValue(text, 'uuid.location')?.replace(/[\s-]/g, '').toLowerCase();
  return { id, ...(location ? { location } : {}) };
}

/** The ids old manifests may use (snapshot id → guest id), by the rules of the module comment. */
export function recoverGuestIds(points: readonly StoredIdentity[]): Map<string, GuestId> {
  const byId = new Map<GuestId, StoredIdentity[]>();
  for (const p of points) if (p.id) byId.set(p.id, [...(byId.get(p.id) ?? []), p]);
  const out = new Map<string, GuestId>();
  for (const [id, same] of byId) {
    const spans = new Map<string, { from: number; to: number }>();
    for (const p of same) {
      const key = p.location ?? '';
      const s = spans.get(key);
      spans.set(key, s ? { from: Math.min(s.from, p.time), to: Math.max(s.to, p.time) } : { from: p.time, to: p.time });
    }
    // sequential spans are one VM that moved; a span starting before an earlier one ended is a second VM
    let end = -Infinity;
    let interleaved = false;
    for (const s of [...spans.values()].sort((a, b) => a.from - b.from)) {
      if (s.from <= end) interleaved = true;
      end = Math.max(end, s.to);
    }
    if (interleaved) continue;
    for (const p of same) out.set(p.snapshotId, id);
  }
  return out;
}

/**
 * The one identity of a guest: the key of its catalog record, snapshots, jobs, schedule and
 * retention policy. The display name is only a label (recorded with each snapshot) that may
 * change or repeat; two VMs named alike are two guests, and a renamed VM is the same guest.
 *
 * What makes a VM "the same VM":
 *
 * - **Hyper-V** — `hyperv:<VM id>` (the VMId GUID, lower case). Names are not unique on a host,
 *   the id is ("each virtual machine must have a unique identifier"). Renaming (`Rename-VM`)
 *   and moving storage keep it; an import with `Import-VM -Copy -GenerateNewId` makes a new VM
 *   with a new id (a new guest, a new history); a plain or `-Copy` import without
 *   `-GenerateNewId` and re-registering keep the id, so they continue the history.
 *   (Microsoft's Import-VM documentation, as summarised in the project's Hyper-V reference.)
 * - **VMware Workstation** — `vmware:<uuid.bios>` (the 16 bytes of the .vmx's `uuid.bios` as 32
 *   lower-case hex digits). Workstation derives it from the host id and the .vmx path and keeps
 *   it in the .vmx: a rename (`displayName`) keeps it. At power-on Workstation compares the path
 *   hash in `uuid.location` with the VM's current path; when they differ it asks "I moved it /
 *   I copied it": *moved* keeps `uuid.bios` (same guest, new folder: its history continues),
 *   *copied* (the default answer, and `uuid.action = "create"`) writes a new one (a new guest).
 *   Re-registering a .vmx (removing it from the library and opening it again) does not touch
 *   the file, so it stays the same guest. (Broadcom KB 320246; VMware Player 5 manual, UUID
 *   section; GSX 2.5 UUID comparison.)
 *   Until a copied VM is powered on it still carries the original's `uuid.bios`: while two .vmx
 *   files show the same uuid, the one in the folder TwinSnap last saw under that id keeps it and
 *   the other is told apart by its path (`vmware:path-…`) with a warning, until Workstation gives
 *   it its own uuid at its first power-on. A .vmx without `uuid.bios` (never powered on) is also
 *   known by its path until it gets one.
 * - **`name:<display name>`** — a guest known only by its name: records made before guest ids
 *   existed (catalogs of schema < 4, manifests without `guestId` whose stored configuration does
 *   not identify the VM — a .vmx without `uuid.bios`, or with one two .vmx files held at once;
 *   see electron/engine/repository/snapshot/stored-identity.ts) and cold imports of disk files
 *   for a name that matches no VM. When exactly one VM of that name is seen, the engine adopts
 *   the name's records into that VM's id (see electron/engine/catalog/README.md).
 */

/** A guest identity (see the module comment); build and read it only with this module. */
export type GuestId = string & { readonly __brand: 'GuestId' };

/** The kinds of guest identity. */
export type GuestIdKind = 'hyperv' | 'vmware' | 'vmware-path' | 'name';

/** The parts of a GuestId. */
export interface ParsedGuestId {
  kind: GuestIdKind;
  /** GUID (hyperv), 32 hex digits (vmware), 24 hex digits (vmware-path) or the name (name). */
  value: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_HEX = /^[0-9a-f]{32}$/;
const PATH_HASH = /^[0-9a-f]{24}$/;
/** Longest display name a `name:` id may carry (the contract's name bound). */
export const GUEST_NAME_MAX = 512;

/** Parses a GuestId; undefined when `s` is not one. */
export function parseGuestId(s: unknown): ParsedGuestId | undefined {
  if (typeof s !== 'string') return undefined;
  const colon = s.indexOf(':');
  if (colon < 0) return undefined;
  const prefix = s.slice(0, colon);
  const value = s.slice(colon + 1);
  if (prefix === 'hyperv' && GUID.test(value)) return { kind: 'hyperv', value };
  if (prefix === 'vmware' && UUID_HEX.test(value)) return { kind: 'vmware', value };
  if (prefix === 'vmware' && value.startsWith('path-') && PATH_HASH.test(value.slice(5))) return { kind: 'vmware-path', value: value.slice(5) };
  if (prefix === 'name' && value.length > 0 && value.length <= GUEST_NAME_MAX) return { kind: 'name', value };
  return undefined;
}

/** True when `s` is a well-formed GuestId. */
export function isGuestId(s: unknown): s is GuestId {
  return parseGuestId(s) !== undefined;
}

/** Formats parts as a GuestId (throws on malformed parts: a programming error). */
export function formatGuestId(p: ParsedGuestId): GuestId {
  const s = p.kind === 'vmware-path' ? `vmware:path-${p.value}` : `${p.kind}:${p.value}`;
  if (!isGuestId(s)) throw new TypeError(`not a valid ${p.kind} guest id: ${JSON.stringify(p.value)}`);
  return s;
}

/** `hyperv:<guid>` from a Hyper-V VM id (any case, with or without braces). */
export function hypervGuestId(vmId: string): GuestId {
  return formatGuestId({ kind: 'hyperv', value: vmId.replace(/[{}]/g, '').toLowerCase() });
}

/**
 * `vmware:<32 hex>` from a .vmx `uuid.bios` value (`56 4d ef 2d … 3f-d4 …`: bytes in hex with
 * spaces and one dash); undefined when the value is not 16 bytes of hex.
 */
export function vmwareGuestId(uuidBios: string): GuestId | undefined {
  const hex = uuidBios.replace(/[\s-]/g, '').toLowerCase();
  return UUID_HEX.test(hex) ? formatGuestId({ kind: 'vmware', value: hex }) : undefined;
}

/** `vmware:path-<24 hex>` from a digest of the .vmx path (the caller hashes; shared/ has no crypto). */
export function vmwarePathGuestId(pathDigestHex: string): GuestId {
  return formatGuestId({ kind: 'vmware-path', value: pathDigestHex.slice(0, 24).toLowerCase() });
}

/** `name:<display name>`: a guest known only by its name (older records, cold imports). */
export function nameGuestId(name: string): GuestId {
  return formatGuestId({ kind: 'name', value: name.slice(0, GUEST_NAME_MAX) });
}

import { randomBytes } from 'node:crypto';
import type { VmxFile } from './vmx-file.js';
import { vmxNics } from './vmx-facts.js';

/**
 * Network isolation of a VMware twin, by construction and then verified (hypervisor/README.md,
 * "Twin isolation"; reference vmware-twin-facts.md §1a–1d):
 * - `startConnected` is only read at power-on; a resumed VM restores the connected state saved
 *   with its memory, so it cannot be the isolation. Instead every NIC's *backing* moves to a LAN
 *   segment (`connectionType = "pvn"`) with a fresh random `pvnID`: only VMs with the same pvnID
 *   share a segment, and a segment has no host adapter, no DHCP, no gateway. IDs registered in
 *   the host's preferences (`pref.namedPVNs<N>.pvnID`) and production's own are never used.
 * - `startConnected = "FALSE"` stays as a second layer (it governs a cold boot of the twin).
 * - After the start, `vmware.log` of this power-on must show every NIC on exactly that segment
 *   (`DICT ethernetN.connectionType = "pvn"`, `DICT ethernetN.pvnID = "<ours>"`) and no VNET line
 *   naming another network for it; anything else fails closed.
 */

/** A fresh LAN-segment id in VMware's 16-byte spelling (`52 xx xx xx xx xx xx xx-xx xx …`). */
export function randomPvnId(taken: ReadonlySet<string> = new Set()): string {
  for (;;) {
    const b = [0x52, ...randomBytes(15)].map((x) => x.toString(16).padStart(2, '0'));
    const id = `${b.slice(0, 8).join(' ')}-${b.slice(8).join(' ')}`;
    if (!taken.has(normalPvnId(id))) return id;
  }
}

/** A pvnID reduced to its 32 hex digits, lower case (for comparing spellings). */
export function normalPvnId(id: string): string {
  return id.replace(/[^0-9a-f]/gi, '').toLowerCase();
}

/** pvnIDs a .vmx or preferences file already uses (`ethernetN.pvnID`, `pref.namedPVNsN.pvnID`), normalised. */
export function pvnIdsIn(file: VmxFile): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of file.entries()) if (/(^ethernet\d+|^pref\.namedpvns\d*)\.pvnid$/i.test(k) && v) out.add(normalPvnId(v));
  return out;
}

/**
 * Moves every present NIC of `vmx` onto a private LAN segment of its own and marks it not
 * connected at power-on. Returns NIC → pvnID. `taken`: normalised ids that must not be used.
 */
export function isolateNics(vmx: VmxFile, taken: ReadonlySet<string>): Record<string, string> {
  const used = new Set(taken);
  const out: Record<string, string> = {};
  for (const nic of vmxNics(vmx)) {
    const id = randomPvnId(used);
    used.add(normalPvnId(id));
    vmx.set(`${nic}.connectionType`, 'pvn');
    vmx.set(`${nic}.pvnID`, id);
    vmx.set(`${nic}.startConnected`, 'FALSE');
    // backings of other connection types must not linger next to the segment
    vmx.delete(`${nic}.vnet`);
    vmx.delete(`${nic}.bsdName`);
    out[nic] = id;
  }
  return out;
}

/** What the twin's .vmx says each NIC must be on (NIC → pvnID); a NIC not on a pvn maps to undefined. */
export function expectedSegments(vmx: VmxFile): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const nic of vmxNics(vmx)) {
    out[nic] = /^pvn$/i.test(vmx.get(`${nic}.connectionType`) ?? '') ? vmx.get(`${nic}.pvnID`) : undefined;
  }
  return out;
}

/**
 * Checks one power-on's vmware.log against the expected segments. Returns the problems (empty:
 * isolated). Fails closed: a NIC the log says nothing about is a problem.
 */
export function isolationProblems(log: string, expected: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const dict = new Map<string, string>();
  for (const m of log.matchAll(/\bDICT\s+(ethernet\d+\.(?:connectionType|pvnID|present))\s*=\s*"([^"\r\n]*)"/gi)) dict.set(m[1]!.toLowerCase(), m[2]!);
  for (const [nic, pvn] of Object.entries(expected)) {
    if (!pvn) {
      problems.push(`${nic} is not on a private lan segment in the twin's configuration`);
      continue;
    }
    const type = dict.get(`${nic}.connectiontype`);
    const id = dict.get(`${nic}.pvnid`);
    if (type === undefined) problems.push(`vmware.log does not show ${nic}'s connection type`);
    else if (!/^pvn$/i.test(type)) problems.push(`vmware.log shows ${nic} on '${type}', not on its private lan segment`);
    if (id !== undefined && normalPvnId(id) !== normalPvnId(pvn)) problems.push(`vmware.log shows ${nic} on lan segment ${id}, not ${pvn}`);
    else if (id === undefined && type !== undefined) problems.push(`vmware.log does not show ${nic}'s lan segment id`);
    const n = nic.replace(/^ethernet/i, '');
    const other = new RegExp(`VNET\\b.*\\bEthernet${n}\\b.*\\b(vmnet\\d+|nat|bridged|hostonly)\\b`, 'i');
    const line = log.split(/\r?\n/).find((l) => other.test(l));
    if (line) problems.push(`vmware.log shows ${nic} on another network: ${line.trim().slice(0, 200)}`);
  }
  return problems;
}

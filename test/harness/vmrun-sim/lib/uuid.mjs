// The VM identity (uuid.bios / uuid.location) as Workstation keeps it, for the vmrun simulator.
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';

/** `56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65`: 16 bytes as Workstation writes uuid.* values. */
function uuidText(bytes) {
  const h = [...bytes].map((b) => b.toString(16).padStart(2, '0'));
  return `${h.slice(0, 8).join(' ')}-${h.slice(8).join(' ')}`;
}

/** The `uuid.location` Workstation would derive for a .vmx at `vmxAbs` on this host (here: a hash of the absolute path). */
export function uuidLocation(vmxAbs) {
  return uuidText(createHash('sha256').update(path.resolve(vmxAbs)).digest().subarray(0, 16));
}

/**
 * The VM identity Workstation keeps in the .vmx, as it behaves at a cold power-on (not at a
 * resume: "Suspend/resume does not trigger UUID regeneration", vmware-workstation.md §2.4–2.5).
 * `uuid.location` is derived from the host and the .vmx path (here: a hash of the absolute path);
 * a VM that has no `uuid.bios` yet gets both. When the path no longer matches `uuid.location`,
 * Workstation asks "I moved it / I copied it": `uuid.action = "keep"` answers moved, `"create"`
 * answers copied, otherwise `VMRUN_SIM_UUID_ANSWER` (`moved` or `copied`; default `copied`, the
 * dialog's default). Moved keeps `uuid.bios` and records the new location; copied writes a new
 * `uuid.bios`. Returns what happened (`kept`, `created`, `moved`, `copied`) and writes the file.
 */
export function settleUuid(vmx, vmxAbs) {
  const location = uuidLocation(vmxAbs);
  const bios = vmx.get('uuid.bios');
  let outcome = 'kept';
  if (!bios) {
    vmx.set('uuid.bios', uuidText(randomBytes(16)));
    outcome = 'created';
  } else if (vmx.get('uuid.location') !== location) {
    const action = (vmx.get('uuid.action') ?? '').toLowerCase();
    const answer = action === 'keep' ? 'moved' : action === 'create' ? 'copied' : process.env.VMRUN_SIM_UUID_ANSWER === 'moved' ? 'moved' : 'copied';
    if (answer === 'copied') vmx.set('uuid.bios', uuidText(randomBytes(16)));
    outcome = answer;
  }
  if (outcome === 'kept' && vmx.get('uuid.location') === location) return outcome;
  vmx.set('uuid.location', location);
  vmx.write();
  return outcome;
}

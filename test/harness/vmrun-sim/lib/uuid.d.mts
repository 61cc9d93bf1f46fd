/** The `uuid.location` the simulated Workstation derives for a .vmx at `vmxAbs` (see uuid.mjs). */
export function uuidLocation(vmxAbs: string): string;

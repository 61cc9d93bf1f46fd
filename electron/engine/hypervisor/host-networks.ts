import { AppError } from '../../../shared/errors/app-error.js';
import type { HostNetwork } from '../../../shared/domain/guest.js';

/**
 * The one network of `networks` (Hypervisor.listNetworks) that `name` means — exact, else
 * case-insensitive (Hyper-V switch names and vmnet names are compared so) — or
 * HV_NETWORK_NOT_FOUND naming the host's networks.
 */
export function pickNetwork(networks: HostNetwork[], name: string): HostNetwork {
  const hit = networks.find((n) => n.name === name) ?? networks.find((n) => n.name.toLowerCase() === name.toLowerCase());
  if (hit) return hit;
  throw new AppError('HV_NETWORK_NOT_FOUND', `there is no network '${name}' on this host: choose one of ${networks.map((n) => `'${n.name}'`).join(', ') || '(none)'}, or leave the vm disconnected`, {
    details: { network: name, available: networks.map((n) => n.name) },
  });
}

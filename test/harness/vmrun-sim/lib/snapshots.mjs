import { VmrunError } from './state.mjs';
export function cmdListSnapshots() { throw new VmrunError('The operation is not supported'); }
export async function cmdSnapshot() { throw new VmrunError('The operation is not supported'); }
export async function cmdDeleteSnapshot() { throw new VmrunError('The operation is not supported'); }
export async function cmdRevertToSnapshot() { throw new VmrunError('The operation is not supported'); }

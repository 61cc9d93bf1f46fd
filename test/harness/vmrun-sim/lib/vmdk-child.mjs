// Creating and consolidating VMDK delta ("child") disks for snapshots.
// A child is a monolithicSparse VMDK made by qemu-img whose embedded descriptor is then given
// parentCID and parentFileNameHint. Writing those two lines ourselves means the parent is only
// read as a file — it may be held open read-write by a running VM's storage daemon.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VmrunError } from './state.mjs';

/** Runs qemu-img; a failure becomes a vmrun-style error carrying qemu-img's message. */
function qemuImg(args) {
  try {
    execFileSync('qemu-img', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const msg = String(e.stderr ?? e.message)
      .trim()
      .split('\n')
      .join(' ');
    throw new VmrunError(`The operation was canceled (${msg})`);
  }
}

function readAt(fd, pos, len) {
  const buf = Buffer.alloc(len);
  const n = fs.readSync(fd, buf, 0, len, pos);
  return buf.subarray(0, n);
}

/** Reads a VMDK's descriptor: { text, sparse, offset, size } (offset/size in bytes). */
export function readDescriptor(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const head = readAt(fd, 0, 512);
    if (head.length >= 4 && head.toString('latin1', 0, 4) === 'KDMV') {
      const offset = Number(head.readBigUInt64LE(28)) * 512;
      const size = Number(head.readBigUInt64LE(36)) * 512;
      if (!offset || !size) throw new VmrunError(`Cannot open the disk '${file}': it has no embedded descriptor`);
      const text = readAt(fd, offset, size).toString('utf8').replace(/\0+$/, '');
      return { text, sparse: true, offset, size };
    }
    const st = fs.fstatSync(fd);
    if (st.size > 1024 * 1024) throw new VmrunError(`Cannot open the disk '${file}': not a VMDK descriptor`);
    return { text: readAt(fd, 0, st.size).toString('utf8'), sparse: false, offset: 0, size: st.size };
  } finally {
    fs.closeSync(fd);
  }
}

/** CID and capacity (bytes) from a descriptor text. */
export function descriptorInfo(text) {
  const cid = /^\s*CID\s*=\s*([0-9a-fA-F]+)/m.exec(text)?.[1];
  let sectors = 0;
  for (const m of text.matchAll(/^\s*(RW|RDONLY|NOACCESS)\s+(\d+)\s+/gm)) sectors += Number(m[2]);
  const parentHint = /^\s*parentFileNameHint\s*=\s*"([^"]*)"/m.exec(text)?.[1];
  return { cid, capacity: sectors * 512, parentHint };
}

/** Next free delta name for a disk: `<stem>-000001.vmdk`, `-000002`, … (stem without deltas). */
export function nextChildPath(diskAbs) {
  const dir = path.dirname(diskAbs);
  const stem = path.basename(diskAbs, path.extname(diskAbs)).replace(/-\d{6}$/, '');
  for (let n = 1; n < 1000000; n++) {
    const p = path.join(dir, `${stem}-${String(n).padStart(6, '0')}.vmdk`);
    if (!fs.existsSync(p)) return p;
  }
  throw new VmrunError('The operation was canceled (no free delta disk name)');
}

/** Hint text for the parent, relative when possible. */
function parentHint(childAbs, parentAbs) {
  const rel = path.relative(path.dirname(childAbs), parentAbs);
  if (!rel.includes('"')) return rel;
  if (!parentAbs.includes('"')) return parentAbs;
  throw new VmrunError(`Cannot create a delta disk for '${parentAbs}': VMDK descriptors cannot name a file containing a double quote`);
}

/** Creates `childAbs` as a sparse VMDK delta of `parentAbs` (a VMDK). */
export function createChildVmdk(parentAbs, childAbs) {
  const parent = descriptorInfo(readDescriptor(parentAbs).text);
  if (!parent.cid || !parent.capacity) throw new VmrunError(`Cannot open the disk '${parentAbs}' or one of the snapshot disks it depends on.`);
  qemuImg(['create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicSparse,adapter_type=lsilogic', childAbs, String(parent.capacity)]);
  const child = readDescriptor(childAbs);
  let text = child.text.replace(/^(\s*parentCID\s*=\s*)[0-9a-fA-F]+/m, `$1${parent.cid}`);
  text = text.replace(/^(\s*createType\s*=.*)$/m, `$1\nparentFileNameHint="${parentHint(childAbs, parentAbs)}"`);
  const buf = Buffer.alloc(child.size, 0);
  if (Buffer.byteLength(text) > child.size) throw new VmrunError('The operation was canceled (delta descriptor too long)');
  buf.write(text, 0, 'utf8');
  const fd = fs.openSync(childAbs, 'r+');
  try {
    fs.writeSync(fd, buf, 0, buf.length, child.offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Merges a powered-off child into its parent (`qemu-img commit`) and deletes the child's files. */
export function commitChildOffline(childAbs) {
  qemuImg(['commit', '-q', childAbs]);
  fs.rmSync(childAbs, { force: true });
}

/** Value to write into the .vmx for a disk file (relative to the .vmx folder when inside it). */
export function vmxDiskValue(vmxAbs, diskAbs) {
  return path.dirname(diskAbs) === path.dirname(vmxAbs) ? path.basename(diskAbs) : diskAbs;
}

// Snapshots: listSnapshots, snapshot, deleteSnapshot, revertToSnapshot.
// Disk-only snapshots with real VMDK deltas and a Workstation-style .vmsd. Running VMs switch
// to the new delta live inside their storage daemon (blockdev-snapshot); deleting the current
// snapshot consolidates the delta into its parent (live block-commit, or qemu-img commit).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { vmDisks } from './machine.mjs';
import { openVm, waitPoweredOff } from './power.mjs';
import { Qmp } from './qmp.mjs';
import { VmrunError, readJson, runningMeta, sleep, vmLog, withVmLock, writeJson } from './state.mjs';
import { commitChildOffline, createChildVmdk, nextChildPath, vmxDiskValue } from './vmdk-child.mjs';
import { VmxFile } from './vmx.mjs';

function vmsdPath(vmxAbs) {
  return path.join(path.dirname(vmxAbs), `${path.basename(vmxAbs, path.extname(vmxAbs))}.vmsd`);
}

/** Reads the .vmsd into { lastUID, current, snapshots: [{ uid, parent, displayName, ... }] }. */
function readVmsd(vmxAbs) {
  const file = vmsdPath(vmxAbs);
  const model = { lastUID: 0, current: 0, snapshots: [] };
  if (!fs.existsSync(file)) return model;
  const vmsd = VmxFile.read(file);
  const e = vmsd.entries();
  const g = (k) => e.get(k.toLowerCase())?.value;
  model.lastUID = Number(g('snapshot.lastUID') || 0);
  model.current = Number(g('snapshot.current') || 0);
  const idx = new Set();
  for (const k of e.keys()) {
    const m = /^snapshot(\d+)\.uid$/.exec(k);
    if (m) idx.add(Number(m[1]));
  }
  for (const i of [...idx].sort((a, b) => a - b)) {
    const p = `snapshot${i}.`;
    const disks = [];
    const n = Number(g(`${p}numDisks`) || 0);
    for (let d = 0; d < n; d++) disks.push({ fileName: g(`${p}disk${d}.fileName`), node: g(`${p}disk${d}.node`) });
    model.snapshots.push({
      uid: Number(g(`${p}uid`)),
      parent: Number(g(`${p}parent`) || 0),
      filename: g(`${p}filename`) ?? '',
      displayName: g(`${p}displayName`) ?? '',
      description: g(`${p}description`) ?? '',
      createTimeHigh: g(`${p}createTimeHigh`) ?? '0',
      createTimeLow: g(`${p}createTimeLow`) ?? '0',
      disks,
    });
  }
  return model;
}

function writeVmsd(vmxAbs, model) {
  const lines = ['.encoding = "UTF-8"'];
  const out = new VmxFile(vmsdPath(vmxAbs), lines.join('\n') + '\n');
  out.set('snapshot.lastUID', String(model.lastUID));
  out.set('snapshot.current', String(model.current));
  model.snapshots.forEach((s, i) => {
    const p = `snapshot${i}.`;
    out.set(`${p}uid`, String(s.uid));
    if (s.parent) out.set(`${p}parent`, String(s.parent));
    out.set(`${p}filename`, s.filename);
    out.set(`${p}displayName`, s.displayName);
    out.set(`${p}description`, s.description);
    out.set(`${p}type`, '1');
    out.set(`${p}createTimeHigh`, s.createTimeHigh);
    out.set(`${p}createTimeLow`, s.createTimeLow);
    out.set(`${p}numDisks`, String(s.disks.length));
    s.disks.forEach((d, j) => {
      out.set(`${p}disk${j}.fileName`, d.fileName);
      out.set(`${p}disk${j}.node`, d.node);
    });
  });
  out.set('snapshot.numSnapshots', String(model.snapshots.length));
  out.write();
}

function findSnapshot(vm, model, name) {
  if (!name) throw new VmrunError('Invalid argument: a snapshot name is required');
  const parts = name.split('/');
  const leaf = parts.at(-1);
  const hits = model.snapshots.filter((s) => s.displayName === leaf || s.displayName === name);
  if (hits.length === 0) throw new VmrunError(`The snapshot does not exist: ${name}`);
  if (hits.length > 1) throw new VmrunError('The name does not uniquely identify one snapshot');
  return hits[0];
}

/** `listSnapshots vmx [showTree]`. */
export function cmdListSnapshots(args) {
  const vm = openVm(args[0]);
  const tree = (args[1] ?? '').toLowerCase() === 'showtree';
  const model = readVmsd(vm.abs);
  const lines = [`Total snapshots: ${model.snapshots.length}`];
  const visit = (parent, depth) => {
    for (const s of model.snapshots.filter((x) => x.parent === parent)) {
      lines.push(`${tree ? '\t'.repeat(depth) : ''}${s.displayName}`);
      visit(s.uid, depth + 1);
    }
  };
  visit(0, 0);
  return lines.join('\n');
}

async function pauseGuest(qmp) {
  const st = await qmp.execute('query-status');
  if (st.status === 'running') {
    await qmp.execute('stop');
    return true;
  }
  return false;
}

/** `snapshot vmx name`. */
export async function cmdSnapshot(args) {
  const vm = openVm(args[0]);
  const name = args[1];
  if (!name) throw new VmrunError('Invalid argument: a snapshot name is required');
  return withVmLock(vm.stateDir, async () => {
    const vmx = VmxFile.read(vm.abs);
    const disks = vmDisks(vmx);
    for (const d of disks) {
      if (path.extname(d.abs).toLowerCase() !== '.vmdk') throw new VmrunError('The operation is not supported (vmrun-sim snapshots need VMDK disks)');
    }
    const model = readVmsd(vm.abs);
    const uid = model.lastUID + 1;
    const base = path.basename(vm.abs, path.extname(vm.abs));
    const vmsnName = `${base}-Snapshot${uid}.vmsn`;
    const children = disks.map((d) => nextChildPath(d.abs));
    const meta = runningMeta(vm.stateDir);
    for (let i = 0; i < disks.length; i++) createChildVmdk(disks[i].abs, children[i]);
    if (meta) {
      const storage = await Qmp.connect(meta.qsdSock);
      const qmp = await Qmp.connect(meta.qmpSock);
      try {
        const resumeAfter = await pauseGuest(qmp);
        try {
          for (let i = 0; i < disks.length; i++) {
            const node = `s${uid}d${i}`;
            await storage.execute('blockdev-add', { driver: 'vmdk', 'node-name': node, file: { driver: 'file', filename: children[i] }, backing: null });
            await storage.execute('blockdev-snapshot', { node: meta.nodes[i], overlay: node });
            meta.nodes[i] = node;
            meta.disks[i].abs = children[i];
          }
        } finally {
          if (resumeAfter) await qmp.execute('cont');
        }
        const fresh = readJson(path.join(vm.stateDir, 'meta.json')) ?? meta;
        writeJson(path.join(vm.stateDir, 'meta.json'), { ...fresh, nodes: meta.nodes, disks: meta.disks });
      } finally {
        storage.close();
        qmp.close();
      }
    }
    fs.writeFileSync(path.join(path.dirname(vm.abs), vmsnName), vmx.text());
    const now = BigInt(Date.now()) * 1000n;
    model.snapshots.push({
      uid,
      parent: model.current,
      filename: vmsnName,
      displayName: name,
      description: '',
      createTimeHigh: String(Number(now >> 32n)),
      createTimeLow: String(Number(now & 0xffffffffn) | 0),
      disks: disks.map((d) => ({ fileName: d.file, node: d.node })),
    });
    model.lastUID = uid;
    model.current = uid;
    writeVmsd(vm.abs, model);
    disks.forEach((d, i) => vmx.set(d.key, vmxDiskValue(vm.abs, children[i])));
    vmx.write();
    vmLog(vm.abs, `snapshot ${uid} taken (${meta ? 'live' : 'offline'})`);
  });
}

/** Live-commits the top of each disk into its parent inside the storage daemon. */
async function commitLive(vm, meta, parentsAbs) {
  const storage = await Qmp.connect(meta.qsdSock);
  try {
    const nodes = await storage.execute('query-named-block-nodes');
    for (let i = 0; i < meta.nodes.length; i++) {
      const top = meta.nodes[i];
      const baseNode = nodes.find((n) => n.file === parentsAbs[i] && n.drv === 'vmdk')?.['node-name'];
      if (!baseNode) throw new VmrunError(`The operation was canceled (cannot find the parent of ${meta.disks[i].abs} in the running VM)`);
      const job = `commit-${i}-${Date.now()}`;
      await storage.execute('block-commit', { 'job-id': job, device: top, 'base-node': baseNode, 'auto-dismiss': false });
      const deadline = Date.now() + 600_000;
      for (;;) {
        const jobs = await storage.execute('query-jobs');
        const j = jobs.find((x) => x.id === job);
        if (!j) break;
        if (j.error) throw new VmrunError(`The operation was canceled (consolidation failed: ${j.error})`);
        if (j.status === 'ready') await storage.execute('job-complete', { id: job });
        if (j.status === 'concluded') {
          await storage.execute('job-dismiss', { id: job });
          if (j.error) throw new VmrunError(`The operation was canceled (consolidation failed: ${j.error})`);
          break;
        }
        if (Date.now() > deadline) throw new VmrunError('The operation was canceled (consolidation timed out)');
        await sleep(20);
      }
      await storage.execute('blockdev-del', { 'node-name': top }).catch(() => undefined);
      meta.nodes[i] = baseNode;
      meta.disks[i].abs = parentsAbs[i];
    }
  } finally {
    storage.close();
  }
  const fresh = readJson(path.join(vm.stateDir, 'meta.json')) ?? meta;
  writeJson(path.join(vm.stateDir, 'meta.json'), { ...fresh, nodes: meta.nodes, disks: meta.disks });
}

/** `deleteSnapshot vmx name [andDeleteChildren]` (only a snapshot without child snapshots). */
export async function cmdDeleteSnapshot(args) {
  const vm = openVm(args[0]);
  return withVmLock(vm.stateDir, async () => {
    const model = readVmsd(vm.abs);
    const snap = findSnapshot(vm, model, args[1]);
    if (model.snapshots.some((s) => s.parent === snap.uid)) {
      throw new VmrunError('The operation is not supported (vmrun-sim deletes only snapshots without child snapshots)');
    }
    const vmx = VmxFile.read(vm.abs);
    const dir = path.dirname(vm.abs);
    if (model.current === snap.uid) {
      // the current disks are deltas of this snapshot's disks: consolidate them
      const disks = vmDisks(vmx);
      const parents = disks.map((d) => {
        const s = snap.disks.find((x) => x.node === d.node);
        if (!s) throw new VmrunError('The operation was canceled (snapshot and configuration disagree about the disks)');
        return path.resolve(dir, s.fileName);
      });
      const meta = runningMeta(vm.stateDir);
      if (meta) {
        await commitLive(vm, meta, parents);
        for (const d of disks) fs.rmSync(d.abs, { force: true });
      } else {
        for (const d of disks) commitChildOffline(d.abs);
      }
      disks.forEach((d, i) => vmx.set(d.key, vmxDiskValue(vm.abs, parents[i])));
      vmx.write();
      model.current = snap.parent;
    }
    // otherwise (a reverted-away branch) the snapshot's disks stay as parents of the current state
    fs.rmSync(path.join(dir, snap.filename), { force: true });
    model.snapshots = model.snapshots.filter((s) => s.uid !== snap.uid);
    writeVmsd(vm.abs, model);
    vmLog(vm.abs, `snapshot ${snap.uid} deleted`);
  });
}

/** `revertToSnapshot vmx name`: the VM ends powered off on a fresh delta of the snapshot's disks. */
export async function cmdRevertToSnapshot(args) {
  const vm = openVm(args[0]);
  return withVmLock(vm.stateDir, async () => {
    const model = readVmsd(vm.abs);
    const snap = findSnapshot(vm, model, args[1]);
    const meta = runningMeta(vm.stateDir);
    if (meta) {
      const qmp = await Qmp.connect(meta.qmpSock);
      await qmp.execute('quit').catch(() => undefined);
      qmp.close();
      await waitPoweredOff(vm, meta, 60_000);
    }
    const vmx = VmxFile.read(vm.abs);
    const dir = path.dirname(vm.abs);
    const referenced = new Set(model.snapshots.flatMap((s) => s.disks.map((d) => path.resolve(dir, d.fileName))));
    const current = vmDisks(vmx);
    for (const s of snap.disks) {
      const parentAbs = path.resolve(dir, s.fileName);
      const cur = current.find((d) => d.node === s.node);
      if (cur && !referenced.has(cur.abs) && cur.abs !== parentAbs) fs.rmSync(cur.abs, { force: true });
      const child = nextChildPath(parentAbs);
      createChildVmdk(parentAbs, child);
      vmx.set(cur?.key ?? `${s.node}.fileName`, vmxDiskValue(vm.abs, child));
    }
    const state = vmx.get('checkpoint.vmState');
    if (state) fs.rmSync(path.resolve(dir, state), { force: true });
    vmx.set('checkpoint.vmState', '');
    vmx.write();
    model.current = snap.uid;
    writeVmsd(vm.abs, model);
    vmLog(vm.abs, `reverted to snapshot ${snap.uid}`);
  });
}

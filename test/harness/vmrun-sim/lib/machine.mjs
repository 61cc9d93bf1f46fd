// Turns a .vmx into the command lines of qemu-storage-daemon (serving the real disk files over
// NBD, so VMDK/VHDX chains stay migratable) and qemu-system-x86_64 (TCG).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VmrunError } from './state.mjs';
import { isTrue } from './vmx.mjs';

/** Size of the header the simulator puts in front of QEMU's migration stream in a .vmss. */
export const VMSS_HEADER_BYTES = 4096;
export const VMSS_MAGIC = 'VMRUN-SIM-VMSS 1';
/**
 * The first 4 bytes of every .vmss: VMware's checkpoint magic, little-endian (crash-utility
 * `vmware_vmss.h`: 0xbed2bed2 a complete checkpoint; 0xbad1bad1 one already restored). The
 * simulator's own header text follows at byte 4.
 */
export const CPT_MAGIC = 0xbed2bed2;
export const CPT_RESTORED_MAGIC = 0xbad1bad1;

const BUS_ORDER = ['scsi', 'sata', 'nvme', 'ide'];

/** QEMU option-value escaping: a comma is written twice. */
export function qemuOptValue(v) {
  return String(v).replace(/,/g, ',,');
}

/** Image format for a disk path, by extension. */
export function diskFormat(file) {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.vmdk') return 'vmdk';
  if (ext === '.vhdx') return 'vhdx';
  if (ext === '.vhd') return 'vpc';
  if (ext === '.qcow2') return 'qcow2';
  return 'raw';
}

/** Disks of a VM in device order: [{ node: 'scsi0:0', key, file (as written), abs }]. */
export function vmDisks(vmx) {
  const dir = path.dirname(vmx.path);
  const entries = vmx.entries();
  const disks = [];
  for (const [lk, e] of entries) {
    const m = /^(scsi|sata|nvme|ide)(\d+):(\d+)\.filename$/.exec(lk);
    if (!m) continue;
    const node = `${m[1]}${m[2]}:${m[3]}`;
    if (!isTrue(entries.get(`${node}.present`)?.value, true)) continue;
    const devType = entries.get(`${node}.devicetype`)?.value ?? '';
    if (/cdrom|atapi/i.test(devType)) continue;
    if (!e.value) continue;
    disks.push({
      node,
      key: e.key,
      file: e.value,
      abs: path.resolve(dir, e.value),
      order: [BUS_ORDER.indexOf(m[1]), Number(m[2]), Number(m[3])],
    });
  }
  disks.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1] || a.order[2] - b.order[2]);
  return disks;
}

/**
 * The network a NIC's backing puts it on: `pvn-<id>` for a LAN segment (only VMs with the same
 * pvnID share it), `vmnetN` for a custom network, else the host's `nat` / `bridged` / `hostonly`
 * network — the "office LAN" every VM with that backing shares. Used as a folder name.
 */
export function nicNetwork(connectionType, pvnId, vnet) {
  const t = (connectionType || 'nat').toLowerCase();
  if (t === 'pvn')
    return `pvn-${
      String(pvnId ?? 'none')
        .replace(/[^0-9a-f]/gi, '')
        .toLowerCase() || 'none'
    }`;
  if (t === 'custom')
    return String(vnet || 'vmnet0')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '');
  return t.replace(/[^a-z0-9]/g, '');
}

/** Network adapters: [{ index, connected, mac, connectionType, network }]. */
export function vmNics(vmx) {
  const entries = vmx.entries();
  const nics = [];
  for (let i = 0; i < 10; i++) {
    const get = (k) => entries.get(`ethernet${i}.${k}`)?.value;
    if (!isTrue(get('present'))) continue;
    let mac = get('addresstype') === 'static' ? get('address') : get('generatedaddress');
    if (!mac || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) {
      const h = createHash('sha256').update(`${vmx.path}#${i}`).digest();
      mac = `00:0c:29:${[h[0], h[1], h[2]].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
    }
    const connectionType = get('connectiontype') ?? 'nat';
    nics.push({ index: i, connected: isTrue(get('startconnected'), true), mac, connectionType, network: nicNetwork(connectionType, get('pvnid'), get('vnet')) });
  }
  return nics;
}

/** Checks the minimum a real VMware product needs to open a .vmx. */
export function validateVmx(vmx, vmxArg) {
  if (!vmx.has('config.version') || !vmx.has('virtualHW.version')) {
    throw new VmrunError(`Cannot open VM: ${vmxArg}, Cannot read the virtual machine configuration file`);
  }
}

/** Name of the serial log in the VM folder. */
export function serialLogPath(vmxAbs) {
  return path.join(path.dirname(vmxAbs), `${path.basename(vmxAbs, path.extname(vmxAbs))}.serial0.log`);
}

/** The memory file of a VM: `<base>.vmem` beside the .vmx, or the companion of the .vmss it resumes from. */
export function vmemPath(vmxAbs, incomingVmss) {
  if (incomingVmss) return incomingVmss.replace(/\.vmss$/i, '') + '.vmem';
  return path.join(path.dirname(vmxAbs), `${path.basename(vmxAbs, path.extname(vmxAbs))}.vmem`);
}

/** Where packets a NIC sends onto `network` are recorded (pcap, one file per power-on and NIC). */
export function captureFile(networksRoot, network, vmxAbs, index) {
  const who = `${path.basename(path.dirname(vmxAbs))}--${path.basename(vmxAbs, path.extname(vmxAbs))}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
  return path.join(networksRoot, network, `${who}-eth${index}-${Date.now()}.pcap`);
}

/**
 * Everything the supervisor needs to launch one VM. `incomingVmss`: absolute path of a .vmss to
 * resume from. Guest RAM is the VM's `.vmem`, mapped shared (as Workstation's named-file memory:
 * every guest write lands in the file); the .vmss holds only the device state. `links`: per NIC
 * (`nicN`) whether its link is up at start (default: `startConnected`); `networks`: per NIC the
 * network it is on (default: its backing in the .vmx). `networksRoot`: where
 * each network's packet captures go.
 */
export function buildLaunch(vmx, stateDir, incomingVmss, { links, networks, networksRoot } = {}) {
  const disks = vmDisks(vmx);
  const nics = vmNics(vmx).map((n) => (networks?.[`nic${n.index}`] ? { ...n, network: networks[`nic${n.index}`] } : n));
  for (const d of disks) {
    if (!fs.existsSync(d.abs)) {
      throw new VmrunError(`Cannot open the disk '${d.abs}' or one of the snapshot disks it depends on.`);
    }
  }
  const kernel = vmx.get('sim.kernel');
  const initrd = vmx.get('sim.initrd');
  if (!kernel) throw new VmrunError('The operation was canceled (vmrun-sim: the .vmx has no sim.kernel key)');
  const memMiB = Number(vmx.get('memsize') || 256);
  const cpus = Number(vmx.get('numvcpus') || 1);
  const qsdSock = path.join(stateDir, 'qsd.sock');
  const nbdSock = path.join(stateDir, 'nbd.sock');
  const qmpSock = path.join(stateDir, 'qmp.sock');
  const serialLog = serialLogPath(vmx.path);

  const qsdArgs = ['--chardev', `socket,id=mon,path=${qsdSock},server=on,wait=off`, '--monitor', 'chardev=mon', '--nbd-server', `addr.type=unix,addr.path=${nbdSock}`];
  const vmem = vmemPath(vmx.path, incomingVmss);
  if (incomingVmss && !fs.existsSync(vmem)) {
    throw new VmrunError(`The operation was canceled (vmrun-sim: the memory file ${path.basename(vmem)} of the suspended state cannot be found)`);
  }
  const qemuArgs = [
    '-name',
    'vmrun-sim',
    '-accel',
    'tcg',
    '-object',
    `memory-backend-file,id=ram0,size=${memMiB}M,mem-path=${qemuOptValue(vmem)},share=on`,
    '-machine',
    'pc,memory-backend=ram0',
    '-m',
    String(memMiB),
    '-smp',
    String(cpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-vga',
    'none',
    '-kernel',
    kernel,
    ...(initrd ? ['-initrd', initrd] : []),
    '-append',
    vmx.get('sim.append') ?? 'console=ttyS0',
    '-chardev',
    `file,id=ser0,path=${qemuOptValue(serialLog)},append=${incomingVmss ? 'on' : 'off'}`,
    '-serial',
    'chardev:ser0',
    '-qmp',
    `unix:${qmpSock},server=on,wait=off`,
  ];
  const nodes = [];
  disks.forEach((d, i) => {
    const node = `d${i}`;
    nodes.push(node);
    qsdArgs.push('--blockdev', JSON.stringify({ driver: diskFormat(d.abs), 'node-name': node, file: { driver: 'file', filename: d.abs } }));
    qsdArgs.push('--export', `type=nbd,id=e${i},node-name=${node},name=${node},writable=on`);
    qemuArgs.push('-blockdev', JSON.stringify({ driver: 'nbd', 'node-name': node, server: { type: 'unix', path: nbdSock }, export: node }));
    qemuArgs.push('-device', `virtio-blk-pci,drive=${node},id=vd${i},addr=0x${(0x10 + i).toString(16)}`);
  });
  const captures = {};
  for (const n of nics) {
    // restrict=on: the slirp backend itself reaches nothing; what a NIC sends onto its network
    // is recorded per network (filter-dump sees only what passes a link that is up)
    qemuArgs.push('-netdev', `user,id=net${n.index},restrict=on`);
    if (networksRoot) {
      const file = captureFile(networksRoot, n.network, vmx.path, n.index);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      captures[`nic${n.index}`] = file;
      qemuArgs.push('-object', `filter-dump,id=dump${n.index},netdev=net${n.index},file=${qemuOptValue(file)}`);
    }
    qemuArgs.push('-device', `virtio-net-pci,netdev=net${n.index},id=nic${n.index},mac=${n.mac},addr=0x${(0x8 + n.index).toString(16)}`);
  }
  if (incomingVmss) {
    // RAM comes from the shared .vmem, not from the stream (the source skipped it too)
    // (the supervisor sets x-ignore-shared, then starts the deferred incoming migration)
    qemuArgs.push('-incoming', 'defer');
  }
  const up = (n) => (links && `nic${n.index}` in links ? Boolean(links[`nic${n.index}`]) : n.connected);
  return {
    vmx: vmx.path,
    qsdArgs,
    qemuArgs,
    nodes,
    disks: disks.map((d) => ({ node: d.node, abs: d.abs })),
    linksDown: nics.filter((n) => !up(n)).map((n) => `nic${n.index}`),
    nics: nics.map((n) => ({ id: `nic${n.index}`, index: n.index, network: n.network, connectionType: n.connectionType, mac: n.mac, up: up(n), capture: captures[`nic${n.index}`] })),
    vmem,
    incoming: Boolean(incomingVmss),
    incomingUri: incomingVmss ? `exec:tail -c +${VMSS_HEADER_BYTES + 1} '${path.join(stateDir, 'vmss-in')}'` : undefined,
    serialLog,
    qsdSock,
    qmpSock,
    nbdSock,
  };
}

/** Reads the simulator header of a .vmss (undefined if the file is not one of ours). */
export function readVmssHeader(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(VMSS_HEADER_BYTES);
    fs.readSync(fd, buf, 0, VMSS_HEADER_BYTES, 0);
    if (buf.readUInt32LE(0) !== CPT_MAGIC) return undefined;
    const text = buf.toString('utf8', 4);
    if (!text.startsWith(VMSS_MAGIC + '\n')) return undefined;
    const json = text.slice(VMSS_MAGIC.length + 1).split('\n')[0];
    return JSON.parse(json);
  } finally {
    fs.closeSync(fd);
  }
}

/** Builds the fixed-size .vmss header. */
export function vmssHeader(data) {
  const buf = Buffer.alloc(VMSS_HEADER_BYTES, 0x20);
  const text = `${VMSS_MAGIC}\n${JSON.stringify(data)}\n`;
  if (Buffer.byteLength(text) + 4 > VMSS_HEADER_BYTES) throw new Error('vmss header too large');
  buf.writeUInt32LE(CPT_MAGIC, 0);
  buf.write(text, 4, 'utf8');
  return buf;
}

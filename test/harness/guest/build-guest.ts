/**
 * Builds the tiny real Linux test guest (kernel + initramfs) once per machine into
 * `.cache/guest/<key>/`, from Debian packages:
 *
 * - kernel: `linux-image-<abi>-cloud-amd64` (the candidate that `linux-image-cloud-amd64`
 *   depends on), fetched with `apt-get download` (kept in `.cache/guest/debs/`) and unpacked
 *   with `dpkg-deb --fsys-tarfile | tar` (only the boot image and the needed driver folders);
 * - userland: the host's static busybox (`busybox-static`) and the host's `sqlite3` with the
 *   shared libraries `ldd` reports;
 * - kernel modules (virtio, virtio-blk, virtio-net, evdev, button) in dependency order.
 *
 * Idempotent and safe under concurrency: each build happens in a private temporary folder that
 * is atomically renamed into place; a loser of the race discards its copy and uses the winner's.
 *
 * CLI: `node --import tsx test/harness/guest/build-guest.ts` prints the artefact paths as JSON.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run } from './exec.js';
import { GUEST_MODULES, INIT_SCRIPT, POWER_BUTTON_SCRIPT, WORKLOAD_SCRIPT } from './guest-scripts.js';

/** Bump when the build recipe changes in a way the scripts' hash does not capture. */
const RECIPE_VERSION = 4;

/** Paths of a built guest. */
export interface GuestArtifacts {
  /** Folder holding the artefacts. */
  dir: string;
  /** Kernel image (bzImage). */
  kernel: string;
  /** Uncompressed newc cpio initramfs. */
  initrd: string;
  /** Kernel command line to use (serial console on ttyS0). */
  append: string;
  /** Kernel package the kernel came from, e.g. `linux-image-6.1.0-56-cloud-amd64 6.1.192-2`. */
  kernelPackage: string;
}

/** Repository root (three levels above this file). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Cache folder for guest artefacts (override with TWINSNAP_GUEST_CACHE). */
export function guestCacheRoot(): string {
  return process.env.TWINSNAP_GUEST_CACHE ?? path.join(REPO_ROOT, '.cache', 'guest');
}

function recipeKey(): string {
  const h = createHash('sha256');
  h.update(String(RECIPE_VERSION));
  for (const s of [INIT_SCRIPT, WORKLOAD_SCRIPT, POWER_BUTTON_SCRIPT, GUEST_MODULES.join(',')]) h.update(s);
  return h.digest('hex').slice(0, 12);
}

let inFlight: Promise<GuestArtifacts> | undefined;

/**
 * Returns the built guest, building it first if the cache does not hold it yet.
 * Concurrent callers (in this process or others) are safe.
 */
export function ensureGuest(): Promise<GuestArtifacts> {
  inFlight ??= ensureGuestUncached().catch((e: unknown) => {
    inFlight = undefined;
    throw e;
  });
  return inFlight;
}

async function ensureGuestUncached(): Promise<GuestArtifacts> {
  const root = guestCacheRoot();
  const finalDir = path.join(root, recipeKey());
  const existing = await readManifest(finalDir);
  if (existing) return existing;
  await fs.mkdir(root, { recursive: true });
  const tmp = path.join(root, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(tmp, { recursive: true });
  try {
    await buildInto(tmp);
    try {
      await fs.rename(path.join(tmp, 'out'), finalDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      // another builder won the race; use its result
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  const built = await readManifest(finalDir);
  if (!built) throw new Error(`guest build finished but ${finalDir} has no manifest`);
  return built;
}

async function readManifest(dir: string): Promise<GuestArtifacts | undefined> {
  try {
    const m = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as Omit<GuestArtifacts, 'dir' | 'kernel' | 'initrd'>;
    const kernel = path.join(dir, 'vmlinuz');
    const initrd = path.join(dir, 'initramfs.cpio');
    if (!existsSync(kernel) || !existsSync(initrd)) return undefined;
    return { ...m, dir, kernel, initrd };
  } catch {
    return undefined;
  }
}

const KERNEL_DEB_RE = /^linux-image-\d[\w.+-]*-cloud-amd64_.*\.deb$/;

/** Locates (downloading if needed) the cloud kernel .deb; a downloaded one is kept in the cache. */
async function fetchKernelDeb(workDir: string): Promise<string> {
  const override = process.env.TWINSNAP_GUEST_KERNEL_DEB;
  if (override) return override;
  const debDir = path.join(guestCacheRoot(), 'debs');
  const kept = (await fs.readdir(debDir).catch(() => [] as string[])).filter((f) => KERNEL_DEB_RE.test(f)).sort();
  if (kept.at(-1)) return path.join(debDir, kept.at(-1)!);
  let pkg: string | undefined;
  try {
    const dep = await run('apt-cache', ['depends', '--important', 'linux-image-cloud-amd64']);
    pkg = /Depends:\s*(linux-image-[\w.+-]+-cloud-amd64)/.exec(dep.stdout)?.[1];
  } catch {
    pkg = undefined;
  }
  if (pkg) {
    const res = await run('apt-get', ['download', '-q', pkg], { cwd: workDir, allowFailure: true, timeoutMs: 300_000 });
    const debs = (await fs.readdir(workDir)).filter((f) => f.startsWith(pkg) && f.endsWith('.deb'));
    if (debs[0]) {
      // keep the package for later builds (atomic: copy to a temp name, then rename)
      await fs.mkdir(debDir, { recursive: true });
      const tmpDeb = path.join(debDir, `.${debs[0]}.${process.pid}`);
      await fs.copyFile(path.join(workDir, debs[0]), tmpDeb);
      await fs.rename(tmpDeb, path.join(debDir, debs[0]));
      return path.join(workDir, debs[0]);
    }
    process.stderr.write(`guest: apt-get download ${pkg} failed: ${res.stderr.trim()}\n`);
  }
  const archives = '/var/cache/apt/archives';
  const cached = (await fs.readdir(archives).catch(() => [] as string[])).filter((f) => KERNEL_DEB_RE.test(f)).sort();
  const last = cached.at(-1);
  if (last) return path.join(archives, last);
  throw new Error('cannot obtain a linux-image-*-cloud-amd64 package (apt-get download failed, none cached)');
}

/** Reads `depends=` from a kernel module's .modinfo section. */
async function moduleDepends(file: string): Promise<string[]> {
  const text = (await fs.readFile(file)).toString('latin1');
  const m = /\0depends=([^\0]*)\0/.exec(text);
  return m?.[1] ? m[1].split(',').filter(Boolean) : [];
}

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Orders the wanted modules and their dependencies so each comes after what it needs. */
async function resolveModules(modRoot: string, wanted: readonly string[]): Promise<{ name: string; file: string }[]> {
  const byName = new Map<string, string>();
  for (const f of await walk(modRoot)) {
    if (f.endsWith('.ko')) byName.set(path.basename(f, '.ko').replace(/-/g, '_'), f);
  }
  const order: { name: string; file: string }[] = [];
  const seen = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    const key = name.replace(/-/g, '_');
    if (seen.has(key)) return;
    seen.add(key);
    const file = byName.get(key);
    if (!file) throw new Error(`kernel module ${name} not found under ${modRoot} (built in? remove it from the list)`);
    for (const dep of await moduleDepends(file)) await visit(dep);
    order.push({ name: key, file });
  };
  for (const w of wanted) await visit(w);
  return order;
}

const SIG_MAGIC = '~Module signature appended~\n';

/**
 * Drops a module's appended signature (checking it costs seconds under TCG; the kernel does not
 * enforce signatures when booted without Secure Boot).
 */
function stripModuleSignature(buf: Buffer): Buffer {
  const magicLen = SIG_MAGIC.length;
  if (buf.length < magicLen + 12 || buf.toString('latin1', buf.length - magicLen) !== SIG_MAGIC) return buf;
  const sigLen = buf.readUInt32BE(buf.length - magicLen - 4);
  const end = buf.length - magicLen - 12 - sigLen;
  return end > 0 ? buf.subarray(0, end) : buf;
}

/** Copies a binary and the shared libraries `ldd` lists (same absolute paths inside root). */
async function copyWithLibs(bin: string, root: string): Promise<void> {
  await copyInto(bin, root, bin);
  const ldd = await run('ldd', [bin]);
  for (const line of ldd.stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) await copyInto(await fs.realpath(m[1]), root, m[1]);
  }
}

async function copyInto(src: string, root: string, dest: string): Promise<void> {
  const target = path.join(root, dest);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.copyFile(src, target);
  await fs.chmod(target, 0o755);
}

async function writeExec(root: string, rel: string, text: string): Promise<void> {
  const target = path.join(root, rel);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.writeFile(target, text, { mode: 0o755 });
}

async function buildInto(tmp: string): Promise<void> {
  const out = path.join(tmp, 'out');
  const root = path.join(tmp, 'root');
  const kdir = path.join(tmp, 'kernel');
  await fs.mkdir(out, { recursive: true });
  const deb = await fetchKernelDeb(tmp);
  const info = await run('dpkg-deb', ['-f', deb, 'Package', 'Version']);
  const kernelPackage = info.stdout
    .split('\n')
    .map((l) => l.replace(/^\w+:\s*/, ''))
    .filter(Boolean)
    .join(' ');
  // unpack only the kernel and the driver folders the guest's modules come from
  await fs.mkdir(kdir, { recursive: true });
  await run(
    'sh',
    [
      '-c',
      'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "./boot/vmlinuz-*" "./lib/modules/*/kernel/drivers/virtio/*" "./lib/modules/*/kernel/drivers/block/*" "./lib/modules/*/kernel/drivers/input/*" "./lib/modules/*/kernel/drivers/acpi/*" "./lib/modules/*/kernel/drivers/net/virtio_net.ko" "./lib/modules/*/kernel/drivers/net/net_failover.ko" "./lib/modules/*/kernel/net/core/failover.ko"',
      'unpack',
      deb,
      kdir,
    ],
    { timeoutMs: 300_000 },
  );
  const vmlinuz = (await fs.readdir(path.join(kdir, 'boot'))).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`${deb} has no boot/vmlinuz-*`);
  await fs.copyFile(path.join(kdir, 'boot', vmlinuz), path.join(out, 'vmlinuz'));
  const modVersions = await fs.readdir(path.join(kdir, 'lib', 'modules'));
  const modRoot = path.join(kdir, 'lib', 'modules', modVersions[0] ?? '');
  const modules = await resolveModules(modRoot, GUEST_MODULES);
  for (const m of modules) {
    const target = path.join(root, 'lib', 'modules', `${m.name}.ko`);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, stripModuleSignature(await fs.readFile(m.file)));
  }
  await fs.mkdir(path.join(root, 'etc'), { recursive: true });
  await fs.writeFile(path.join(root, 'etc', 'modules.order'), modules.map((m) => m.name).join('\n') + '\n');

  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox-static is not installed');
  await copyInto(busybox, root, '/bin/busybox');
  await copyWithLibs('/usr/bin/sqlite3', root);
  await writeExec(root, '/init', INIT_SCRIPT);
  await writeExec(root, '/bin/workload', WORKLOAD_SCRIPT);
  await writeExec(root, '/etc/acpi/PWRF/00000080', POWER_BUTTON_SCRIPT);
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'data']) await fs.mkdir(path.join(root, d), { recursive: true });

  const entries = (await walkAll(root)).map((p) => '.' + p.slice(root.length)).sort();
  await run('sh', ['-c', 'cpio -o -H newc --quiet -R 0:0 > "$1"', 'cpio', path.join(out, 'initramfs.cpio')], {
    cwd: root,
    input: ['.', ...entries].join('\n') + '\n',
  });
  // init_on_free zeroes freed memory, so suspend files (migration streams skip zero pages) stay
  // small; the other switches only skip work that is useless in a throw-away TCG guest.
  const append = 'console=ttyS0 quiet panic=-1 init_on_free=1 init_on_alloc=0 mitigations=off cryptomgr.notests nokaslr';
  const manifest = { append, kernelPackage, modules: modules.map((m) => m.name) };
  await fs.writeFile(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

async function walkAll(dir: string, out: string[] = []): Promise<string[]> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) await walkAll(p, out);
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureGuest().then(
    (g) => process.stdout.write(JSON.stringify(g, null, 2) + '\n'),
    (e: unknown) => {
      process.stderr.write(`guest build failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Shell scripts baked into the test guest's initramfs.
 *
 * The guest is deliberately tiny: busybox as the userland, the host's sqlite3 CLI for the
 * workload, and a handful of kernel modules. Behaviour can be tuned per VM through the kernel
 * command line (the `.vmx` key `sim.append`):
 *
 * - `twinsnap.tools=none`  — never print `VMTOOLS: running` (simulates a guest without Tools /
 *   integration services).
 * - `twinsnap.acpi=ignore` — do not start acpid, so the ACPI power button is ignored.
 * - `twinsnap.workload=off` — mount the data disk but run no workload.
 *
 * Serial-console protocol (first serial port, one line each):
 * - `ACK <n>`            transaction n is committed (synchronous=FULL, WAL) on the data disk.
 * - `VMTOOLS: running`   printed once the workload and the power-button handler are up.
 *
 * Network: a guest with a NIC (`eth0`, virtio-net) gives it 192.168.77.10/24 and sends one ARP
 * request for 192.168.77.1 every second (busybox arping), so whatever network its NIC is on
 * sees it — the simulator records that traffic per network (the "office LAN" test).
 * - `GUEST: <text>`      diagnostics (boot, power button, unmount, power off).
 */

/** Path of the SQLite database inside the guest's data disk (ext4 root of /dev/vda). */
export const GUEST_DB_PATH = '/app.db';
/** Path of the clean-shutdown marker inside the guest's data disk. */
export const GUEST_MARKER_PATH = '/CLEAN_SHUTDOWN';

/** The guest's PID 1. */
export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /data /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
up() { read -r u _ </proc/uptime; echo "$u"; }
echo "GUEST: init started at $(up)"
for m in $(cat /etc/modules.order); do
  insmod "/lib/modules/$m.ko" 2>/dev/null || echo "GUEST: insmod $m failed"
done
CMDLINE=$(cat /proc/cmdline)
opt() { for w in $CMDLINE; do case "$w" in "twinsnap.$1="*) echo "\${w#*=}"; return;; esac; done; }
TOOLS=$(opt tools); ACPI=$(opt acpi); WORKLOAD=$(opt workload)
echo "GUEST: modules loaded at $(up)"
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
if mount -t ext4 /dev/vda /data; then
  echo "GUEST: data disk mounted at $(up)"
  if [ "$WORKLOAD" != "off" ]; then /bin/workload & fi
else
  echo "GUEST: no data disk"
fi
if [ -e /sys/class/net/eth0 ]; then
  ip link set eth0 up && ip addr add 192.168.77.10/24 dev eth0
  ( while :; do arping -c 1 -w 1 -I eth0 192.168.77.1 >/dev/null 2>&1; sleep 1; done ) &
  echo "GUEST: eth0 up, announcing itself every second"
fi
if [ "$ACPI" != "ignore" ]; then
  acpid -c /etc/acpi -l /tmp/acpid.log
fi
if [ "$TOOLS" != "none" ]; then
  i=0
  while [ "$WORKLOAD" != "off" ] && [ ! -e /tmp/workload.started ] && [ $i -lt 300 ]; do usleep 100000; i=$((i+1)); done
  echo "VMTOOLS: running"
fi
while :; do sleep 3600; done
`;

/** The workload: one committed SQLite transaction per iteration, acknowledged on the console. */
export const WORKLOAD_SCRIPT = `#!/bin/sh
DB=/data${GUEST_DB_PATH}
n=$(sqlite3 -cmd '.timeout 10000' "$DB" "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS tx(n INTEGER PRIMARY KEY, payload TEXT NOT NULL); SELECT coalesce(max(n),0) FROM tx;" | tail -n 1)
case "$n" in ''|*[!0-9]*) echo "GUEST: workload cannot open database"; n=0;; esac
echo "GUEST: workload starting after $n"
touch /tmp/workload.started
while [ ! -e /tmp/workload.stop ]; do
  next=$((n+1))
  if sqlite3 -cmd '.timeout 10000' "$DB" "PRAGMA synchronous=FULL; INSERT INTO tx(n, payload) VALUES($next, hex(randomblob(200)));"; then
    n=$next
    echo "ACK $n"
  else
    echo "GUEST: commit $next failed"
    usleep 500000
  fi
done
echo "GUEST: workload stopped at $n"
touch /tmp/workload.done
`;

/** busybox acpid action for the power button (event PWRF/00000080). */
export const POWER_BUTTON_SCRIPT = `#!/bin/sh
exec >/dev/console 2>&1
echo "GUEST: power button pressed"
touch /tmp/workload.stop
i=0
while [ -e /tmp/workload.started ] && [ ! -e /tmp/workload.done ] && [ $i -lt 600 ]; do usleep 100000; i=$((i+1)); done
DB=/data${GUEST_DB_PATH}
if [ -e "$DB" ]; then
  last=$(sqlite3 -cmd '.timeout 10000' "$DB" "SELECT coalesce(max(n),0) FROM tx; PRAGMA wal_checkpoint(TRUNCATE);" | head -n 1)
  echo "GUEST: checkpointed at $last"
else
  last=0
fi
echo "clean-shutdown last=$last" > /data${GUEST_MARKER_PATH}
sync
if umount /data; then echo "GUEST: data disk unmounted"; else echo "GUEST: unmount failed"; fi
echo "GUEST: powering off"
poweroff -f
`;

/** Kernel modules to load, in dependency order (names without .ko; the builder adds deps). */
export const GUEST_MODULES = ['virtio_ring', 'virtio', 'virtio_pci', 'virtio_blk', 'virtio_net', 'evdev', 'button'];

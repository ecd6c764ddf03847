// The guest's initramfs: busybox, the modules that reach the host's files (virtio, 9p, overlay), and
// an init that mounts the host's / read-only over virtio-9p under a tmpfs overlay, then hands over to
// the job's script on that root. Built once per kernel into the cache.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeCpio, type CpioEntry } from './cpio.js';
import { MatrixSetupError, type PreparedKernel } from './packages.js';

const BUSYBOX = '/bin/busybox';
/** What init needs before the host's root is reachable; the rest comes from modprobe inside the guest. */
const BOOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];
const VERSION = 4; // bump when the init below changes

/** Kernel modules BOOT_MODULES need, dependencies first, as modprobe would load them. */
function bootModules(k: PreparedKernel): string[] {
  const base = k.root;
  const r = spawnSync('modprobe', ['-d', base, '-S', k.release, '--show-depends', '-a', ...BOOT_MODULES], { encoding: 'utf8' });
  if (r.error) throw new MatrixSetupError('the kernel matrix needs modprobe (apt-get install kmod)');
  const seen = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^insmod (\S+)/.exec(line);
    if (m && !seen.has(m[1]!)) seen.add(m[1]!);
  }
  return [...seen];
}

function readModule(path: string): Uint8Array {
  if (path.endsWith('.ko')) return readFileSync(path);
  const cmd = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : 'gzip';
  return execFileSync(cmd, ['-dc', path], { maxBuffer: 1 << 28 });
}

function initScript(k: PreparedKernel): string {
  const nine = 'trans=virtio,version=9p2000.L,msize=512000';
  return `#!/bin/busybox sh
B=/bin/busybox
die() { echo "matrix-init: $*" > /dev/console; $B poweroff -f; }
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in $($B cat /modules.list); do $B insmod /lib/modules/$m || die "insmod $m failed"; done
$B mount -t 9p -o ${nine},ro,cache=loose hostroot /lower || die "cannot mount the host's / over virtio-9p"
$B mount -t tmpfs -o size=75% tmpfs /upper
$B mkdir -p /upper/u /upper/w
$B mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || die "overlay mount failed"
$B mkdir -p /newroot/matrix /newroot/matrix-kernel /newroot/lib/modules/${k.release}
$B mount -t 9p -o ${nine} job /newroot/matrix || die "cannot mount the job folder"
$B mount -t 9p -o ${nine},ro,cache=loose kpkg /newroot/matrix-kernel || die "cannot mount the kernel package"
# as an installed Debian kernel: its modules, and its config and System.map in /boot
$B mount --bind /newroot/matrix-kernel/lib/modules/${k.release} /newroot/lib/modules/${k.release}
$B cp /newroot/matrix-kernel/boot/config-${k.release} /newroot/matrix-kernel/boot/System.map-${k.release} /newroot/boot/
$B umount /proc /sys
$B mount --move /dev /newroot/dev
exec $B switch_root /newroot /bin/bash /matrix/job.sh
`;
}

/** Build (or reuse) the initramfs of a kernel; returns its path. */
export function initramfs(k: PreparedKernel): string {
  const out = join(k.root, `initramfs-v${VERSION}.cpio.gz`);
  if (existsSync(out)) return out;
  if (!existsSync(BUSYBOX)) throw new MatrixSetupError('the kernel matrix needs a static busybox (apt-get install busybox-static)');
  const entries: CpioEntry[] = [];
  for (const d of ['bin', 'dev', 'proc', 'sys', 'lib', 'lib/modules', 'lower', 'upper', 'newroot']) entries.push({ name: d, mode: 0o40755 });
  entries.push({ name: 'bin/busybox', mode: 0o100755, data: readFileSync(BUSYBOX) });
  const names: string[] = [];
  for (const m of bootModules(k)) {
    const name = m.split('/').at(-1)!.replace(/\.(xz|zst|gz)$/, '');
    names.push(name);
    entries.push({ name: `lib/modules/${name}`, mode: 0o100644, data: readModule(m) });
  }
  entries.push({ name: 'modules.list', mode: 0o100644, data: Buffer.from(names.join('\n') + '\n') });
  entries.push({ name: 'init', mode: 0o100755, data: Buffer.from(initScript(k)) });
  writeFileSync(out, gzipSync(writeCpio(entries), { level: 1 }));
  return out;
}

// Real containers for tests, with nothing pulled: a busybox-static root filesystem imported as an
// image, run by podman as root. On a hybrid cgroup layout (v1 controllers, cgroup2 at
// /sys/fs/cgroup/unified) crun refuses to run ("cgroups in hybrid mode not supported"): runc runs
// there, and joins the container to its cgroup2 directory too, as the tools need.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, copyFileSync, symlinkSync, rmSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroup2Root } from '../../src/tools/common/cgroup.js';

export const BUSYBOX_IMAGE = 'localhost/tsbpf-test-busybox:latest';

/** podman's global flags and `run` flags that work on this machine. */
export function podmanRuntime(): string[] {
  return cgroup2Root() === '/sys/fs/cgroup' ? [] : ['--runtime', 'runc'];
}

/** `podman run` flags every test container takes: file limits below the hard limit a sandbox may set. */
export const RUN_FLAGS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

export function podman(args: string[], opts: { input?: string } = {}): string {
  return execFileSync('podman', [...podmanRuntime(), ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts }).trim();
}

/** podman, without blocking the test's event loop (a container may talk to a server of the test). */
export function podmanAsync(args: string[]): Promise<string> {
  const p = spawn('podman', [...podmanRuntime(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((res, rej) => p.on('exit', (code) => (code === 0 ? res(out.trim()) : rej(new Error(`podman ${args.join(' ')}: exit ${code}: ${err}`)))));
}

/** Imports the busybox image once (podman import of a tar of /bin/busybox and its applets). */
export function busyboxImage(): string {
  if (spawnSync('podman', ['image', 'exists', BUSYBOX_IMAGE]).status === 0) return BUSYBOX_IMAGE;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-busybox-'));
  try {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'bin'), { recursive: true });
    for (const d of ['tmp', 'proc', 'sys', 'dev', 'etc']) mkdirSync(join(root, d));
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    for (const applet of ['sh', 'sleep', 'wget', 'nc', 'true', 'cat', 'echo', 'ls']) symlinkSync('busybox', join(root, 'bin', applet));
    execFileSync('tar', ['-C', root, '-cf', join(dir, 'rootfs.tar'), '.']);
    execFileSync('podman', ['import', join(dir, 'rootfs.tar'), BUSYBOX_IMAGE], { stdio: 'ignore' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return BUSYBOX_IMAGE;
}

/**
 * Removes a cgroup podman was given as --cgroup-parent, in cgroup2 and in every v1 hierarchy
 * (cgroupfs manager makes it in each), with whatever empty children are left.
 */
export function removeCgroupParent(name: string): void {
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((d) => join('/sys/fs/cgroup', d));
  for (const r of roots) {
    const dir = join(r, name);
    if (!existsSync(dir)) continue;
    try {
      for (const c of readdirSync(dir, { withFileTypes: true })) if (c.isDirectory()) rmdirSync(join(dir, c.name));
      rmdirSync(dir);
    } catch {
      /* still in use: a later run removes it */
    }
  }
}

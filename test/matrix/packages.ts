// Debian's kernel packages for the matrix: found in apt's lists, downloaded once into a cache outside
// the repository, extracted, with modules.dep made so that modprobe works inside the guest.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { extractVmlinux } from './vmlinux.js';

/** A kernel of the matrix: a short name users type and the Debian package name pattern. */
export interface KernelSpec {
  name: string;
  /** anchored regular expression over package names */
  pattern: RegExp;
}

export const KERNELS: KernelSpec[] = [
  { name: '6.1', pattern: /^linux-image-6\.1\.0-[0-9]+-amd64$/ },
  { name: '6.12', pattern: /^linux-image-6\.12\.[0-9]+\+deb12-amd64$/ },
];

/** A kernel ready to boot: its ELF vmlinux and its extracted /lib/modules/<release>. */
export interface PreparedKernel {
  spec: KernelSpec;
  pkg: string;
  release: string;
  /** the extracted package */
  root: string;
  vmlinux: string;
  /** the extracted package's lib/modules/<release> (modules.dep made) */
  modules: string;
}

export class MatrixSetupError extends Error {}

export function cacheDir(): string {
  const dir = process.env.TSBPF_KERNELS_DIR ??
    (process.getuid?.() === 0 ? '/var/cache/tsbpf/kernels' : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tsbpf', 'kernels'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Compare package names by their numeric parts (6.1.0-9 < 6.1.0-10). */
function byVersion(a: string, b: string): number {
  const na = a.match(/[0-9]+/g)!.map(Number), nb = b.match(/[0-9]+/g)!.map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? -1) - (nb[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The newest package apt knows for the spec, or the newest already in the cache when apt knows none. */
function choosePackage(spec: KernelSpec, dir: string): string {
  const cached = readdirSync(dir).filter((f) => f.endsWith('.deb')).map((f) => f.split('_')[0]!).filter((n) => spec.pattern.test(n));
  let known: string[] = [];
  if (have('apt-cache')) {
    const r = spawnSync('apt-cache', ['search', '--names-only', spec.pattern.source], { encoding: 'utf8' });
    known = r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => spec.pattern.test(n));
  }
  // an offline machine boots what it has; a connected one the newest Debian publishes
  const pick = (known.length ? known : cached).sort(byVersion).at(-1);
  if (!pick) {
    throw new MatrixSetupError(`kernel ${spec.name}: no package matching ${spec.pattern.source} in apt's lists or in ${dir} (run apt-get update, or put the .deb there)`);
  }
  return pick;
}

function download(pkg: string, dir: string): string {
  const have = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (have) return join(dir, have);
  process.stderr.write(`matrix: downloading ${pkg} into ${dir}\n`);
  const r = spawnSync('apt-get', ['download', '-q', pkg], { cwd: dir, encoding: 'utf8' });
  const got = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!got) throw new MatrixSetupError(`kernel package ${pkg}: apt-get download failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
  return join(dir, got);
}

/** Download (when missing), extract and prepare one kernel; cached, so a second call costs nothing. */
export function prepareKernel(spec: KernelSpec): PreparedKernel {
  for (const cmd of ['dpkg-deb', 'depmod']) {
    if (!have(cmd)) throw new MatrixSetupError(`the kernel matrix needs ${cmd} (apt-get install ${cmd === 'depmod' ? 'kmod' : 'dpkg'})`);
  }
  const dir = cacheDir();
  const pkg = choosePackage(spec, dir);
  const root = join(dir, pkg);
  const done = join(root, '.prepared');
  if (!existsSync(done)) {
    const deb = download(pkg, dir);
    const tmp = `${root}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync('dpkg-deb', ['-x', deb, tmp]);
    const release = readdirSync(join(tmp, 'lib/modules'))[0]!;
    execFileSync('depmod', ['-b', tmp, release]);
    const bz = join(tmp, 'boot', `vmlinuz-${release}`);
    extractVmlinux(bz, join(tmp, 'vmlinux'));
    writeFileSync(join(tmp, '.prepared'), `${release}\n`);
    rmSync(root, { recursive: true, force: true });
    renameSync(tmp, root);
  }
  const release = readdirSync(join(root, 'lib/modules'))[0]!;
  return { spec, pkg, release, root, vmlinux: join(root, 'vmlinux'), modules: join(root, 'lib/modules', release) };
}

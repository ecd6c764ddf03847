#!/usr/bin/env node
// What `npm test` needs on a fresh Debian machine, set up before anything else runs: the packages the
// tests use (as root: installed with apt; otherwise named, and the run stops), Node's own
// dependencies (npm ci when node_modules is missing), and bpffs/tracefs mounted as the tools
// running side by side (bpftool, bpftrace, libbpf-tools) expect them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// command or file → Debian package
const NEEDS = [
  ['clang', 'clang'], ['llc', 'llvm'], ['/usr/include/bpf/libbpf.h', 'libbpf-dev'], ['bpftool', 'bpftool'],
  ['tcpdump', 'tcpdump'], ['ip', 'iproute2'], ['ping', 'iputils-ping'], ['iperf3', 'iperf3'], ['objdump', 'binutils'],
  ['bpftrace', 'bpftrace'], ['/usr/sbin/tcpconnect', 'libbpf-tools'], ['gcc', 'gcc'], ['make', 'make'], ['python3', 'python3'],
  // the kernel matrix: qemu, the guest's initramfs (busybox, modprobe), the kernel packages' decompressors
  ['qemu-system-x86_64', 'qemu-system-x86'], ['/bin/busybox', 'busybox-static'], ['depmod', 'kmod'], ['xz', 'xz-utils'], ['zstd', 'zstd'],
  ['flock', 'util-linux'], ['findmnt', 'util-linux'], ['dpkg-deb', 'dpkg'],
  // the package: prebuilt addons (arm64 cross-compiled, loaded under qemu-user), tsbpf/vm in a browser
  ['aarch64-linux-gnu-gcc', 'gcc-aarch64-linux-gnu'], ['qemu-aarch64', 'qemu-user'], ['chromium', 'chromium'],
  // tsbpf completion's scripts are run by the shells they are for
  ['zsh', 'zsh'], ['fish', 'fish'],
  // the agent: real containers (runc where crun refuses a hybrid cgroup layout) and a real Prometheus
  ['podman', 'podman'], ['runc', 'runc'], ['prometheus', 'prometheus'], ['promtool', 'prometheus'],
  // benchmarks: cilium/ebpf as a peer (Go, built offline), xdp-bench's drop program, veth NAPI set-up
  ['go', 'golang-go'], ['/usr/share/gocode/src/github.com/cilium/ebpf', 'golang-github-cilium-ebpf-dev'],
  ['xdp-bench', 'xdp-tools'], ['ethtool', 'ethtool'], ['chromium', 'chromium'],
];
const KERNEL_PACKAGES = ['^linux-image-6\\.1\\.0-[0-9]+-amd64$', '^linux-image-6\\.12\\.[0-9]+\\+deb12-amd64$'];

const sh = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', ...opts });
const has = (what) => (what.startsWith('/') ? existsSync(what) : sh('sh', ['-c', `command -v ${what}`]).status === 0);
const root = process.getuid?.() === 0;

const missing = [...new Set(NEEDS.filter(([what]) => !has(what)).map(([, pkg]) => pkg))];
// apt's lists must know the kernel packages the matrix downloads
const aptKnowsKernels = () => KERNEL_PACKAGES.every((p) => sh('apt-cache', ['search', '--names-only', p]).stdout.trim() !== '');
const haveApt = has('apt-get');
if (missing.length || (haveApt && !aptKnowsKernels())) {
  if (!root || !haveApt) {
    process.stderr.write(`npm test needs these Debian packages: ${missing.join(' ') || '(apt lists with the kernel packages)'}\n` +
      `install them as root: apt-get update && apt-get install -y ${missing.join(' ')}\n`);
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write(`setup: apt-get install ${missing.join(' ') || '(lists only)'}\n`);
  if (sh('apt-get', ['update', '-qq'], { stdio: 'inherit', env }).status !== 0) process.exit(1);
  if (missing.length && sh('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env }).status !== 0) process.exit(1);
}

if (!existsSync(new URL('../node_modules/.package-lock.json', import.meta.url))) {
  process.stderr.write('setup: npm ci\n');
  if (sh('npm', ['ci'], { stdio: 'inherit', cwd: new URL('..', import.meta.url).pathname }).status !== 0) process.exit(1);
}

if (root) {
  const mounted = (p) => sh('mountpoint', ['-q', p]).status === 0;
  if (!mounted('/sys/fs/bpf')) sh('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  if (!mounted('/sys/kernel/tracing')) sh('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing']);
}

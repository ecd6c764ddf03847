#!/usr/bin/env node
// An arm64 Node.js from Debian's arm64 packages, unpacked into a directory that qemu-aarch64 uses
// as its root (-L): how the prebuilt linux-arm64 addon is checked to load on an x64 machine. apt
// runs with a state and cache of its own (APT::Architecture=arm64), so this machine's dpkg
// architectures and package lists are left as they are. Prints the directory; does nothing when it
// is there already. Needs apt-get, apt-cache and dpkg-deb (Debian); about 25 MB is downloaded once
// into $TSBPF_ARM64_NODE_DIR (default /var/cache/tsbpf/arm64-node).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.TSBPF_ARM64_NODE_DIR ?? '/var/cache/tsbpf/arm64-node';
const root = join(dir, 'root');
if (!existsSync(join(root, 'usr', 'bin', 'node'))) {
  for (const d of ['state/lists/partial', 'cache/archives/partial', 'debs']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'status'), '');
  const apt = ['-o', `Dir::State=${dir}/state`, '-o', `Dir::State::status=${dir}/status`, '-o', `Dir::Cache=${dir}/cache`, '-o', 'APT::Architecture=arm64', '-o', 'APT::Architectures::=arm64', '-o', 'Debug::NoLocking=1'];
  const run = (cmd, args, cwd) => execFileSync(cmd, [...apt, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  run('apt-get', ['update', '-qq']);
  // nodejs and everything it depends on (libc6 included: the root stands alone)
  const deps = run('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', 'nodejs'])
    .split('\n')
    .filter((l) => /^[a-z0-9]/.test(l) && !l.startsWith('<'))
    .map((l) => l.trim());
  const debs = join(dir, 'debs');
  run('apt-get', ['download', ...new Set(deps)], debs);
  const staging = `${root}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  for (const f of readdirSync(debs)) if (f.endsWith('.deb')) execFileSync('dpkg-deb', ['-x', join(debs, f), staging]);
  rmSync(root, { recursive: true, force: true });
  renameSync(staging, root);
}
console.log(root);

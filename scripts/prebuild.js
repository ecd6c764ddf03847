#!/usr/bin/env node
// Builds the N-API addon for the package: prebuilds/linux-x64/tsbpf.napi.node and
// prebuilds/linux-arm64/tsbpf.napi.node, where node-gyp-build finds them at install and at run time
// (native/install.cjs, src/sys/native.ts), so installing tsbpf needs no C compiler. arm64 is
// cross-compiled with Debian's gcc-aarch64-linux-gnu against the same Node-API headers: an N-API
// addon links against no Node library, its symbols resolve in whichever Node loads it. Run by
// `npm pack` (prepack); needs gcc and gcc-aarch64-linux-gnu.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const gyp = JSON.parse(readFileSync(join(root, 'binding.gyp'), 'utf8')).targets[0];
// Node's headers: Debian's nodejs puts them in /usr/include/node (npm's nodedir=/usr here)
const headers = [process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'), '/usr/include/node', join(process.execPath, '..', '..', 'include', 'node')].find((d) => d && existsSync(join(d, 'node_api.h')));
if (!headers) throw new Error('prebuild: no node_api.h found (install nodejs headers, or set npm_config_nodedir)');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (process.platform !== 'linux') throw new Error('prebuild: builds the Linux addons, on Linux');

const out = (arch) => {
  const dir = join(root, 'prebuilds', `linux-${arch}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, `${gyp.target_name}.napi.node`);
};

// Both with the C compiler straight (binding.gyp's one source and flags): no node-gyp run, the same
// recipe for both architectures.
const targets = [
  { arch: 'x64', cc: process.env.TSBPF_CC_X64 ?? 'x86_64-linux-gnu-gcc', strip: 'strip' },
  { arch: 'arm64', cc: process.env.TSBPF_CC_ARM64 ?? 'aarch64-linux-gnu-gcc', strip: 'aarch64-linux-gnu-strip' },
];
for (const t of targets) {
  run(t.cc, ['-shared', '-fPIC', '-pthread', ...gyp.cflags, `-DNODE_GYP_MODULE_NAME=${gyp.target_name}`, '-DBUILDING_NODE_EXTENSION', `-I${headers}`, ...gyp.sources, '-o', out(t.arch)]);
  run(t.strip, ['--strip-unneeded', out(t.arch)]);
}
console.log(`prebuild: ${targets.map((t) => out(t.arch).slice(root.length)).join(', ')}`);

#!/usr/bin/env node
// Builds the agent's container image with podman, pulling nothing: stages dist/image/rootfs/ —
// this machine's Node binary and the shared libraries it links (from ldd), the package's agent
// bundle, native addon and tools' kernel objects, the default config — then runs
// `podman build -f deploy/Containerfile dist/image`. Needs `npm run build` first.
//   node scripts/agent-image.js [--tag NAME] [--stage-only]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, copyFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { bundleCli } from './bundle-cli.js';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const tag = args.includes('--tag') ? args[args.indexOf('--tag') + 1] : 'localhost/tsbpf-agent:latest';
const ctx = join(root, 'dist', 'image');
const fs = join(ctx, 'rootfs');
const opt = join(fs, 'opt', 'tsbpf');

const need = ['dist/src/cli/launch.js', 'build/Release/tsbpf.node'];
for (const f of need) if (!existsSync(join(root, f))) throw new Error(`${f} missing: run npm run build first`);

rmSync(ctx, { recursive: true, force: true });
mkdirSync(opt, { recursive: true });

/** A file copied to the same path under the root filesystem (symlinks resolved: the image has no others). */
const put = (file, at = file) => {
  mkdirSync(dirname(join(fs, at)), { recursive: true });
  copyFileSync(realpathSync(file), join(fs, at));
};

// Node and what it links: the loader and every library ldd names, at the paths ldd gives
const node = realpathSync(process.execPath);
put(node, '/usr/local/bin/node');
for (const line of execFileSync('ldd', [node], { encoding: 'utf8' }).split('\n')) {
  const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
  if (m) put(m[1]);
}

// the package: the launcher, the CLI bundle with the agent's libraries inside it (the image has no
// node_modules), the addon, objects
await bundleCli(join(opt, 'dist', 'cli', 'tsbpf.cjs'), []);
for (const f of ['package.json', 'bin/tsbpf', 'bin/package.json', 'build/Release/tsbpf.node']) {
  if (!existsSync(join(root, f))) continue;
  mkdirSync(dirname(join(opt, f)), { recursive: true });
  copyFileSync(join(root, f), join(opt, f));
}
for (const e of readdirSync(join(root, 'src', 'tools'), { withFileTypes: true })) {
  if (!e.isDirectory()) continue;
  const tool = e.name;
  const dir = join(root, 'src', 'tools', tool);
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.bpf.o'))) {
    mkdirSync(join(opt, 'src', 'tools', tool), { recursive: true });
    copyFileSync(join(dir, f), join(opt, 'src', 'tools', tool, f));
  }
}
mkdirSync(join(fs, 'etc', 'tsbpf'), { recursive: true });
cpSync(join(root, 'deploy', 'agent.yaml'), join(fs, 'etc', 'tsbpf', 'agent.yaml'));
writeFileSync(join(fs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/sbin/nologin\n');
writeFileSync(join(fs, 'etc', 'group'), 'root:x:0:\n');
for (const d of ['tmp', 'proc', 'sys', 'dev', 'root', 'var/cache/tsbpf']) mkdirSync(join(fs, d), { recursive: true });

if (args.includes('--stage-only')) {
  process.stdout.write(`${relative(process.cwd(), ctx)}\n`);
  process.exit(0);
}
const runtime = existsSync('/sys/fs/cgroup/cgroup.controllers') ? [] : ['--runtime', 'runc'];
execFileSync('podman', [...runtime, 'build', '--pull=never', '-f', join(root, 'deploy', 'Containerfile'), '-t', tag, ctx], { stdio: 'inherit' });
process.stdout.write(`${tag}\n`);

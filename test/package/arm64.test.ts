// The prebuilt linux-arm64 addon (scripts/prebuild.js, cross-compiled) loads and works in an arm64
// Node: Debian's arm64 nodejs (scripts/arm64-node.js) under qemu-aarch64, found by node-gyp-build in
// a package laid out as installed (no build/ directory). The kernel calls themselves are not made:
// qemu-user does not translate bpf(2) or perf_event_open(2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsCommand } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';

test('the linux-arm64 addon loads under qemu-aarch64 in Debian\'s arm64 Node, and tsbpf/vm runs there', (t) => {
  for (const cmd of ['qemu-aarch64', 'aarch64-linux-gnu-gcc', 'apt-get', 'dpkg-deb']) if (!needsCommand(t, cmd)) return;
  const pre = spawnSync(process.execPath, [repoPath('scripts/prebuild.js')], { encoding: 'utf8' });
  assert.equal(pre.status, 0, pre.stderr);
  const fetched = spawnSync(process.execPath, [repoPath('scripts/arm64-node.js')], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(fetched.status, 0, fetched.stderr);
  const root = fetched.stdout.trim();
  const pkg = mkdtempSync(join(tmpdir(), 'tsbpf-arm64-'));
  try {
    // the installed package's layout: prebuilds/ and node-gyp-build, no build/
    cpSync(repoPath('prebuilds'), join(pkg, 'prebuilds'), { recursive: true });
    cpSync(repoPath('node_modules/node-gyp-build'), join(pkg, 'node_modules/node-gyp-build'), { recursive: true });
    const check = `
const path = require('node-gyp-build').resolve(${JSON.stringify(pkg)});
const n = require(path);
console.log(JSON.stringify({ arch: process.arch, node: process.version, path: path.slice(${pkg.length + 1}), functions: Object.keys(n).length, tid: n.gettid() === process.pid, errno: n.strerror(1)[0], badFd: n.close(-1) }));`;
    const r = spawnSync('qemu-aarch64', ['-L', root, join(root, 'usr/bin/node'), '-e', check], { cwd: pkg, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Record<string, unknown>;
    t.diagnostic(`under qemu-aarch64: ${r.stdout.trim()}`);
    assert.equal(got.arch, 'arm64');
    assert.equal(got.path, 'prebuilds/linux-arm64/tsbpf.napi.node');
    assert.ok(Number(got.functions) >= 20);
    assert.equal(got.tid, true);
    assert.equal(got.errno, 'EPERM');
    assert.equal(got.badFd, -9, 'close(-1) is -EBADF: the addon reaches the (emulated) kernel');
    // the userspace runtime on arm64: a filter verified at load and run by both engines
    const vm = `import { Vm, compileFilter, ProgramType } from ${JSON.stringify(repoPath('dist/src/vm/index.js'))};
const vm = Vm.loadSync(compileFilter('ip').insns, { type: ProgramType.SOCKET_FILTER, name: 'f' });
const pkt = new Uint8Array(60); pkt[12] = 8;
console.log(JSON.stringify(['interp', 'jit'].map((engine) => String(vm.runSkb('f', pkt, { engine, l2: true }).r0))));`;
    const v = spawnSync('qemu-aarch64', ['-L', root, join(root, 'usr/bin/node'), '--input-type=module', '-e', vm], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), '["262144","262144"]');
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});

// The package as users get it: `npm pack` (with the prebuilt addons of scripts/prebuild.js) is small,
// holds what it should and nothing it should not; installed into a fresh project with no C compiler
// on PATH it needs none, `tsbpf tcpconnect` runs from it and writes nothing into node_modules; and
// where no addon can be had (no prebuilt one for the machine, no compiler) it still installs, with
// `tsbpf/vm` working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';
import { connectOnce } from '../helpers/workload.js';

const NPM = '/usr/lib/node_modules/npm/bin/npm-cli.js';
const work = mkdtempSync(join(tmpdir(), 'tsbpf-pack-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

let packed: Packed | undefined;
/** `npm pack` of this checkout (built), with freshly built prebuilds, once. */
function pack(): Packed {
  if (packed) return packed;
  const pre = spawnSync(process.execPath, [repoPath('scripts/prebuild.js')], { encoding: 'utf8' });
  assert.equal(pre.status, 0, pre.stderr);
  const r = spawnSync(process.execPath, [NPM, 'pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repoPath(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  packed = (JSON.parse(r.stdout) as Packed[])[0]!;
  return packed;
}

/** A directory for PATH with node, npm's shell and the basics, and no C compiler, make or python. */
function toolsWithoutCompiler(): string {
  const bin = join(work, 'bin');
  if (existsSync(bin)) return bin;
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  for (const tool of ['sh', 'env', 'ip', 'cat', 'uname']) {
    const at = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (at) symlinkSync(at, join(bin, tool));
  }
  return bin;
}

/** A fresh project with the tarball installed under `env` (tsbpf's install script allowed to run, or not: npm 11's default); its directory and how long npm took. */
function install(name: string, env: NodeJS.ProcessEnv, allowScripts = false): { dir: string; ms: number; stderr: string } {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', ...(allowScripts ? { allowScripts: { [`file:${join(work, pack().filename)}`]: true } } : {}) }));
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [NPM, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', join(work, pack().filename)], { cwd: dir, env, encoding: 'utf8', timeout: 300_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(r.status, 0, `npm install failed:\n${r.stdout}\n${r.stderr}`);
  return { dir, ms, stderr: r.stderr };
}

const listFiles = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).sort();

test('npm pack: under 2 MB for the CLI, prebuilt addons for x64 and arm64, LICENSE, CHANGELOG, examples; no caches or source maps', (t) => {
  if (!needsCommand(t, 'aarch64-linux-gnu-gcc')) return;
  const p = pack();
  const files = p.files.map((f) => f.path);
  const cli = p.files.filter((f) => f.path.startsWith('dist/cli/') || f.path.startsWith('bin/')).reduce((n, f) => n + f.size, 0);
  t.diagnostic(`tarball ${(p.size / 1024).toFixed(0)} KB packed, ${(p.unpackedSize / 1024).toFixed(0)} KB unpacked, ${files.length} files; CLI (bin + dist/cli) ${(cli / 1024).toFixed(0)} KB`);
  assert.ok(cli <= 2 << 20, `CLI part ${cli} bytes`);
  for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md', 'dist/cli/tsbpf.cjs', 'prebuilds/linux-x64/tsbpf.napi.node', 'prebuilds/linux-arm64/tsbpf.napi.node', 'native/install.cjs', 'examples/library/library.ts', 'dist/src/vm/index.js', 'dist/src/sys/cache-dir.js']) {
    assert.ok(files.includes(f), `${f} in the package`);
  }
  assert.deepEqual(files.filter((f) => /\.cache$|\.map$|\.tmp$|^build\/|^test\/|^dist\/test\//.test(f)), []);
});

test('installed with no C compiler on PATH: the prebuilt addon is used and tsbpf tcpconnect runs; nothing is written into node_modules', async (t) => {
  if (!needsCommand(t, 'aarch64-linux-gnu-gcc') || !needsRoot(t)) return;
  const bin = toolsWithoutCompiler();
  const env = { ...process.env, PATH: bin, TSBPF_CACHE_DIR: join(work, 'cache') };
  for (const cc of ['cc', 'gcc', 'c++', 'make']) assert.notEqual(spawnSync('sh', ['-c', `command -v ${cc}`], { env }).status, 0, `${cc} must not be on PATH`);
  // npm 11 runs no dependency's install script unless allowed: allowed here, to see ours choose the
  // prebuilt addon (without a compiler, anything else would fail); without it the addon is found the
  // same way at run time
  const { dir, ms } = install('app', env, true);
  t.diagnostic(`npm install of the tarball: ${(ms / 1000).toFixed(1)} s`);
  const pkg = join(dir, 'node_modules', 'tsbpf');
  assert.ok(!existsSync(join(pkg, 'build')), 'nothing was compiled');
  const before = listFiles(pkg);

  const child = spawn(process.execPath, [join(dir, 'node_modules', '.bin', 'tsbpf'), 'tcpconnect', '--duration', '3'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // connect once it has printed its header (attached)
  const deadline = Date.now() + 20_000;
  while (!/PID/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  const { pid, port } = await connectOnce();
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 0, err);
  assert.match(out, new RegExp(`^\\s*${pid}\\s.*127\\.0\\.0\\.1\\s+${port}\\s*$`, 'm'), out);
  assert.deepEqual(listFiles(pkg), before, 'the run wrote nothing into the package (code cache in $TSBPF_CACHE_DIR)');
  assert.ok(readdirSync(join(work, 'cache', 'code')).length > 0, 'the code cache went to $TSBPF_CACHE_DIR/code');
});

test('where no addon can be had (no prebuilt one for the machine, no compiler), the install succeeds and tsbpf/vm works', (t) => {
  if (!needsCommand(t, 'aarch64-linux-gnu-gcc')) return;
  // node-gyp-build and node-gyp take the target architecture from npm_config_arch: a riscv64 install
  const env = { ...process.env, PATH: toolsWithoutCompiler(), npm_config_arch: 'riscv64' };
  const { dir, stderr } = install('vm-only', env, true);
  assert.match(stderr, /the native addon could not be built here/);
  // and where npm runs no install script at all (its default), the same package still installs
  install('vm-only-no-scripts', env);
  // a filter that keeps nothing of an empty packet: compiled, verified at load, run by both engines
  const script = `import { Vm, compileFilter, ProgramType } from 'tsbpf/vm';
const vm = Vm.loadSync(compileFilter('tcp').insns, { type: ProgramType.SOCKET_FILTER, name: 'f' });
const pkt = new Uint8Array(60);
console.log(JSON.stringify(['interp', 'jit'].map((engine) => String(vm.runSkb('f', pkt, { engine, l2: true }).r0))));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '["0","0"]');
  // the kernel API says what is missing, in one line
  const k = spawnSync(process.execPath, [join(dir, 'node_modules', '.bin', 'tsbpf'), 'prog', 'list'], { cwd: dir, env: { ...env, npm_config_arch: 'riscv64' }, encoding: 'utf8' });
  assert.notEqual(k.status, 0);
  assert.match(k.stderr, /^tsbpf: native addon not available: no prebuilt addon for this machine .*arch=riscv64.*tsbpf\/vm works without it\n$/);
});

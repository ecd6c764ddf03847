// The CLI bundle (scripts/bundle-cli.js): dist/cli/tsbpf.cjs, each command's modules initialised
// when it runs, behaving exactly like the ES modules (help text, errors, exit codes), not
// used when older than the compiled modules, small, and with V8's code cache kept in the cache
// directory ($TSBPF_CACHE_DIR/code), never in the package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from '../helpers/objects.js';
import { cacheDir } from '../../src/sys/cache-dir.js';

const BIN = repoPath('bin/tsbpf');
const MAIN = repoPath('dist/src/cli/main.js');
const ENTRY = repoPath('dist/cli/tsbpf.cjs');
const built = existsSync(ENTRY) && existsSync(MAIN);

function run(cmd: string[], bin = BIN, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...cmd], { encoding: 'utf8', timeout: 60_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('one bundle: shared code once, each command\'s modules initialised only when it runs, under 2 MB, no import() left', (t) => {
  if (!built) return t.skip('not built (npm run build makes the bundle)');
  assert.deepEqual(readdirSync(repoPath('dist/cli')), ['tsbpf.cjs'], 'one file (no per-command bundles, no caches)');
  const text = readFileSync(ENTRY, 'utf8');
  assert.ok(text.length < 2 << 20, `dist/cli/tsbpf.cjs is ${text.length} bytes`);
  // esbuild's lazy module wrappers, named by module: what a command's import() initialises
  const lazy = new Set([...text.matchAll(/__esm\(\{"([^"]+)"/g)].map((m) => m[1]));
  for (const m of ['dist/src/script/cli.js', 'dist/src/tools/tcpconnect/cli.js', 'dist/src/tools/xdp-shield/cli.js', 'dist/src/vm/verifier/verify.js', 'dist/src/cli/gen.js']) {
    assert.ok(lazy.has(m), `${m} is initialised on demand`);
  }
  // shared code is there once: the loader's module appears in one wrapper
  assert.equal(text.split('"dist/src/kernel/collection.js"').length - 1, 1);
  // commander loads child_process only if a command runs an executable subcommand
  assert.doesNotMatch(text, /^var import_node_child_process=require\("node:child_process"\)/m);
  // bin/tsbpf compiles it as a vm.Script, where import() has no loader
  assert.doesNotMatch(text, /\bimport\(/);
});

test('bin/tsbpf (bundle) and the ES modules print the same help and errors, with the same exit codes', (t) => {
  if (!built) return t.skip('not built (npm run build makes the bundle)');
  const cases = [['--help'], [], ['--version'], ['nosuch'], ['trace', '--help'], ['execsnoop', '--help'], ['help', 'vm'], ['gen', 'types', '--help'], ['trace', 'BEGIN { printf("%d\\n", 1 +) }'], ['run', '/no/such.o']];
  for (const args of cases) {
    const a = run(args);
    const b = run(args, MAIN);
    assert.equal(a.stdout, b.stdout, `stdout of tsbpf ${args.join(' ')}`);
    assert.equal(a.stderr, b.stderr, `stderr of tsbpf ${args.join(' ')}`);
    assert.equal(a.status, b.status, `exit code of tsbpf ${args.join(' ')}`);
  }
});

test("V8's code cache in $TSBPF_CACHE_DIR/code: written by the first run, used after, replaced when corrupt or stale, never in the package", (t) => {
  if (!built) return t.skip('not built (npm run build makes the bundle)');
  const cache = mkdtempSync(join(tmpdir(), 'tsbpf-codecache-'));
  const env = { ...process.env, TSBPF_CACHE_DIR: cache };
  try {
    const want = run(['vm', '--help'], MAIN).stdout;
    assert.equal(run(['vm', '--help'], BIN, env).stdout, want);
    const files = readdirSync(join(cache, 'code'));
    assert.equal(files.length, 1, 'one cache file for this install and V8');
    assert.match(files[0]!, new RegExp(`^tsbpf-[0-9a-z]+-${process.versions.v8.replace(/[.]/g, '\\.')}\\.cache$`));
    const codeDir = join(cache, 'code');
    const entryCache = join(codeDir, files[0]!);
    const first = readFileSync(entryCache);
    assert.ok(first.length > 1000);
    assert.equal(run(['vm', '--help'], BIN, env).stdout, want, 'with the cache');
    assert.deepEqual(readFileSync(entryCache), first, 'a cache V8 took is not rewritten');
    for (const bad of [Buffer.from('not a code cache'), first.subarray(0, first.length >> 1), Buffer.alloc(0)]) {
      writeFileSync(entryCache, bad);
      const r = run(['vm', '--help'], BIN, env);
      assert.equal(r.stdout, want, 'a rejected cache still runs');
      assert.equal(r.status, 0);
      assert.ok(readFileSync(entryCache).length > 1000, 'and is replaced');
    }
    // a cache older than its file is not even read
    const old = new Date(statSync(ENTRY).mtimeMs - 60_000);
    writeFileSync(entryCache, 'stale');
    utimesSync(entryCache, old, old);
    assert.equal(run(['vm', '--help'], BIN, env).stdout, want);
    assert.ok(readFileSync(entryCache).length > 1000, 'stale cache replaced');
    assert.deepEqual(readdirSync(codeDir).filter((f) => f.endsWith('.tmp')), [], 'no temporary left');
    assert.deepEqual(readdirSync(repoPath('dist/cli')), ['tsbpf.cjs'], 'nothing written beside the bundle');
    // bin/tsbpf's own copy of the cache directory rule answers as src/sys/cache-dir.ts does
    const xdg = mkdtempSync(join(tmpdir(), 'tsbpf-xdg-'));
    const noDir: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: xdg };
    delete noDir.TSBPF_CACHE_DIR;
    assert.equal(run(['vm', '--help'], BIN, noDir).stdout, want);
    assert.equal(cacheDir(noDir), join(xdg, 'tsbpf'));
    assert.equal(readdirSync(join(xdg, 'tsbpf', 'code')).length, 1, 'the code cache went to $XDG_CACHE_HOME/tsbpf/code');
    rmSync(xdg, { recursive: true, force: true });
    // caching off: still runs, writes nothing
    const off = mkdtempSync(join(tmpdir(), 'tsbpf-nocache-'));
    assert.equal(run(['vm', '--help'], BIN, { ...process.env, TSBPF_CACHE_DIR: 'off', XDG_CACHE_HOME: off }).stdout, want);
    assert.equal(cacheDir({ TSBPF_CACHE_DIR: 'off' }), undefined);
    assert.deepEqual(readdirSync(off), []);
    rmSync(off, { recursive: true, force: true });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("a bundle older than tsc's last build is not used (a plain tsc after npm run build)", (t) => {
  if (!built) return t.skip('not built (npm run build makes the bundle)');
  // a copy of the checkout's layout: bin/, dist/src (linked) and dist/cli with a bundle that would
  // print something else
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bundle-'));
  try {
    cpSync(repoPath('bin'), join(dir, 'bin'), { recursive: true });
    cpSync(repoPath('package.json'), join(dir, 'package.json'));
    mkdirSync(join(dir, 'dist/cli'), { recursive: true });
    for (const p of ['node_modules', 'build', 'dist/src']) symlinkSync(repoPath(p), join(dir, p));
    const fake = join(dir, 'dist/cli/tsbpf.cjs');
    writeFileSync(fake, "process.stdout.write('from the bundle\\n');\n");
    const info = join(dir, 'dist/.tsbuildinfo'); // what tsc writes at each build
    writeFileSync(info, '{}');
    const bin = join(dir, 'bin/tsbpf');
    const env = { ...process.env, TSBPF_CACHE_DIR: 'off' };
    utimesSync(info, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    assert.equal(run(['trace'], bin, env).stdout, 'from the bundle\n');
    const old = new Date(Date.now() - 240_000);
    utimesSync(fake, old, old);
    const r = run(['trace', '--help'], bin, env);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: trace/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The per-command CLI bundles (scripts/bundle-cli.js, dist/cli/<command>.cjs) that bin/tsbpf runs
// for a fast start: one per command, each holding only its own command, behaving exactly like the
// ES modules (help text, errors, exit codes), and not used when older than the compiled modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../src/cli/registry.js';
import { repoPath } from '../helpers/objects.js';

const BIN = repoPath('bin/tsbpf');
const MAIN = repoPath('dist/src/cli/main.js');
const bundle = (name: string) => repoPath('dist/cli', `${name}.cjs`);
const built = existsSync(bundle('tsbpf')) && existsSync(MAIN);

function run(cmd: string[], bin = BIN): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...cmd], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a bundle per command; each holds its own command and not the others', (t) => {
  if (!built) return t.skip('not built (npm run build makes the bundles)');
  for (const c of commands) assert.ok(existsSync(bundle(c.name)), `dist/cli/${c.name}.cjs`);
  const trace = readFileSync(bundle('trace'), 'utf8');
  assert.match(trace, /dist\/src\/script\/cli\.js/);
  for (const other of ['dist/src/tools/xdp-shield/', 'dist/src/tools/capture/', 'dist/src/vm/verifier/', 'dist/src/cli/disasm.js']) {
    assert.ok(!trace.includes(other), `trace bundle should not hold ${other}`);
  }
  // commander loads child_process only if a command runs an executable subcommand
  assert.doesNotMatch(trace, /^\s*(var )?import_node_child_process = require\("node:child_process"\)/m);
  // bin/tsbpf runs a bundle as a vm.Script (code cache), where import() has no loader
  assert.doesNotMatch(trace, /\bimport\(/);
});

test('bin/tsbpf (bundles) and the ES modules print the same help and errors, with the same exit codes', (t) => {
  if (!built) return t.skip('not built (npm run build makes the bundles)');
  const cases = [['--help'], [], ['--version'], ['nosuch'], ['trace', '--help'], ['execsnoop', '--help'], ['vm', '--help'], ['trace', 'BEGIN { printf("%d\\n", 1 +) }'], ['run', '/no/such.o']];
  for (const args of cases) {
    const a = run(args);
    const b = run(args, MAIN);
    assert.equal(a.stdout, b.stdout, `stdout of tsbpf ${args.join(' ')}`);
    assert.equal(a.stderr, b.stderr, `stderr of tsbpf ${args.join(' ')}`);
    assert.equal(a.status, b.status, `exit code of tsbpf ${args.join(' ')}`);
  }
});

test("V8's code cache beside a bundle: written by the first run, used after, replaced when corrupt or stale", (t) => {
  if (!built) return t.skip('not built (npm run build makes the bundles)');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-codecache-'));
  try {
    cpSync(repoPath('bin'), join(dir, 'bin'), { recursive: true });
    cpSync(repoPath('package.json'), join(dir, 'package.json'));
    mkdirSync(join(dir, 'dist/cli'), { recursive: true });
    for (const p of ['node_modules', 'build', 'dist/src']) symlinkSync(repoPath(p), join(dir, p));
    cpSync(bundle('vm'), join(dir, 'dist/cli/vm.cjs'));
    const bin = join(dir, 'bin/tsbpf');
    const cacheFile = join(dir, 'dist/cli', `vm.${process.versions.v8}.cache`);
    const want = run(['vm', '--help']).stdout;
    assert.equal(run(['vm', '--help'], bin).stdout, want);
    assert.ok(existsSync(cacheFile), 'the first run wrote the cache');
    const first = readFileSync(cacheFile);
    assert.ok(first.length > 1000);
    assert.equal(run(['vm', '--help'], bin).stdout, want, 'with the cache');
    assert.deepEqual(readFileSync(cacheFile), first, 'a cache V8 took is not rewritten');
    for (const bad of [Buffer.from('not a code cache'), first.subarray(0, first.length >> 1), Buffer.alloc(0)]) {
      writeFileSync(cacheFile, bad);
      const r = run(['vm', '--help'], bin);
      assert.equal(r.stdout, want, 'a rejected cache still runs');
      assert.equal(r.status, 0);
      assert.ok(readFileSync(cacheFile).length > 1000, 'and is replaced');
    }
    // a cache older than its bundle is not even read
    const old = new Date(statSync(join(dir, 'dist/cli/vm.cjs')).mtimeMs - 60_000);
    writeFileSync(cacheFile, 'stale');
    utimesSync(cacheFile, old, old);
    assert.equal(run(['vm', '--help'], bin).stdout, want);
    assert.ok(readFileSync(cacheFile).length > 1000, 'stale cache replaced');
    assert.deepEqual(readdirSync(join(dir, 'dist/cli')).filter((f) => f.endsWith('.tmp')), [], 'no temporary left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bundle older than tsc\'s last build is not used (a plain tsc after npm run build)', (t) => {
  if (!built) return t.skip('not built (npm run build makes the bundles)');
  // a copy of the checkout's layout: bin/, dist/src (linked) and dist/cli with a bundle that would
  // print something else
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bundle-'));
  try {
    cpSync(repoPath('bin'), join(dir, 'bin'), { recursive: true });
    cpSync(repoPath('package.json'), join(dir, 'package.json'));
    mkdirSync(join(dir, 'dist/cli'), { recursive: true });
    for (const p of ['node_modules', 'build', 'dist/src']) symlinkSync(repoPath(p), join(dir, p));
    const fake = join(dir, 'dist/cli/trace.cjs');
    writeFileSync(fake, "process.stdout.write('from the bundle\\n');\n");
    const info = join(dir, 'dist/.tsbuildinfo'); // what tsc writes at each build
    writeFileSync(info, '{}');
    const bin = join(dir, 'bin/tsbpf');
    utimesSync(info, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    assert.equal(run(['trace'], bin).stdout, 'from the bundle\n');
    const old = new Date(Date.now() - 240_000);
    utimesSync(fake, old, old);
    const r = run(['trace', '--help'], bin);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: trace/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

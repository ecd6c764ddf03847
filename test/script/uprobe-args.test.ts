// uprobe `args->NAME` from the traced binary's DWARF (as bpftrace 0.17 does with libdw): programs
// built here by clang and gcc (DWARF 4 and 5); compiled without a kernel (a machine whose only part
// is the binary's types), run on this kernel, and listed with -lv — each compared with bpftrace's
// output on the same binary when bpftrace is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileScript } from '../../src/script/compile.js';
import { compileScriptFor, type ScriptMachine } from '../../src/script/compile-for.js';
import { ScriptError } from '../../src/script/error.js';
import { parseElf } from '../../src/elf/reader.js';
import { dwarfOfElf, dwarfToBtf } from '../../src/dwarf/index.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { CLI } from '../net-tools/topology.js';
import { BUILDS, built, type Build } from '../dwarf/fixture.js';

/** A machine that knows one thing: the binaries' types, read as compile.ts reads them. */
const machine: ScriptMachine = {
  arch: 'x64',
  userBtf: (path) => {
    const d = dwarfOfElf(parseElf(new Uint8Array(readFileSync(path))));
    return d && dwarfToBtf(d);
  },
};

function compileError(script: string, m: ScriptMachine = machine): string {
  try {
    compileScriptFor(script, m);
  } catch (e) {
    assert.ok(e instanceof ScriptError, String(e));
    return e.message;
  }
  assert.fail('compiled');
}

test('args of a uprobe compile to loads of the argument registers (no kernel)', (t) => {
  const bin = built('clang-dwarf5');
  if (!bin) return void t.skip('clang does not build here');
  const c = compileScriptFor(`uprobe:${bin}:walk { printf("%d %d %s %d\\n", args->c, args->neg, str(args->p->name), args->p->next->x); }`, machine);
  const unit = c.checked.units[0]!;
  assert.deepEqual([...unit.argFields.values()].map((f) => [f.name, f.offset]).sort(), [['c', 104], ['neg', 96], ['p', 112], ['p', 112]]);
  assert.deepEqual(unit.uprobeArgs!.params.map((p) => p.name), ['p', 'c', 'neg']);
  assert.ok(c.spec.programs.length === 1);
});

test('args errors: unknown parameter, no debug information, uretprobe, the 7th argument, malformed DWARF', (t) => {
  const bin = built('gcc-dwarf5');
  if (!bin) return void t.skip('gcc does not build here');
  assert.match(compileError(`uprobe:${bin}:walk { printf("%d\\n", args->nope); }`), /Can't find function parameter nope/);
  assert.match(compileError('uprobe:/bin/true:main { printf("%d\\n", args->x); }'), /No debuginfo found for \/bin\/true/);
  assert.match(compileError(`uprobe:${bin}:no_such_function { printf("%d\\n", args->x); }`), /No debuginfo found for no_such_function in/);
  assert.match(compileError(`uretprobe:${bin}:walk { printf("%d\\n", args->c); }`), /The args builtin can only be used with tracepoint\/kfunc\/uprobe probes \(uretprobe used here\)/);
  assert.match(compileError(`uprobe:${bin}:seven { printf("%d\\n", args->g); }`), /args->g: argument 7 is not passed in a register/);
  assert.match(compileError(`uprobe:${bin}:walk { printf("%d\\n", args->p->nope); }`), /Struct\/union of type 'struct point' does not contain a field named 'nope'/);
  const broken: ScriptMachine = { ...machine, userBtf: () => { throw new (class DwarfError extends Error {})('.debug_info: truncated data at 0x10'); } };
  assert.match(compileError(`uprobe:${bin}:walk { printf("%d\\n", args->c); }`, broken), /: \.debug_info: truncated data at 0x10/);
  // the 6th argument is the last in a register
  compileScriptFor(`uprobe:${bin}:seven { printf("%d\\n", args->f); }`, machine);
});

const SCRIPT = (bin: string): string =>
  `uprobe:${bin}:add { printf("add %d %d\\n", args->x, args->y); } ` +
  `uprobe:${bin}:greet { printf("greet %u\\n", args->n); } ` +
  `uprobe:${bin}:walk { printf("walk %d %d %s %d %s %d %d\\n", args->p->x, args->p->y, str(args->p->name), args->p->next->x, str(args->p->next->name), args->c, args->neg); exit(); }`;
const EXPECTED = 'Attaching 3 probes...\nadd 42 -5\ngreet 9\nwalk 3 -4 first 7 second 200 -3\n';

/** Run `script` with the program as its workload (-c), through the command as users run it. */
function run(cmd: string[], script: string, bin: string): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn(cmd[0]!, [...cmd.slice(1), '-e', script, '-c', bin], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => p.kill('SIGINT'), 20000);
    p.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

for (const build of Object.keys(BUILDS) as Build[]) {
  test(`${build}: int, long, typedef'd, pointer-to-struct members and strings read in the kernel`, async (t) => {
    if (!needsRoot(t) || !needsCommand(t, BUILDS[build][0])) return;
    const bin = built(build);
    if (!bin) return void t.skip(`${build} does not build here`);
    const out = await run([process.execPath, ...CLI, 'trace'], SCRIPT(bin), bin);
    assert.equal(out.replace(/\n+$/, '\n'), EXPECTED);
  });
}

test('the same script under bpftrace prints the same', async (t) => {
  if (!needsRoot(t)) return;
  if (spawnSync('sh', ['-c', 'command -v bpftrace'], { stdio: 'ignore' }).status !== 0) return void t.skip('bpftrace is not installed');
  const bin = built('gcc-dwarf5');
  if (!bin) return void t.skip('gcc does not build here');
  const [ours, theirs] = [await run([process.execPath, ...CLI, 'trace'], SCRIPT(bin), bin), await run(['bpftrace'], SCRIPT(bin), bin)];
  assert.equal(ours, theirs);
});

test('-lv lists a uprobe\'s parameters as bpftrace does', (t) => {
  const bin = built('gcc-dwarf5');
  if (!bin) return void t.skip('gcc does not build here');
  const r = spawnSync(process.execPath, [...CLI, 'trace', '-lv', `uprobe:${bin}:*`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = [`uprobe:${bin}:walk`, '    struct point* p', '    unsigned char c', '    short int neg', `uprobe:${bin}:greet`];
  assert.ok(r.stdout.includes(want.slice(0, 4).join('\n') + '\n'), r.stdout);
  assert.ok(r.stdout.includes(`uprobe:${bin}:paint\n    enum color c\n    union number* n\n    <unknown type>* cb\n    <unknown type>* v\n`), r.stdout);
  assert.ok(r.stdout.includes(`uprobe:${bin}:nothing\nuprobe:`), 'no lines for a function without parameters');
  // -l alone: names only
  const l = spawnSync(process.execPath, [...CLI, 'trace', '-l', `uprobe:${bin}:walk`], { encoding: 'utf8' });
  assert.equal(l.stdout, `uprobe:${bin}:walk\n`);
  if (spawnSync('sh', ['-c', 'command -v bpftrace'], { stdio: 'ignore' }).status !== 0) return;
  for (const b of Object.keys(BUILDS) as Build[]) {
    const path = built(b);
    if (!path) continue;
    const ours = spawnSync(process.execPath, [...CLI, 'trace', '-lv', `uprobe:${path}:*`], { encoding: 'utf8' }).stdout;
    const theirs = spawnSync('bpftrace', ['-lv', `uprobe:${path}:*`], { encoding: 'utf8' }).stdout;
    assert.equal(ours, theirs, b);
  }
});

test('a stripped program\'s DWARF in a separate file (.gnu_debuglink), as gdb and libdw find it', (t) => {
  if (!needsCommand(t, 'objcopy') || !needsCommand(t, 'strip')) return;
  const bin = built('gcc-dwarf5');
  if (!bin) return void t.skip('gcc does not build here');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-debuglink-'));
  try {
    const prog = join(dir, 'prog');
    copyFileSync(bin, prog);
    execFileSync('objcopy', ['--only-keep-debug', prog, `${prog}.debug`]);
    execFileSync('strip', ['-g', prog]);
    execFileSync('objcopy', [`--add-gnu-debuglink=${prog}.debug`, prog], { cwd: dir });
    assert.equal(parseElf(new Uint8Array(readFileSync(prog))).section('.debug_info'), undefined, 'stripped');
    const c = compileScript(`uprobe:${prog}:walk { printf("%d\\n", args->p->x); }`);
    assert.deepEqual(c.checked.units[0]!.uprobeArgs!.params.map((p) => p.name), ['p', 'c', 'neg']);
    const r = spawnSync(process.execPath, [...CLI, 'trace', '-lv', `uprobe:${prog}:walk`], { encoding: 'utf8' });
    assert.equal(r.stdout, `uprobe:${prog}:walk\n    struct point* p\n    unsigned char c\n    short int neg\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compressed debug sections (-gz, SHF_COMPRESSED zlib) are inflated; without a decompressor the reader says why', (t) => {
  if (!needsCommand(t, 'objcopy')) return;
  const bin = built('gcc-dwarf5');
  if (!bin) return void t.skip('gcc does not build here');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-gz-'));
  try {
    const prog = join(dir, 'prog');
    execFileSync('objcopy', ['--compress-debug-sections=zlib', bin, prog]);
    const elf = parseElf(new Uint8Array(readFileSync(prog)));
    assert.ok(elf.section('.debug_info')!.flags & 0x800n, 'compressed');
    assert.throws(() => dwarfOfElf(elf), /\.debug_info is compressed \(SHF_COMPRESSED\) and no decompressor was given/);
    const c = compileScript(`uprobe:${prog}:greet { printf("%u\\n", args->n); }`);
    assert.deepEqual(c.checked.units[0]!.uprobeArgs!.params.map((p) => p.name), ['s', 'n']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

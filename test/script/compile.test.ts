// The compiler without a machine: a script becomes a CollectionSpec (one program per probe, SEC()
// names saying type and target, maps named as bpftrace names them, source lines as line info), and
// probe arguments come from the pt_regs layout of the target architecture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileScriptFor, type ScriptMachine } from '../../src/script/compile-for.js';
import { probeRegs } from '../../src/script/pt-regs.js';
import { ScriptError } from '../../src/script/error.js';
import { decodeForm } from '../../src/isa/form.js';
import { MapType, ProgramType, AttachType } from '../../src/uapi/bpf.js';

const env = (arch?: string): ScriptMachine => ({
  traceableFunctions: () => ['vfs_read', 'vfs_write', 'do_nanosleep'],
  arch: arch ?? 'x64',
});
const compile = compileScriptFor;

test('one program per attach point, typed by its SEC() name; wildcards expanded', () => {
  const c = compile('BEGIN { @b = 0 } kprobe:vfs_* { @n[probe] = count() } kretprobe:vfs_read+0 { @r = hist(retval) } interval:s:1 { print(@n) } END { clear(@n) }', env());
  const s = c.spec;
  assert.deepEqual(s.programs.map((p) => [p.name, p.section, ProgramType[p.type]]), [
    ['BEGIN', 'raw_tp', 'RAW_TRACEPOINT'],
    ['kprobe_vfs_read', 'kprobe/vfs_read', 'KPROBE'],
    ['kprobe_vfs_write', 'kprobe/vfs_write', 'KPROBE'],
    ['kretprobe_vfs_read', 'kretprobe/vfs_read', 'KPROBE'],
    ['interval_s_1', 'perf_event', 'PERF_EVENT'],
    ['END', 'raw_tp', 'RAW_TRACEPOINT'],
  ]);
  assert.deepEqual(s.programs.map((p) => p.attach), [
    { kind: 'raw_tracepoint', target: '' }, { kind: 'kprobe', target: 'vfs_read' }, { kind: 'kprobe', target: 'vfs_write' },
    { kind: 'kretprobe', target: 'vfs_read' }, { kind: 'perf_event', target: '' }, { kind: 'raw_tracepoint', target: '' },
  ]);
  assert.deepEqual(s.maps.map((m) => [m.name, MapType[m.type], m.keySize, m.valueSize]), [
    ['events', 'RINGBUF', 0, 0],
    ['AT_b', 'HASH', 8, 8],
    ['AT_n', 'PERCPU_HASH', 24, 8], // probe: a string of 17 bytes
    ['AT_r', 'PERCPU_HASH', 8, 8],
  ]);
  // every map a program refers to is in the spec
  for (const p of s.programs) for (const r of p.mapRefs) assert.ok(s.maps.some((m) => m.name === r.map), r.map);
});

test('kfunc probes are fentry/fexit programs; a probe given twice gets a second name', () => {
  const btfLess = env();
  assert.throws(() => compile('kfunc:do_nanosleep { @ = count() }', btfLess), /kernel BTF is not available/);
  const c = compile('BEGIN { @a = 1 } BEGIN { @b = 2; exit() }', btfLess);
  assert.deepEqual(c.spec.programs.map((p) => p.name), ['BEGIN', 'BEGIN_2']);
  assert.equal(compile('rawtracepoint:sched_switch { @ = arg0 }', btfLess).spec.programs[0]!.section, 'raw_tp/sched_switch');
  const f = compile('uretprobe:/bin/bash:readline { @ = retval }', btfLess).spec.programs[0]!;
  assert.deepEqual([f.section, f.attach], ['uretprobe//bin/bash:readline', { kind: 'uretprobe', target: '/bin/bash:readline' }]);
  assert.equal(f.expectedAttachType, 0 as AttachType);
});

test('line info from the source spans: where each line of the script starts', () => {
  const src = 'BEGIN\n{\n  @x = 1;\n  printf("%d\\n", @x);\n  exit()\n}';
  const p = compile(src, env(), { fileName: 'x.bt' }).spec.programs[0]!;
  assert.deepEqual(p.lineInfo.map((l) => [l.lineNum, l.line.trim()]), [[1, 'BEGIN'], [3, '@x = 1;'], [4, 'printf("%d\\n", @x);'], [5, 'exit()'], [1, 'BEGIN']]);
  assert.ok(p.lineInfo.every((l) => l.fileName === 'x.bt' && p.instructions[l.insnOff] !== undefined));
});

/** The offset of the context load that reads `arg`. */
function argOffset(arch: string, arg: string): number {
  const p = compile(`kprobe:vfs_read { @ = ${arg} }`, env(arch)).spec.programs[0]!;
  // r6 = r1 (ctx), then the first load from r6
  for (let i = 0; i < p.instructions.length; i++) {
    const f = decodeForm(p.instructions, i);
    if (f.kind === 'ldx' && f.src === 6) return f.off;
  }
  throw new Error('no context load');
}

test("probe arguments from each architecture's pt_regs: x86-64's di, si, ... and arm64's regs[]", () => {
  assert.deepEqual([0, 1, 5].map((i) => argOffset('x64', `arg${i}`)), [112, 104, 64]);
  assert.deepEqual([0, 1, 7].map((i) => argOffset('arm64', `arg${i}`)), [0, 8, 56]);
  assert.equal(probeRegs('x64').ret, 80);
  assert.equal(probeRegs('arm64').ret, 0);
  // x86-64 passes six arguments in registers, arm64 eight
  assert.throws(() => compile('kprobe:vfs_read { @ = arg6 }', env('x64')), (e: unknown) => e instanceof ScriptError && /arg6 is beyond the 6 register arguments of x64/.test(e.message));
  assert.throws(() => compile('kprobe:vfs_read { @ = arg7 }', env('ia32')), (e: unknown) => e instanceof ScriptError && /probe arguments on ia32 are not known/.test(e.message));
  // a machine that does not say: scripts compile, until one reads a probe argument
  assert.ok(compile('BEGIN { exit() }', {}).units.length);
  assert.throws(() => compile('kprobe:vfs_read { @ = arg0 }', {}), (e: unknown) => e instanceof ScriptError && /architecture is not known/.test(e.message));
});

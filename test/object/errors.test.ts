// Objects libbpf refuses are refused here too, with an ObjectError that says what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseObject } from '../../src/object/load-spec.js';
import { ObjectError } from '../../src/object/spec.js';
import { needsCommand } from '../helpers/kernel.js';

const HEAD = `
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
char LICENSE[] SEC("license") = "GPL";
`;

function compile(src: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-objerr-'));
  writeFileSync(join(dir, 'x.c'), HEAD + src);
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-c', join(dir, 'x.c'), '-o', join(dir, 'x.o')]);
  return readFileSync(join(dir, 'x.o'));
}

const cases: [string, string, RegExp][] = [
  ['unknown map field', `struct { __uint(type, 2); __uint(max_entries, 1); __uint(bogus_field, 3); } m SEC(".maps");
     SEC("socket") int p(void *c) { return 0; }`, /map 'm': unknown field 'bogus_field'/],
  ['conflicting key sizes', `struct { __uint(type, 1); __uint(max_entries, 1); __uint(key_size, 8); __type(key, int); __type(value, int); } m SEC(".maps");
     SEC("socket") int p(void *c) { return 0; }`, /map 'm': conflicting key size 8 != 4/],
  ['values on a plain hash', `int f(void *c);
     struct { __uint(type, 1); __uint(max_entries, 2); __uint(key_size, 4); int (*values[])(void *); } m SEC(".maps") = { .values = { [0] = (void *)&f } };
     SEC("socket") int f(void *c) { return 0; }`, /map 'm'.*prog array/],
  ['invalid pinning', `struct { __uint(type, 2); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, 4); __uint(pinning, 7); } m SEC(".maps");
     SEC("socket") int p(void *c) { return 0; }`, /map 'm': invalid pinning 7/],
  ['static entry program', `SEC("socket") static int p(void *c) { return 0; }
     SEC("xdp") int q(void *c) { return p(c); }`, /program 'p' in 'socket' is static/],
  ['reference to a non-data section', `SEC("socket") int p(void *c) { return LICENSE[0]; }`, /neither a map nor global data/],
  ['map definition that is not a struct', `int m SEC(".maps");
     SEC("socket") int p(void *c) { return 0; }`, /map 'm': definition is a (INT|TYPEDEF), not a struct|map 'm'/],
];

for (const [name, src, re] of cases) {
  test(`refused: ${name}`, (t) => {
    if (!needsCommand(t, 'clang')) return;
    const bytes = compile(src);
    assert.throws(() => parseObject(bytes, 'x'), (e: unknown) => e instanceof ObjectError && re.test(e.message), name);
  });
}

test('an object without BTF still parses (legacy maps, no func/line info)', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-objerr-'));
  writeFileSync(join(dir, 'x.c'), HEAD + `struct def { unsigned t, k, v, m, f; } d SEC("maps") = { 1, 4, 4, 8, 0 };
    static void *(*lookup)(void *, const void *) = (void *)1;
    SEC("socket") int p(void *c) { int k = 0; return lookup(&d, &k) != 0; }`);
  execFileSync('clang', ['-O2', '-target', 'bpf', '-c', join(dir, 'x.c'), '-o', join(dir, 'x.o')]);
  const spec = parseObject(readFileSync(join(dir, 'x.o')), 'x');
  assert.equal(spec.btf, undefined);
  assert.deepEqual(spec.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]), [['d', 1, 4, 4, 8]]);
  assert.deepEqual(spec.programs[0]!.mapRefs.map((r) => [r.map, r.kind]), [['d', 'fd']]);
  assert.deepEqual([spec.programs[0]!.funcInfo, spec.programs[0]!.lineInfo], [[], []]);
});

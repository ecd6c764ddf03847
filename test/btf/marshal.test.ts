import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf } from '../../src/btf/parse.js';
import { marshalBtf, marshalBtfWithStrings, BtfBuilder } from '../../src/btf/marshal.js';
import { btfToRaw } from '../../src/btf/dump-raw.js';
import { btfToC } from '../../src/btf/cdump.js';
import { compileCodec } from '../../src/btf/codec.js';
import { BtfError } from '../../src/btf/error.js';
import { BtfKind, type BtfComposite } from '../../src/btf/types.js';
import { needsCommand } from '../helpers/kernel.js';
import { VMLINUX, readBytes, tempDir, compileBpf, elfSection, bpftool } from './helpers.js';

test('vmlinux BTF round-trips parse -> marshal -> parse, and libbpf reads our bytes identically', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  if (!needsCommand(t, 'bpftool')) return;
  const orig = parseBtf(readBytes(VMLINUX));
  const t0 = performance.now();
  const bytes = marshalBtf(orig);
  t.diagnostic(`marshaled ${orig.length} types into ${bytes.length} bytes in ${(performance.now() - t0).toFixed(0)} ms`);
  const again = parseBtf(bytes);
  const raw = btfToRaw(orig);
  assert.equal(btfToRaw(again), raw);
  assert.deepEqual(marshalBtf(again), bytes, 'marshal is deterministic');
  using tmp = tempDir();
  const f = join(tmp.dir, 'vmlinux.btf');
  writeFileSync(f, bytes);
  assert.equal(bpftool('btf', 'dump', 'file', f), raw);
});

test('clang object BTF round-trips, including through bpftool', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  using tmp = tempDir();
  const obj = compileBpf('kinds.bpf.c', tmp.dir);
  const orig = parseBtf(elfSection(obj, '.BTF'));
  const bytes = marshalBtf(orig);
  assert.deepEqual(parseBtf(bytes).types, orig.types);
  const f = join(tmp.dir, 'kinds.btf');
  writeFileSync(f, bytes);
  assert.equal(bpftool('btf', 'dump', 'file', f), btfToRaw(orig));
});

test('builder lays out structs like clang does', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const b = new BtfBuilder();
  const char = b.int('char', 1, true);
  const int = b.int('int', 4, true);
  const u16 = b.int('unsigned short', 2);
  const long = b.int('long', 8, true);
  const u64 = b.int('unsigned long long', 8);
  const inner = b.struct('inner', [{ name: 'x', type: u16 }, { name: 'y', type: char }]);
  const id = b.struct('laid', [
    { name: 'a', type: char },
    { name: 'b', type: int, bits: 3 },
    { name: 'c', type: int, bits: 30 },
    { name: 'd', type: long },
    { name: 'e', type: u16, bits: 4 },
    { name: 'f', type: inner },
    { name: 'g', type: b.array(char, 5) },
    { name: 'h', type: u64, bits: 60 },
    { name: 'i', type: char },
  ]);
  const u = b.union('un', [{ name: 'p', type: char }, { name: 'q', type: long }]);
  const built = b.build();
  using tmp = tempDir();
  const src = join(tmp.dir, 'laid.bpf.c');
  writeFileSync(src, `struct inner { unsigned short x; char y; };
struct laid { char a; int b: 3; int c: 30; long d; unsigned short e: 4; struct inner f; char g[5]; unsigned long long h: 60; char i; };
union un { char p; long q; };
struct laid l; union un v;\n`);
  const clang = parseBtf(elfSection(compileBpf(src, tmp.dir), '.BTF'));
  for (const [mine, name] of [[id, 'laid'], [u, 'un'], [inner, 'inner']] as const) {
    const a = built.typeById(mine) as BtfComposite;
    const c = clang.findByName(name) as BtfComposite;
    assert.equal(a.size, c.size, name);
    assert.deepEqual(a.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]), c.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]), name);
  }
  // and the codec works on built types
  const codec = compileCodec(built, id);
  const buf = new DataView(new ArrayBuffer(codec.size));
  codec.encode({ a: 1, b: -2, c: 123456, d: -5n, e: 9, f: { x: 7, y: 8 }, g: 'hi', h: 0xfffffffffffffffn, i: 3 }, buf);
  assert.deepEqual(codec.decode(buf), { a: 1, b: -2, c: 123456, d: -5n, e: 9, f: { x: 7, y: 8 }, g: 'hi', h: 0xfffffffffffffffn, i: 3 });
});

test('builder covers every kind; bpftool reads the result; enum64 and tags survive', (t) => {
  if (!needsCommand(t, 'bpftool')) return;
  const b = new BtfBuilder();
  const int = b.int('int', 4, true);
  const e64 = b.enum64('big', [['LOW', 1n], ['HIGH', 0xfedcba9876543210n]]);
  const en = b.enum('small', [['NEG', -1], ['POS', 7]]);
  const s = b.struct('s', [{ name: 'v', type: int }, { name: 'e', type: e64 }, { name: 'n', type: en }]);
  const tag = b.add({ kind: BtfKind.TYPE_TAG, name: 'user', type: int, kindFlag: false });
  b.add({ kind: BtfKind.DECL_TAG, name: 'dtag', type: s, componentIdx: 1, kindFlag: false });
  const proto = b.funcProto(int, [{ name: 'p', type: b.ptr(tag) }, { type: 0 }]);
  b.func('f', proto);
  const fwd = b.fwd('later', true);
  b.typedef('later_t', fwd);
  b.float('double', 8);
  const v = b.var('gv', s);
  b.datasec('.data', [{ type: v, offset: 0, size: 16 }]);
  b.const(b.volatile(int));
  b.add({ kind: BtfKind.RESTRICT, name: '', type: b.ptr(int) });
  const bytes = b.marshal();
  const parsed = parseBtf(bytes);
  assert.deepEqual(parsed.types.slice(1), b.build().types.slice(1));
  using tmp = tempDir();
  const f = join(tmp.dir, 'built.btf');
  writeFileSync(f, bytes);
  assert.equal(bpftool('btf', 'dump', 'file', f), btfToRaw(parsed));
  assert.match(btfToC(parsed), /enum big \{\n\tLOW = 1ULL,\n\tHIGH = 18364758544493064720ULL,\n\};/);
  assert.match(btfToC(parsed), /typedef int \(\*\)\(int __attribute__\(\(btf_type_tag\("user"\)\)\) \*p, \.\.\.\)|int f|struct s \{/);
});

test('split BTF: a module on top of vmlinux parses, resolves through its base, and bpftool agrees', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  if (!needsCommand(t, 'bpftool')) return;
  const base = parseBtf(readBytes(VMLINUX));
  const task = base.findByName('task_struct', BtfKind.STRUCT)!.id;
  const b = new BtfBuilder(base);
  const int = base.findByName('int', BtfKind.INT)!.id;
  const mod = b.struct('tsbpf_mod_state', [{ name: 'owner', type: b.ptr(task) }, { name: 'count', type: int }]);
  const bytes = b.marshal();
  const split = parseBtf(bytes, base);
  assert.equal(split.startId, base.length);
  assert.equal(split.length, base.length + 2);
  assert.equal(split.typeById(mod).name, 'tsbpf_mod_state');
  assert.equal(split.findByName('task_struct')!.id, task, 'base types are found through the split BTF');
  assert.equal(split.sizeof(mod), 16);
  assert.equal(split.resolve((split.typeById(mod) as BtfComposite).members[1]!.type).name, 'int');
  using tmp = tempDir();
  const f = join(tmp.dir, 'mod.btf');
  writeFileSync(f, bytes);
  assert.equal(bpftool('btf', 'dump', '-B', VMLINUX, 'file', f), btfToRaw(split));
  // and marshal of the parsed split BTF reproduces the bytes
  assert.deepEqual(marshalBtf(split), bytes);
});

test('cyclic types are reported, not followed forever', () => {
  const b = new BtfBuilder();
  const a = b.typedef('a', 0);
  const c = b.typedef('c', a);
  b.set(a, { kind: BtfKind.TYPEDEF, name: 'a', type: c });
  const arr = b.array(0, 2);
  b.set(arr, { kind: BtfKind.ARRAY, name: '', type: arr, indexType: 1, nelems: 2 });
  const btf = parseBtf(b.marshal());
  assert.throws(() => btf.resolve(a), BtfError);
  assert.throws(() => btf.sizeof(a), BtfError);
  assert.throws(() => btf.sizeof(arr), BtfError);
  assert.throws(() => btf.alignof(arr), BtfError);
  assert.throws(() => compileCodec(btf, arr), BtfError);
  assert.throws(() => btfToC(btf), BtfError);
});

test('marshalBtfWithStrings adds strings (line info) and reports their offsets', () => {
  const b = new BtfBuilder();
  b.int('int', 4, true);
  const { bytes, offsets } = marshalBtfWithStrings(b.build(), ['prog.bpf.c', '\treturn 0;', 'int', '']);
  const btf = parseBtf(bytes);
  for (const [s, off] of offsets) assert.equal(btf.string(off), s);
  assert.equal(offsets.get('int'), 1, 'an existing name is reused');
  assert.equal(offsets.get(''), 0);
});

test('BtfBuilder.from copies a Btf for rewriting (sanitizing for older kernels)', (t) => {
  if (!needsCommand(t, 'clang')) return;
  using tmp = tempDir();
  const orig = parseBtf(elfSection(compileBpf('kinds.bpf.c', tmp.dir), '.BTF'));
  const b = BtfBuilder.from(orig);
  assert.equal(b.length, orig.length);
  // e.g. a kernel without DECL_TAG/TYPE_TAG: tags become harmless stand-ins, ids stay put
  for (const ty of orig.types) {
    if (ty.kind === BtfKind.DECL_TAG) b.set(ty.id, { kind: BtfKind.INT, name: ty.name, size: 1, encoding: 0, bitOffset: 0, bits: 8 });
    if (ty.kind === BtfKind.TYPE_TAG) b.set(ty.id, { kind: BtfKind.CONST, name: '', type: ty.type });
  }
  const out = parseBtf(b.marshal());
  assert.equal(out.length, orig.length);
  assert.ok(!out.types.some((x) => x.kind === BtfKind.DECL_TAG || x.kind === BtfKind.TYPE_TAG));
  assert.deepEqual(out.findByName('record'), orig.findByName('record'));
  // the original is untouched
  assert.ok(orig.types.some((x) => x.kind === BtfKind.DECL_TAG));
  assert.throws(() => b.set(0, { kind: BtfKind.INT, name: 'x', size: 1, encoding: 0, bitOffset: 0, bits: 8 }), BtfError);
});

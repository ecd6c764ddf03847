// The DWARF reader on what clang and gcc emit (DWARF 4 and 5): functions, parameters in order, the
// type names bpftrace lists, and the types as BTF (struct layouts checked against the compiler's
// own sizeof/offsetof, printed by the program built from the same source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseElf } from '../../src/elf/reader.js';
import { dwarfFunctions, dwarfOfElf, dwarfToBtf, typeNameOf, DwTag } from '../../src/dwarf/index.js';
import { BtfKind } from '../../src/btf/types.js';
import { findMember } from '../../src/script/checker/btf-types.js';
import { needsCommand } from '../helpers/kernel.js';
import { BUILDS, built, type Build } from './fixture.js';

const dwarfOf = (path: string) => dwarfOfElf(parseElf(new Uint8Array(readFileSync(path))))!;

const PARAMS = (gcc: boolean): Record<string, string[]> => ({
  add: ['int x', gcc ? 'long int y' : 'long y'],
  greet: ['const char* s', 'u32t n'],
  walk: ['struct point* p', 'unsigned char c', gcc ? 'short int neg' : 'short neg'],
  paint: ['enum color c', 'union number* n', '<unknown type>* cb', '<unknown type>* v'],
  seven: ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => `int ${n}`),
  nothing: [],
  mark: ['struct tagged* t'],
  run: ['struct step* s'],
  main: ['int argc', 'char** argv'],
});

for (const build of Object.keys(BUILDS) as Build[]) {
  test(`${build}: functions and their parameters, named as bpftrace lists them`, (t) => {
    if (!needsCommand(t, BUILDS[build][0])) return;
    const path = built(build);
    if (!path) return void t.skip(`${build} does not build here`);
    const d = dwarfOf(path);
    const version = Number(/dwarf(\d)/.exec(build)![1]);
    assert.ok(d.units.some((u) => u.version === version), `a DWARF ${version} unit`);
    const fns = dwarfFunctions(d);
    for (const [name, params] of Object.entries(PARAMS(build.startsWith('gcc')))) {
      const f = fns.get(name);
      assert.ok(f, `${name} found`);
      assert.deepEqual(f.params.map((p) => `${typeNameOf(d, p.type)} ${p.name}`), params, name);
      assert.equal(f.variadic, false);
    }
  });

  test(`${build}: the types as BTF`, (t) => {
    if (!needsCommand(t, BUILDS[build][0])) return;
    const path = built(build);
    if (!path) return void t.skip(`${build} does not build here`);
    const btf = dwarfToBtf(dwarfOf(path));
    const walk = btf.findByName('walk', BtfKind.FUNC)!;
    assert.equal(walk.kind, BtfKind.FUNC);
    const proto = btf.typeById((walk as { type: number }).type);
    assert.equal(proto.kind, BtfKind.FUNC_PROTO);
    if (proto.kind !== BtfKind.FUNC_PROTO) return;
    assert.deepEqual(proto.params.map((p) => p.name), ['p', 'c', 'neg']);
    const p = btf.resolve(proto.params[0]!.type);
    assert.equal(p.kind, BtfKind.PTR);
    const point = btf.findByName('point', BtfKind.STRUCT)!;
    // x86-64 SysV layouts: struct point is int, long, two pointers; struct tagged a 3-bit field, char[8], a pointer
    assert.equal(btf.sizeof(point.id), 32);
    assert.deepEqual(['x', 'y', 'name', 'next'].map((m) => findMember(btf, point.id, m)?.offset), [0, 8, 16, 24]);
    const tagged = btf.findByName('tagged', BtfKind.STRUCT)!;
    assert.equal(btf.sizeof(tagged.id), 24);
    assert.deepEqual(['tag', 'p'].map((m) => findMember(btf, tagged.id, m)?.offset), [1, 16]);
    assert.equal(findMember(btf, tagged.id, 'flags')?.bitfield, true);
    // the list node points to its own struct: one id, no loop
    const next = btf.resolve(findMember(btf, point.id, 'next')!.type);
    assert.equal(next.kind === BtfKind.PTR && btf.resolveId(next.type), point.id);
    const greet = btf.typeById((btf.findByName('greet', BtfKind.FUNC) as { type: number }).type);
    assert.ok(greet.kind === BtfKind.FUNC_PROTO);
    const s = btf.typeById(greet.params[0]!.type);
    assert.equal(s.kind, BtfKind.PTR);
    assert.equal(btf.typeById((s as { type: number }).type).kind, BtfKind.CONST);
    const u32t = btf.typeById(greet.params[1]!.type);
    assert.deepEqual([u32t.kind, u32t.name], [BtfKind.TYPEDEF, 'u32t']);
    const color = btf.findByName('color', BtfKind.ENUM)!;
    assert.deepEqual(color.kind === BtfKind.ENUM && color.values, [{ name: 'RED', value: 0 }, { name: 'GREEN', value: 5 }]);
    assert.equal(btf.sizeof(btf.findByName('number', BtfKind.UNION)!.id), 8);
    // struct step → step_fn (typedef) → pointer → int (struct step *): the loop closes on struct step's id
    const step = btf.findByName('step', BtfKind.STRUCT)!;
    const fnPtr = btf.resolve(findMember(btf, step.id, 'fn')!.type);
    assert.equal(fnPtr.kind, BtfKind.PTR);
    const fnProto = btf.typeById((fnPtr as { type: number }).type);
    assert.ok(fnProto.kind === BtfKind.FUNC_PROTO);
    const arg = btf.typeById(fnProto.params[0]!.type);
    assert.equal(arg.kind === BtfKind.PTR && btf.resolveId(arg.type), step.id);
    assert.equal(findMember(btf, step.id, 'n')?.offset, 8);
  });
}

test('every entry of a real file is reachable by its offset, children under their parent', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const path = built('clang-dwarf5');
  if (!path) return void t.skip('clang does not build here');
  const d = dwarfOf(path);
  let n = 0;
  for (const die of d.dies()) {
    n++;
    assert.equal(d.die(die.offset), die);
    for (const c of die.children) assert.equal(c.parent, die);
  }
  assert.ok(n > 30);
  assert.equal(d.units[0]!.root!.tag, DwTag.compile_unit);
});

test('a file without debug information has no DWARF', () => {
  assert.equal(dwarfOfElf(parseElf(new Uint8Array(readFileSync('/bin/true')))), undefined);
});

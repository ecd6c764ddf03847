// Malformed DWARF gives a DwarfError that says what and where: never another exception, a hang or a
// stack overflow. Each hand-written case breaks one rule; then every truncation of real sections and
// a few thousand random byte changes, each of which must parse or fail with a DwarfError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseElf } from '../../src/elf/reader.js';
import { Dwarf, DwarfError, dwarfFunctions, dwarfToBtf, typeNameOf, DwAt, DwTag, type DwarfSections } from '../../src/dwarf/index.js';
import { abbrevs, cstr, FORM, u32, unit, type AbbrevSpec } from './assemble.js';
import { built } from './fixture.js';

/** Everything the reader offers, run over the sections: what a uprobe's args and -lv do. */
function readAll(s: DwarfSections): void {
  const d = new Dwarf(s);
  for (const f of dwarfFunctions(d).values()) for (const p of f.params) typeNameOf(d, p.type);
  dwarfToBtf(d);
}

function fails(s: DwarfSections, message: RegExp): void {
  assert.throws(() => readAll(s), (e: Error) => {
    assert.ok(e instanceof DwarfError, `a DwarfError, not ${e.name}: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
}

const CU: AbbrevSpec = { code: 1, tag: DwTag.compile_unit, children: true, attrs: [[DwAt.name, FORM.string]] };
const FUNC: AbbrevSpec = { code: 2, tag: DwTag.subprogram, children: true, attrs: [[DwAt.name, FORM.string], [DwAt.low_pc, FORM.addr]] };
const PARAM: AbbrevSpec = { code: 3, tag: DwTag.formal_parameter, children: false, attrs: [[DwAt.name, FORM.string], [DwAt.type, FORM.ref4]] };
const TYPEDEF: AbbrevSpec = { code: 4, tag: DwTag.typedef, children: false, attrs: [[DwAt.name, FORM.string], [DwAt.type, FORM.ref4]] };
const ORIGIN: AbbrevSpec = { code: 5, tag: DwTag.subprogram, children: false, attrs: [[DwAt.abstract_origin, FORM.ref4]] };
const INT: AbbrevSpec = { code: 6, tag: DwTag.base_type, children: false, attrs: [[DwAt.name, FORM.string], [DwAt.byte_size, FORM.data1], [DwAt.encoding, FORM.data1]] };
const TABLE = abbrevs([CU, FUNC, PARAM, TYPEDEF, ORIGIN, INT]);
const ADDR = [0x10, 0, 0, 0, 0, 0, 0, 0];
// a unit header is 12 bytes (version 5): its first entry at 12
const HDR = 12;

const sections = (body: number[], version = 5): DwarfSections => ({ info: new Uint8Array(unit(body, version)), abbrev: TABLE });

test('well-formed hand-written DWARF reads (the cases below break it one way each)', () => {
  const cuName = cstr('a.c');
  const intAt = HDR + 1 + cuName.length;
  const int = [6, ...cstr('int'), 4, 5];
  const fnAt = intAt + int.length;
  const body = [1, ...cuName, ...int, 2, ...cstr('f'), ...ADDR, 3, ...cstr('x'), ...u32(intAt), 0, 0];
  for (const v of [4, 5]) {
    const hdr = v === 5 ? 0 : -1; // version 4's header is one byte shorter
    const b = [1, ...cuName, ...int, 2, ...cstr('f'), ...ADDR, 3, ...cstr('x'), ...u32(intAt + hdr), 0, 0];
    const d = new Dwarf(sections(b, v));
    const f = dwarfFunctions(d).get('f')!;
    assert.deepEqual(f.params.map((p) => `${typeNameOf(d, p.type)} ${p.name}`), ['int x']);
    assert.equal(f.die.offset, fnAt + hdr);
  }
  readAll(sections(body));
});

test('an abbreviation code the table does not define', () => {
  fails(sections([1, ...cstr('a.c'), 9, 0]), /entry at 0x\w+ uses abbreviation code 9, which its table does not define/);
});

test('an abbreviation table offset past the section', () => {
  fails({ info: new Uint8Array(unit([1, 0], 5, 4096)), abbrev: TABLE }, /\.debug_abbrev: table offset 0x1000 is past the section's end/);
});

test('an abbreviation code defined twice', () => {
  fails({ info: new Uint8Array(unit([1, 0])), abbrev: abbrevs([CU, { ...FUNC, code: 1 }]) }, /abbreviation code 1 is defined twice/);
});

test('a typedef that names itself', () => {
  const self = HDR + 1 + cstr('a.c').length + 1 + cstr('f').length + ADDR.length + 1 + cstr('x').length + 4;
  const body = [1, ...cstr('a.c'), 2, ...cstr('f'), ...ADDR, 3, ...cstr('x'), ...u32(self), 4, ...cstr('loop'), ...u32(self), 0, 0];
  fails(sections(body), /type at 0x\w+ (refers back to itself|is nested too deeply)/);
});

test('an abstract origin chain that loops', () => {
  const at = HDR + 1 + cstr('a.c').length;
  fails(sections([1, ...cstr('a.c'), 5, ...u32(at), 0]), /chain from 0x\w+ does not end/);
});

test('a reference to where no entry starts', () => {
  fails(sections([1, ...cstr('a.c'), 2, ...cstr('f'), ...ADDR, 3, ...cstr('x'), ...u32(0x7777), 0, 0]), /refers to 0x7777, where no entry starts/);
});

test('entries nested without end', () => {
  const deep: number[] = [1, ...cstr('a.c')];
  for (let i = 0; i < 5000; i++) deep.push(2, ...cstr('f'), ...ADDR);
  fails(sections(deep), /nest deeper than 4096/);
});

test('unit headers: reserved lengths, unknown versions, lengths past the section, odd address sizes', () => {
  fails({ info: new Uint8Array([...u32(0xfffffff5), 5, 0]), abbrev: TABLE }, /reserved length 0xfffffff5/);
  fails({ info: new Uint8Array([...u32(4), 7, 0, 1, 8]), abbrev: TABLE }, /DWARF version 7/);
  fails({ info: new Uint8Array([...u32(400), 5, 0, 1, 8]), abbrev: TABLE }, /claims 400 bytes, 4 are left/);
  fails({ info: new Uint8Array([...u32(8), 5, 0, 1, 3, 0, 0, 0, 0]), abbrev: TABLE }, /address size 3/);
  fails({ info: new Uint8Array([1, 0]), abbrev: TABLE }, /\.debug_info: truncated data at 0x0/);
});

test('forms: unknown, indirect twice, strx without .debug_str_offsets, strp past .debug_str, strings without NUL', () => {
  const one = (form: number, value: number[], extra: Partial<DwarfSections> = {}): DwarfSections => ({
    info: new Uint8Array(unit([1, ...value])), abbrev: abbrevs([{ code: 1, tag: DwTag.compile_unit, children: false, attrs: [[DwAt.name, form]] }]), ...extra,
  });
  fails(one(0x7f, []), /unknown attribute form 0x7f/);
  fails(one(FORM.indirect, [FORM.indirect, FORM.indirect]), /DW_FORM_indirect names DW_FORM_indirect again/);
  fails(one(FORM.strx1, [3]), /needs \.debug_str_offsets/);
  fails(one(FORM.strx1, [3], { strOffsets: new Uint8Array(8), str: new Uint8Array(1) }), /string index 3 .* past the section's end/);
  fails(one(FORM.strp, u32(99), { str: new Uint8Array(4) }), /\.debug_str: string offset 0x63 is past the section's end/);
  fails(one(FORM.strp, u32(0), { str: new Uint8Array([0x61, 0x62]) }), /\.debug_str: string at 0x0 has no terminating NUL/);
  fails(one(FORM.line_strp, u32(0)), /\.debug_line_str: a string refers to the section, which the file does not have/);
  fails(one(FORM.udata, [...new Array(20).fill(0xff), 0x7f]), /LEB128 at 0x\w+ is longer than 128 bits/);
  fails(one(FORM.strx, [...new Array(9).fill(0xff), 0x7f]), /LEB128 at 0x\w+ is too (long|large)/);
  fails(one(FORM.block1, [200, 1, 2]), /truncated block/);
});

test('an entry after its unit tree has ended', () => {
  fails(sections([1, ...cstr('a.c'), 0, 6, ...cstr('int'), 4, 5]), /follows the end of its unit's tree/);
});

/** The DWARF sections of a built program. */
function realSections(): DwarfSections | undefined {
  const path = built('clang-dwarf5');
  if (!path) return undefined;
  const elf = parseElf(new Uint8Array(readFileSync(path)));
  const get = (n: string): Uint8Array | undefined => {
    const s = elf.section(n);
    return s ? elf.data(s).slice() : undefined;
  };
  return { info: get('.debug_info')!, abbrev: get('.debug_abbrev')!, str: get('.debug_str'), lineStr: get('.debug_line_str'), strOffsets: get('.debug_str_offsets') };
}

/** Reads or fails with a DwarfError, nothing else. */
function survives(s: DwarfSections, what: string): void {
  try {
    readAll(s);
  } catch (e) {
    if (!(e instanceof DwarfError)) throw new Error(`${what}: ${(e as Error).name}: ${(e as Error).message}`);
  }
}

test('every truncation of every section of a real file', (t) => {
  const s = realSections();
  if (!s) return void t.skip('clang does not build here');
  for (const key of ['info', 'abbrev', 'str', 'lineStr', 'strOffsets'] as const) {
    const whole = s[key]!;
    for (let n = 0; n < whole.length; n++) survives({ ...s, [key]: whole.subarray(0, n) }, `${key} cut at ${n}`);
  }
});

test('random byte changes of .debug_info and .debug_abbrev', (t) => {
  const s = realSections();
  if (!s) return void t.skip('clang does not build here');
  let seed = 15;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 3000; i++) {
    const key = i % 3 === 0 ? 'abbrev' : 'info';
    const b = s[key].slice();
    for (let k = 1 + rand(3); k > 0; k--) b[rand(b.length)] = rand(256);
    survives({ ...s, [key]: b }, `${key} mutation ${i}`);
  }
});

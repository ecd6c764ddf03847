// .debug_info (DWARF 5 sections 7.5.1 and 7.5.4; versions 2 to 5): unit headers, then a tree of
// debugging information entries (DIEs) per unit, each one an abbreviation code and the attribute
// values its abbreviation's forms say how to read. Strings through .debug_str, .debug_line_str and
// (DWARF 5, clang) .debug_str_offsets are resolved here so callers see plain values.
import { parseAbbrevTable, type Abbrev } from './abbrev.js';
import { DwAt, DwForm, DwUt } from './constants.js';
import { Cursor, DwarfError, stringAt } from './cursor.js';

/** An attribute's value: a number (constants, addresses, offsets; bigint past 2^53), a string, a flag, a block (expressions), or a reference to another DIE by its .debug_info offset. */
export type AttrValue = number | bigint | string | boolean | Uint8Array | { ref: number } | { sig8: bigint } | { index: number; form: number };

export interface Die {
  /** offset in .debug_info */
  offset: number;
  tag: number;
  attrs: Map<number, AttrValue>;
  children: Die[];
  parent: Die | undefined;
  unit: DwarfUnit;
}

export interface DwarfUnit {
  offset: number;
  version: number;
  unitType: number;
  addressSize: number;
  offsetSize: 4 | 8;
  /** the unit's DIE (compile_unit or partial_unit) */
  root: Die | undefined;
}

/** The sections a Dwarf is read from; only .debug_info and .debug_abbrev are required. */
export interface DwarfSections {
  info: Uint8Array;
  abbrev: Uint8Array;
  str?: Uint8Array;
  lineStr?: Uint8Array;
  strOffsets?: Uint8Array;
}

const hex = (n: number): string => `0x${n.toString(16)}`;
/** nesting deeper than this is no compiler's output: refuse it before the tree costs memory without end */
const MAX_DEPTH = 4096;

/** Every unit of .debug_info and its DIEs, indexed by offset. */
export class Dwarf {
  readonly units: DwarfUnit[] = [];
  private readonly byOffset = new Map<number, Die>();

  constructor(readonly sections: DwarfSections) {
    const info = sections.info;
    let off = 0;
    while (off < info.length) {
      const unit = this.readUnit(off);
      off = unit.next;
    }
  }

  /** The DIE at a .debug_info offset (a reference's target). */
  die(offset: number): Die | undefined {
    return this.byOffset.get(offset);
  }

  /** Every DIE, units in order, each tree depth first. */
  *dies(): IterableIterator<Die> {
    for (const u of this.units) {
      if (!u.root) continue;
      const stack: Die[] = [u.root];
      while (stack.length) {
        const d = stack.pop()!;
        yield d;
        for (let i = d.children.length - 1; i >= 0; i--) stack.push(d.children[i]!);
      }
    }
  }

  private readUnit(start: number): { next: number } {
    const c = new Cursor(this.sections.info, start, this.sections.info.length, '.debug_info');
    let length = c.u32();
    let offsetSize: 4 | 8 = 4;
    if (length === 0xffffffff) {
      offsetSize = 8;
      length = c.u64n('unit length');
    } else if (length >= 0xfffffff0) throw new DwarfError(`.debug_info: unit at ${hex(start)} has the reserved length ${hex(length)}`);
    const end = c.pos + length;
    if (end > c.end) throw new DwarfError(`.debug_info: unit at ${hex(start)} claims ${length} bytes, ${c.end - c.pos} are left`);
    const u = new Cursor(this.sections.info, c.pos, end, '.debug_info');
    const version = u.u16();
    if (version < 2 || version > 5) throw new DwarfError(`.debug_info: unit at ${hex(start)} has DWARF version ${version} (2 to 5 are read)`);
    let unitType: number = DwUt.compile;
    let addressSize: number;
    let abbrevOffset: number;
    if (version >= 5) {
      unitType = u.u8();
      addressSize = u.u8();
      abbrevOffset = u.offset(offsetSize, 'abbreviation offset');
    } else {
      abbrevOffset = u.offset(offsetSize, 'abbreviation offset');
      addressSize = u.u8();
    }
    if (addressSize !== 4 && addressSize !== 8) throw new DwarfError(`.debug_info: unit at ${hex(start)} has address size ${addressSize}`);
    const unit: DwarfUnit = { offset: start, version, unitType, addressSize, offsetSize, root: undefined };
    this.units.push(unit);
    // type units and split units hold no functions of this file: skip them whole
    if (unitType !== DwUt.compile && unitType !== DwUt.partial) return { next: end };
    const abbrevs = parseAbbrevTable(this.sections.abbrev, abbrevOffset);
    this.readDies(u, unit, abbrevs);
    return { next: end };
  }

  private readDies(c: Cursor, unit: DwarfUnit, abbrevs: Map<number, Abbrev>): void {
    const stack: Die[] = [];
    const strx: { die: Die; name: number; index: number; form: number }[] = [];
    while (c.pos < c.end) {
      const offset = c.pos;
      const code = c.uleb();
      if (code === 0) {
        // the end of a sibling list; after the unit's DIE, padding
        stack.pop();
        continue;
      }
      if (unit.root && !stack.length) throw new DwarfError(`.debug_info: entry at ${hex(offset)} follows the end of its unit's tree`);
      const ab = abbrevs.get(code);
      if (!ab) throw new DwarfError(`.debug_info: entry at ${hex(offset)} uses abbreviation code ${code}, which its table does not define`);
      const parent = stack[stack.length - 1];
      const die: Die = { offset, tag: ab.tag, attrs: new Map(), children: [], parent, unit };
      for (const a of ab.attrs) {
        const v = a.form === DwForm.implicit_const ? a.implicitConst! : this.readForm(c, a.form, unit, 0);
        if (typeof v === 'object' && 'index' in v && isStrx(v.form)) strx.push({ die, name: a.name, index: v.index, form: v.form });
        die.attrs.set(a.name, v);
      }
      this.byOffset.set(offset, die);
      if (parent) parent.children.push(die);
      else unit.root = die;
      if (ab.children) {
        if (stack.length >= MAX_DEPTH) throw new DwarfError(`.debug_info: entries nest deeper than ${MAX_DEPTH} at ${hex(offset)}`);
        stack.push(die);
      }
    }
    // DW_FORM_strx* index .debug_str_offsets from the unit's DW_AT_str_offsets_base, which the unit's
    // own DIE gives after its first strx attributes (clang writes DW_AT_producer first)
    if (!strx.length) return;
    const baseAttr = unit.root?.attrs.get(DwAt.str_offsets_base);
    const base = typeof baseAttr === 'number' ? baseAttr : 8; // past the section's first header (section 7.26)
    for (const s of strx) s.die.attrs.set(s.name, this.strOffset(base, s.index, unit));
  }

  private strOffset(base: number, index: number, unit: DwarfUnit): string {
    const so = this.sections.strOffsets;
    if (!so) throw new DwarfError('.debug_info: a DW_FORM_strx string needs .debug_str_offsets, which the file does not have');
    const at = base + index * unit.offsetSize;
    if (at + unit.offsetSize > so.length) throw new DwarfError(`.debug_str_offsets: string index ${index} (offset ${hex(at)}) is past the section's end`);
    const off = new Cursor(so, at, so.length, '.debug_str_offsets').offset(unit.offsetSize);
    return stringAt(this.sections.str, off, '.debug_str');
  }

  /** Read one value of `form` (DWARF 5 section 7.5.6). */
  private readForm(c: Cursor, form: number, unit: DwarfUnit, depth: number): AttrValue {
    const ref = (o: number): AttrValue => ({ ref: unit.offset + o });
    switch (form) {
      case DwForm.addr: return unit.addressSize === 8 ? num(c.u64()) : c.u32();
      case DwForm.data1: case DwForm.ref1: case DwForm.flag: {
        const v = c.u8();
        return form === DwForm.ref1 ? ref(v) : form === DwForm.flag ? v !== 0 : v;
      }
      case DwForm.data2: return c.u16();
      case DwForm.ref2: return ref(c.u16());
      case DwForm.data4: return c.u32();
      case DwForm.ref4: return ref(c.u32());
      case DwForm.data8: return num(c.u64());
      case DwForm.ref8: return ref(c.u64n('reference'));
      case DwForm.data16: return c.bytesOf(16);
      case DwForm.sdata: return c.lebValue(true);
      case DwForm.udata: return c.lebValue(false);
      case DwForm.ref_udata: return ref(c.uleb());
      case DwForm.string: return c.cstr();
      case DwForm.strp: return stringAt(this.sections.str, c.offset(unit.offsetSize), '.debug_str');
      case DwForm.line_strp: return stringAt(this.sections.lineStr, c.offset(unit.offsetSize), '.debug_line_str');
      case DwForm.strx: case DwForm.GNU_str_index: return { index: c.uleb(), form: DwForm.strx };
      case DwForm.strx1: return { index: c.u8(), form: DwForm.strx };
      case DwForm.strx2: return { index: c.u16(), form: DwForm.strx };
      case DwForm.strx3: return { index: c.u24(), form: DwForm.strx };
      case DwForm.strx4: return { index: c.u32(), form: DwForm.strx };
      case DwForm.addrx: case DwForm.GNU_addr_index: return { index: c.uleb(), form: DwForm.addrx };
      case DwForm.addrx1: return { index: c.u8(), form: DwForm.addrx };
      case DwForm.addrx2: return { index: c.u16(), form: DwForm.addrx };
      case DwForm.addrx3: return { index: c.u24(), form: DwForm.addrx };
      case DwForm.addrx4: return { index: c.u32(), form: DwForm.addrx };
      case DwForm.loclistx: case DwForm.rnglistx: return { index: c.uleb(), form };
      case DwForm.ref_addr: return { ref: unit.version <= 2 ? (unit.addressSize === 8 ? c.u64n('reference') : c.u32()) : c.offset(unit.offsetSize) };
      case DwForm.sec_offset: return c.offset(unit.offsetSize);
      // a supplementary or alternate (dwz) file's offsets: kept as numbers, never followed
      case DwForm.ref_sup4: case DwForm.strp_sup: case DwForm.GNU_ref_alt: case DwForm.GNU_strp_alt: return c.offset(form === DwForm.ref_sup4 ? 4 : unit.offsetSize);
      case DwForm.ref_sup8: return num(c.u64());
      case DwForm.ref_sig8: return { sig8: c.u64() };
      case DwForm.exprloc: case DwForm.block: return c.bytesOf(c.uleb());
      case DwForm.block1: return c.bytesOf(c.u8());
      case DwForm.block2: return c.bytesOf(c.u16());
      case DwForm.block4: return c.bytesOf(c.u32());
      case DwForm.flag_present: return true;
      case DwForm.indirect: {
        if (depth > 0) throw new DwarfError(`.debug_info: DW_FORM_indirect names DW_FORM_indirect again at ${hex(c.pos)}`);
        return this.readForm(c, c.uleb(), unit, depth + 1);
      }
      case DwForm.implicit_const: throw new DwarfError(`.debug_info: DW_FORM_implicit_const through DW_FORM_indirect at ${hex(c.pos)} has no value`);
      default: throw new DwarfError(`.debug_info: unknown attribute form 0x${form.toString(16)} at ${hex(c.pos)}`);
    }
  }
}

const isStrx = (form: number): boolean => form === DwForm.strx;
const num = (v: bigint): number | bigint => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

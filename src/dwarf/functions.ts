// Functions as DWARF describes them: a DW_TAG_subprogram with its DW_TAG_formal_parameter children in
// declaration order. An out-of-line copy of an inlined function (gcc -O2) or a C++ member's definition
// carries its name and types on the DIE its DW_AT_abstract_origin / DW_AT_specification names.
import { DwAt, DwTag } from './constants.js';
import { DwarfError } from './cursor.js';
import type { AttrValue, Die, Dwarf } from './info.js';

export interface DwarfParam {
  name: string;
  /** the parameter's type DIE; undefined: void (no DW_AT_type) */
  type: Die | undefined;
}

export interface DwarfFunction {
  name: string;
  die: Die;
  params: DwarfParam[];
  /** ends with `...` (DW_TAG_unspecified_parameters) */
  variadic: boolean;
}

/** more origin/specification hops than any compiler writes: a cycle */
const MAX_HOPS = 16;

/** An attribute of `die`, or of the DIEs its abstract origin or specification names. */
export function attr(dwarf: Dwarf, die: Die, at: DwAt): AttrValue | undefined {
  let d: Die | undefined = die;
  for (let hops = 0; d; hops++) {
    const v = d.attrs.get(at);
    if (v !== undefined) return v;
    if (hops >= MAX_HOPS) throw new DwarfError(`.debug_info: DW_AT_abstract_origin/DW_AT_specification chain from 0x${die.offset.toString(16)} does not end`);
    const next: AttrValue | undefined = d.attrs.get(DwAt.abstract_origin) ?? d.attrs.get(DwAt.specification);
    d = next === undefined ? undefined : refTarget(dwarf, d, next);
  }
  return undefined;
}

/** The DIE a reference attribute value names. */
export function refTarget(dwarf: Dwarf, from: Die, v: AttrValue): Die {
  if (typeof v !== 'object' || !('ref' in v)) throw new DwarfError(`.debug_info: entry at 0x${from.offset.toString(16)} has a reference that is not one`);
  const d = dwarf.die(v.ref);
  if (!d) throw new DwarfError(`.debug_info: entry at 0x${from.offset.toString(16)} refers to 0x${v.ref.toString(16)}, where no entry starts`);
  return d;
}

/** The DIE of `die`'s DW_AT_type (undefined: void). */
export function typeOf(dwarf: Dwarf, die: Die): Die | undefined {
  const v = attr(dwarf, die, DwAt.type);
  return v === undefined ? undefined : refTarget(dwarf, die, v);
}

export function nameOf(dwarf: Dwarf, die: Die): string | undefined {
  const v = attr(dwarf, die, DwAt.name);
  return typeof v === 'string' ? v : undefined;
}

/** Every function defined in the file (not mere declarations), by name and by linkage (mangled) name; the first definition of a name wins. */
export function dwarfFunctions(dwarf: Dwarf): Map<string, DwarfFunction> {
  const out = new Map<string, DwarfFunction>();
  for (const die of dwarf.dies()) {
    if (die.tag !== DwTag.subprogram || die.attrs.get(DwAt.declaration) === true) continue;
    // a definition has code (low_pc) or is an out-of-line instance of one
    if (!die.attrs.has(DwAt.low_pc) && !die.attrs.has(DwAt.abstract_origin)) continue;
    const name = nameOf(dwarf, die);
    if (!name || out.has(name)) continue;
    const f = functionOf(dwarf, die, name);
    out.set(name, f);
    // C++ and Rust symbols are the mangled names (a uprobe names the symbol)
    const linkage = attr(dwarf, die, DwAt.linkage_name);
    if (typeof linkage === 'string' && linkage !== name && !out.has(linkage)) out.set(linkage, f);
  }
  return out;
}

function functionOf(dwarf: Dwarf, die: Die, name: string): DwarfFunction {
  // an out-of-line instance may lack parameters its origin lists (optimized out): take the origin's
  const origin = die.attrs.get(DwAt.abstract_origin);
  const src = die.children.some((c) => c.tag === DwTag.formal_parameter) || origin === undefined ? die : refTarget(dwarf, die, origin);
  const params: DwarfParam[] = [];
  let variadic = false;
  for (const c of src.children) {
    if (c.tag === DwTag.unspecified_parameters) variadic = true;
    if (c.tag !== DwTag.formal_parameter) continue;
    params.push({ name: nameOf(dwarf, c) ?? '', type: typeOf(dwarf, c) });
  }
  return { name, die, params, variadic };
}

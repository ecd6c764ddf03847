// DWARF types as BTF: the functions of a binary (FUNC → FUNC_PROTO with named parameters) and every
// type their parameters reach, so that the script compiler types a uprobe's `args->name` as it types
// a kfunc's from the kernel's BTF. Every type gets its id before what it refers to is converted: a
// type that refers back to itself through a pointer, struct or function type closes on its id; a
// loop through typedefs and qualifiers alone is malformed DWARF and an error.
import { Btf } from '../btf/btf.js';
import { BtfBuilder } from '../btf/marshal.js';
import { BtfKind, BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, type BtfMember, type BtfTypeInit } from '../btf/types.js';
import { DwAt, DwAte, DwTag } from './constants.js';
import { DwarfError } from './cursor.js';
import { dwarfFunctions, nameOf, typeOf } from './functions.js';
import type { Die, Dwarf } from './info.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

/** The file's functions (BTF FUNC, each to a FUNC_PROTO) and the types of their parameters and return values. */
export function dwarfToBtf(dwarf: Dwarf): Btf {
  const c = new Converter(dwarf);
  for (const f of dwarfFunctions(dwarf).values()) {
    const ret = c.type(typeOf(dwarf, f.die));
    const params = f.params.map((p) => ({ name: p.name, type: c.type(p.type) }));
    if (f.variadic) params.push({ name: '', type: 0 });
    c.b.func(f.name, c.b.funcProto(ret, params));
  }
  return c.b.build();
}

/** The tags a C type can refer back to itself through (a list node, a callback taking its own type). */
const LOOP_BREAKERS = new Set<number>([DwTag.pointer_type, DwTag.reference_type, DwTag.rvalue_reference_type, DwTag.structure_type, DwTag.class_type, DwTag.union_type, DwTag.subroutine_type]);

class Converter {
  readonly b = new BtfBuilder();
  private readonly ids = new Map<number, number>();
  private indexType: number | undefined;
  /** the DIEs being converted, outermost first */
  private readonly stack: Die[] = [];

  constructor(private readonly dwarf: Dwarf) {}

  /**
   * The BTF id of a DWARF type (0: void). Every type gets its id before what it refers to is
   * converted, so a reference back to it closes on that id; such a loop is C only through a pointer,
   * a struct or union, or a function type (`typedef int (*fn)(struct s *)` where struct s holds an fn).
   */
  type(die: Die | undefined): number {
    if (!die) return 0;
    const known = this.ids.get(die.offset);
    if (known !== undefined) {
      const at = this.stack.indexOf(die);
      if (at >= 0 && !this.stack.slice(at).some((d) => LOOP_BREAKERS.has(d.tag))) {
        throw new DwarfError(`.debug_info: the type at ${hex(die.offset)} refers back to itself`);
      }
      return known;
    }
    const id = this.b.add({ kind: BtfKind.TYPEDEF, name: '', type: 0 }); // replaced below
    this.ids.set(die.offset, id);
    this.stack.push(die);
    try {
      this.b.set(id, this.convert(die));
      return id;
    } finally {
      this.stack.pop();
    }
  }

  private num(die: Die, at: DwAt): number | undefined {
    const v = die.attrs.get(at);
    return typeof v === 'number' ? v : undefined;
  }

  private convert(die: Die): BtfTypeInit {
    const name = nameOf(this.dwarf, die) ?? '';
    const inner = (): number => this.type(typeOf(this.dwarf, die));
    switch (die.tag) {
      case DwTag.base_type: {
        const size = this.num(die, DwAt.byte_size) ?? 0;
        const enc = this.num(die, DwAt.encoding) ?? DwAte.unsigned;
        if (enc === DwAte.float || enc === DwAte.complex_float) return { kind: BtfKind.FLOAT, name, size };
        const signed = enc === DwAte.signed || enc === DwAte.signed_char;
        const encoding = (signed ? BTF_INT_SIGNED : 0) | (enc === DwAte.signed_char || enc === DwAte.unsigned_char ? BTF_INT_CHAR : 0) | (enc === DwAte.boolean ? BTF_INT_BOOL : 0);
        return { kind: BtfKind.INT, name, size, encoding, bitOffset: 0, bits: size * 8 };
      }
      case DwTag.pointer_type: case DwTag.reference_type: case DwTag.rvalue_reference_type: return { kind: BtfKind.PTR, name: '', type: inner() };
      case DwTag.const_type: return { kind: BtfKind.CONST, name: '', type: inner() };
      case DwTag.volatile_type: return { kind: BtfKind.VOLATILE, name: '', type: inner() };
      case DwTag.restrict_type: return { kind: BtfKind.RESTRICT, name: '', type: inner() };
      // BTF has no _Atomic: a typedef of the type keeps its layout
      case DwTag.atomic_type: return { kind: BtfKind.TYPEDEF, name: '_Atomic', type: inner() };
      case DwTag.typedef: return { kind: BtfKind.TYPEDEF, name, type: inner() };
      case DwTag.structure_type: case DwTag.class_type: case DwTag.union_type: return this.record(die, name);
      case DwTag.enumeration_type: {
        const union = false;
        if (die.attrs.get(DwAt.declaration) === true) return { kind: BtfKind.FWD, name, union };
        const values = die.children.filter((e) => e.tag === DwTag.enumerator).map((e) => {
          const v = e.attrs.get(DwAt.const_value);
          return { name: nameOf(this.dwarf, e) ?? '', value: typeof v === 'number' ? v : typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : 0 };
        });
        return { kind: BtfKind.ENUM, name, size: this.num(die, DwAt.byte_size) ?? 4, signed: values.some((v) => v.value < 0), values };
      }
      case DwTag.array_type: return this.array(die, inner());
      case DwTag.subroutine_type: {
        const returnType = inner();
        const params = die.children.filter((p) => p.tag === DwTag.formal_parameter).map((p) => ({ name: '', type: this.type(typeOf(this.dwarf, p)) }));
        if (die.children.some((p) => p.tag === DwTag.unspecified_parameters)) params.push({ name: '', type: 0 });
        return { kind: BtfKind.FUNC_PROTO, name: '', returnType, params };
      }
      // DW_TAG_unspecified_type (C++'s nullptr_t, assembly's functions), C++ member pointers, ...:
      // a name for nothing BTF can describe, so that the rest of the file stays usable
      default: return { kind: BtfKind.TYPEDEF, name: name || `DW_TAG_${hex(die.tag)}`, type: 0 };
    }
  }

  private record(die: Die, name: string): BtfTypeInit {
    const union = die.tag === DwTag.union_type;
    if (die.attrs.get(DwAt.declaration) === true) return { kind: BtfKind.FWD, name, union };
    const kind = union ? BtfKind.UNION : BtfKind.STRUCT;
    const size = this.num(die, DwAt.byte_size) ?? 0;
    const members: BtfMember[] = [];
    let bitfields = false;
    for (const m of die.children) {
      if (m.tag !== DwTag.member) continue;
      const type = this.type(typeOf(this.dwarf, m));
      const bitSize = this.num(m, DwAt.bit_size) ?? 0;
      let bitOffset = this.num(m, DwAt.data_bit_offset);
      if (bitOffset === undefined) bitOffset = this.memberLocation(m) * 8;
      if (bitSize) bitfields = true;
      members.push({ name: nameOf(this.dwarf, m) ?? '', type, bitOffset, bitfieldSize: bitSize });
    }
    return { kind, name, size, members, kindFlag: bitfields };
  }

  /** DW_AT_data_member_location: a constant, or (DWARF 2) an expression DW_OP_plus_uconst N. */
  private memberLocation(m: Die): number {
    const v = m.attrs.get(DwAt.data_member_location);
    if (v === undefined) return 0;
    if (typeof v === 'number') return v;
    if (v instanceof Uint8Array && v[0] === 0x23) {
      let n = 0;
      let mul = 1;
      for (let i = 1; i < v.length && i < 10; i++) {
        n += (v[i]! & 0x7f) * mul;
        if (!(v[i]! & 0x80)) return n;
        mul *= 128;
      }
    }
    throw new DwarfError(`.debug_info: member at ${hex(m.offset)} has a location tsbpf cannot read`);
  }

  /** `int a[2][3]`: an array of 2 arrays of 3 (the outer one is the DIE's own id). */
  private array(die: Die, elem: number): BtfTypeInit {
    const dims = die.children.filter((s) => s.tag === DwTag.subrange_type).map((s) => {
      const count = this.num(s, DwAt.count);
      if (count !== undefined) return count;
      const ub = this.num(s, DwAt.upper_bound);
      return ub === undefined || ub < 0 ? 0 : ub + 1; // a flexible array member has no bound
    });
    if (!dims.length) dims.push(0);
    let id = elem;
    for (let i = dims.length - 1; i >= 1; i--) id = this.b.array(id, dims[i]!);
    // the index type BtfBuilder.array gives its arrays (it finds this one by name)
    this.indexType ??= this.b.int('__ARRAY_SIZE_TYPE__', 4);
    return { kind: BtfKind.ARRAY, name: '', type: id, indexType: this.indexType, nelems: dims[0]! };
  }
}

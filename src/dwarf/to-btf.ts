// DWARF types as BTF: the functions of a binary (FUNC → FUNC_PROTO with named parameters) and every
// type their parameters reach, so that the script compiler types a uprobe's `args->name` as it types
// a kfunc's from the kernel's BTF. A struct gets its id before its members are converted, so a
// struct that points to itself (a list node) closes on that id; any other loop of type references
// (a typedef or pointer chain back to itself) is malformed DWARF and an error.
import { Btf } from '../btf/btf.js';
import { BtfBuilder } from '../btf/marshal.js';
import { BtfKind, BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, type BtfMember } from '../btf/types.js';
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

class Converter {
  readonly b = new BtfBuilder();
  private readonly ids = new Map<number, number>();
  private readonly converting = new Set<number>();

  constructor(private readonly dwarf: Dwarf) {}

  /** The BTF id of a DWARF type (0: void). */
  type(die: Die | undefined): number {
    if (!die) return 0;
    const known = this.ids.get(die.offset);
    if (known !== undefined) return known;
    if (this.converting.has(die.offset)) throw new DwarfError(`.debug_info: the type at ${hex(die.offset)} refers back to itself`);
    this.converting.add(die.offset);
    try {
      const id = this.convert(die);
      this.ids.set(die.offset, id);
      return id;
    } finally {
      this.converting.delete(die.offset);
    }
  }

  private num(die: Die, at: DwAt): number | undefined {
    const v = die.attrs.get(at);
    return typeof v === 'number' ? v : undefined;
  }

  private convert(die: Die): number {
    const name = nameOf(this.dwarf, die) ?? '';
    const inner = (): number => this.type(typeOf(this.dwarf, die));
    switch (die.tag) {
      case DwTag.base_type: {
        const size = this.num(die, DwAt.byte_size) ?? 0;
        const enc = this.num(die, DwAt.encoding) ?? DwAte.unsigned;
        if (enc === DwAte.float || enc === DwAte.complex_float) return this.b.float(name, size);
        const signed = enc === DwAte.signed || enc === DwAte.signed_char;
        const encoding = (signed ? BTF_INT_SIGNED : 0) | (enc === DwAte.signed_char || enc === DwAte.unsigned_char ? BTF_INT_CHAR : 0) | (enc === DwAte.boolean ? BTF_INT_BOOL : 0);
        return this.b.add({ kind: BtfKind.INT, name, size, encoding, bitOffset: 0, bits: size * 8 });
      }
      case DwTag.pointer_type: case DwTag.reference_type: case DwTag.rvalue_reference_type: {
        // the pointer's id first: a pointer reached again through its own target is then no loop
        const id = this.b.ptr(0);
        this.ids.set(die.offset, id);
        this.b.set(id, { kind: BtfKind.PTR, name: '', type: inner() });
        return id;
      }
      case DwTag.const_type: return this.b.const(inner());
      case DwTag.volatile_type: return this.b.volatile(inner());
      case DwTag.restrict_type: return this.b.add({ kind: BtfKind.RESTRICT, name: '', type: inner() });
      case DwTag.atomic_type: return inner();
      case DwTag.typedef: return this.b.typedef(name, inner());
      case DwTag.structure_type: case DwTag.class_type: case DwTag.union_type: return this.record(die, name);
      case DwTag.enumeration_type: {
        const values: [string, number][] = die.children.filter((e) => e.tag === DwTag.enumerator).map((e) => {
          const v = e.attrs.get(DwAt.const_value);
          return [nameOf(this.dwarf, e) ?? '', typeof v === 'number' ? v : typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : 0];
        });
        if (die.attrs.get(DwAt.declaration) === true) return this.b.fwd(name);
        return this.b.enum(name, values, this.num(die, DwAt.byte_size) ?? 4);
      }
      case DwTag.array_type: return this.array(die, inner());
      case DwTag.subroutine_type: {
        const ret = inner();
        const params = die.children.filter((p) => p.tag === DwTag.formal_parameter).map((p) => ({ name: '', type: this.type(typeOf(this.dwarf, p)) }));
        if (die.children.some((p) => p.tag === DwTag.unspecified_parameters)) params.push({ name: '', type: 0 });
        return this.b.funcProto(ret, params);
      }
      default:
        throw new DwarfError(`.debug_info: the type at ${hex(die.offset)} has tag ${hex(die.tag)}, which tsbpf does not convert`);
    }
  }

  private record(die: Die, name: string): number {
    const union = die.tag === DwTag.union_type;
    if (die.attrs.get(DwAt.declaration) === true) return this.b.fwd(name, union);
    const kind = union ? BtfKind.UNION : BtfKind.STRUCT;
    const size = this.num(die, DwAt.byte_size) ?? 0;
    const id = this.b.add({ kind, name, size, members: [], kindFlag: false });
    this.ids.set(die.offset, id);
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
    this.b.set(id, { kind, name, size, members, kindFlag: bitfields });
    return id;
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

  private array(die: Die, elem: number): number {
    const dims = die.children.filter((s) => s.tag === DwTag.subrange_type).map((s) => {
      const count = this.num(s, DwAt.count);
      if (count !== undefined) return count;
      const ub = this.num(s, DwAt.upper_bound);
      return ub === undefined ? 0 : ub + 1; // a flexible array member has no bound
    });
    if (!dims.length) dims.push(0);
    let id = elem;
    for (let i = dims.length - 1; i >= 0; i--) id = this.b.array(id, dims[i]!);
    return id;
  }
}

// Script types from C: integer type names as casts write them, and kernel BTF types (struct members,
// pointers, arrays) as field access and casts reach them.
import type { Btf } from '../../btf/btf.js';
import { BtfKind, BTF_INT_SIGNED, type BtfType } from '../../btf/types.js';
import type { Pos, TypeName } from '../ast.js';
import { STRLEN, typeName, type SType } from '../types.js';

type Err = (reason: string, pos: Pos) => Error;

/** C integer type names: [size, signed]. */
export const INT_NAMES: Readonly<Record<string, [number, boolean]>> = {
  char: [1, true], 'signed char': [1, true], 'unsigned char': [1, false], bool: [1, false], _Bool: [1, false],
  short: [2, true], 'unsigned short': [2, false], int: [4, true], 'unsigned int': [4, false], unsigned: [4, false], signed: [4, true],
  long: [8, true], 'unsigned long': [8, false], 'long long': [8, true], 'unsigned long long': [8, false],
  'long int': [8, true], 'unsigned long int': [8, false], 'short int': [2, true], 'unsigned short int': [2, false],
  int8: [1, true], int16: [2, true], int32: [4, true], int64: [8, true], uint8: [1, false], uint16: [2, false], uint32: [4, false], uint64: [8, false],
  s8: [1, true], s16: [2, true], s32: [4, true], s64: [8, true], u8: [1, false], u16: [2, false], u32: [4, false], u64: [8, false],
  __s8: [1, true], __s16: [2, true], __s32: [4, true], __s64: [8, true], __u8: [1, false], __u16: [2, false], __u32: [4, false], __u64: [8, false],
  int8_t: [1, true], int16_t: [2, true], int32_t: [4, true], int64_t: [8, true], uint8_t: [1, false], uint16_t: [2, false], uint32_t: [4, false], uint64_t: [8, false],
  size_t: [8, false], ssize_t: [8, true], pid_t: [4, true], uid_t: [4, false], gid_t: [4, false], loff_t: [8, true], umode_t: [2, false], dev_t: [4, false],
  sector_t: [8, false], gfp_t: [4, false], __be16: [2, false], __be32: [4, false], __le16: [2, false], __le32: [4, false],
};

/** The integer type of a C name, if it is one. */
export function intType(name: string): SType | undefined {
  const it = INT_NAMES[name];
  return it ? { k: 'int', size: it[0] as 1, signed: it[1] } : undefined;
}

/** Convert a resolved BTF type to a script type; pointers and records of a BTF other than the kernel's carry it (`own`). */
export function btfToSType(btf: Btf, t: BtfType, pos: Pos, err: Err, own?: Btf): SType {
  const mark = <T extends SType>(s: T): T => (own && (s.k === 'ptr' || s.k === 'record') ? { ...s, btf: own, ...(s.k === 'ptr' ? { user: true } : {}) } : s);
  switch (t.kind) {
    case BtfKind.INT: {
      const size = t.size === 1 || t.size === 2 || t.size === 4 || t.size === 8 ? t.size : 8;
      return { k: 'int', size, signed: (t.encoding & BTF_INT_SIGNED) !== 0 };
    }
    case BtfKind.ENUM: case BtfKind.ENUM64: {
      const size = t.size === 1 || t.size === 2 || t.size === 4 || t.size === 8 ? t.size : 8;
      return { k: 'int', size, signed: t.kind === BtfKind.ENUM ? t.signed : false };
    }
    case BtfKind.PTR: {
      const target = btf.resolve(t.type);
      if (target.kind === BtfKind.INT) return mark({ k: 'ptr', to: btfToSType(btf, target, pos, err) });
      if (target.kind === BtfKind.UNKN) return mark({ k: 'ptr', to: { k: 'int', size: 1, signed: false } });
      return mark({ k: 'ptr', btfId: btf.resolveId(t.type) });
    }
    case BtfKind.STRUCT: case BtfKind.UNION:
      return mark({ k: 'record', btfId: t.id, name: `${t.kind === BtfKind.STRUCT ? 'struct' : 'union'} ${t.name}` });
    case BtfKind.ARRAY: {
      const elem = btf.resolve(t.type);
      if (elem.kind === BtfKind.INT && elem.size === 1 && (elem.encoding & 2 || elem.name === 'char')) return { k: 'str', size: t.nelems };
      const et = btfToSType(btf, elem, pos, err, own);
      if (et.k !== 'int' && et.k !== 'ptr') throw err(`arrays of '${typeName(et)}' are not supported`, pos);
      return { k: 'array', elem: et.k === 'ptr' ? { k: 'int', size: 8, signed: false } : et, len: t.nelems };
    }
    default:
      throw err(`BTF type kind ${BtfKind[t.kind]} is not supported here`, pos);
  }
}

/** Find a member by name, looking through anonymous struct/union members; offset in bytes. */
export function findMember(btf: Btf, id: number, name: string): { offset: number; type: number; bitfield: boolean } | undefined {
  const t = btf.resolve(id);
  if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) return undefined;
  for (const m of t.members) {
    if (m.name === name) return { offset: m.bitOffset / 8, type: m.type, bitfield: m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0 };
    if (m.name === '') {
      const inner = findMember(btf, m.type, name);
      if (inner) return { ...inner, offset: inner.offset + m.bitOffset / 8 };
    }
  }
  return undefined;
}

/**
 * A struct, union, enum or typedef by name: in `own` (a uprobe's binary's types, from its DWARF, as
 * bpftrace resolves `(struct point *)arg0` there) first, else in the kernel's BTF.
 */
export function namedType(base: string, btf: (pos: Pos) => Btf, pos: Pos, ownBtf?: () => Btf | undefined): { b: Btf; id: number; own: boolean } | undefined {
  const m = /^(struct|union|enum) (\w+)$/.exec(base);
  const kind = m ? (m[1] === 'struct' ? BtfKind.STRUCT : m[1] === 'union' ? BtfKind.UNION : BtfKind.ENUM) : undefined;
  const find = (b: Btf): BtfType | undefined => (m ? b.findByName(m[2]!, kind) : b.findByName(base, BtfKind.TYPEDEF));
  const own = ownBtf?.();
  const mine = own && find(own);
  if (mine) return { b: own, id: mine.id, own: true };
  const b = btf(pos);
  const t = find(b);
  return t && { b, id: t.id, own: false };
}

/**
 * A kernel type that a script struct's member names (`struct path p;`, `atomic_t n;`), as clang finds
 * it in the headers bpftrace includes: its size, its alignment and its script type.
 */
export function kernelMemberType(base: string, btf: Btf | undefined): { size: number; align: number; type: SType } | undefined {
  if (!btf) return undefined;
  // a definition's member has no span of its own: the checker reports a CDeclError at the definition
  const nowhere: Pos = { line: 0, col: 0, start: 0, end: 0 };
  const found = namedType(base, () => btf, nowhere);
  if (!found) return undefined;
  const t = btf.resolve(found.id);
  const err: Err = (reason) => new Error(`${base}: ${reason}`);
  return { size: btf.sizeof(t.id), align: btf.alignof(t.id), type: btfToSType(btf, t, nowhere, err) };
}

/** The script type a cast names (`uint32`, `struct sock *`, `char[16]`, `string`, `inet`); `own`: a uprobe binary's types. */
export function typeOfName(tn: TypeName, btf: (pos: Pos) => Btf, err: Err, ownBtf?: () => Btf | undefined): SType {
  let base = tn.base;
  let arr: number | undefined;
  const am = /^(.*)\[(\d+)\]$/.exec(base);
  if (am) {
    base = am[1]!;
    arr = Number(am[2]);
  }
  let t: SType;
  const int = intType(base);
  if (int) t = int;
  else if (base === 'void') t = { k: 'int', size: 1, signed: false };
  else if (base === 'string') t = { k: 'str', size: arr ?? STRLEN };
  else if (base === 'inet') t = { k: 'inet' };
  else {
    const found = namedType(base, btf, tn.pos, ownBtf);
    if (!found) throw err(`Unknown type: ${base}`, tn.pos);
    const { b, id } = found;
    const mine = found.own ? b : undefined;
    if (tn.pointers > 0) {
      let s: SType = { k: 'ptr', btfId: id, ...(mine ? { btf: mine, user: true } : {}) };
      for (let i = 1; i < tn.pointers; i++) s = { k: 'ptr', to: s };
      return s;
    }
    t = btfToSType(b, b.resolve(id), tn.pos, err, mine);
    if (t.k === 'record') throw err(`Cannot cast to '${base}': only pointers to structs can be cast to`, tn.pos);
  }
  if (arr !== undefined && t.k === 'int') t = { k: 'array', elem: t, len: arr };
  for (let i = 0; i < tn.pointers; i++) t = { k: 'ptr', to: t };
  return t;
}

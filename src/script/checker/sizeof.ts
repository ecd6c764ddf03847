// sizeof(TYPE) and sizeof(EXPR), as bpftrace answers them: the C size of a type (an integer type's
// own size, a pointer's 8, a struct the script defines or the kernel's BTF has), and of an
// expression the size of its type (an integer's own width, a string's buffer).
import type { Btf } from '../../btf/btf.js';
import type { Expr, Pos, TypeName } from '../ast.js';
import { sizeOf, type SType } from '../types.js';
import { intType, namedType } from './btf-types.js';
import type { ScriptTypes } from './script-types.js';

type Err = (reason: string, pos: Pos) => Error;

/** `ownBtf`: a uprobe's binary's types, looked up before the kernel's. */
export function sizeofType(tn: TypeName, types: ScriptTypes, btf: (pos: Pos) => Btf, err: Err, ownBtf?: () => Btf | undefined): number {
  if (tn.pointers > 0) return 8;
  let base = tn.base;
  let len = 1;
  const am = /^(.*)\[(\d+)\]$/.exec(base);
  if (am) (base = am[1]!), (len = Number(am[2]));
  const it = intType(base);
  if (it && it.k === 'int') return it.size * len;
  if (base === 'string') return am ? len : 64;
  const own = types.records.get(base);
  if (own) return own.size * len;
  const found = namedType(base, btf, tn.pos, ownBtf);
  if (!found && /^enum \w+$/.test(base)) return 4 * len;
  if (!found) throw err(`Unknown type: ${base}`, tn.pos);
  return found.b.sizeof(found.id) * len;
}

/** The size of a value of this type, as C would have it. */
export function sizeofValue(t: SType, btf: (pos: Pos) => Btf, pos: Pos): number {
  switch (t.k) {
    case 'int': return t.size;
    case 'record': return t.script ? t.script.size : (t.btf ?? btf(pos)).sizeof(t.btfId!);
    case 'array': return sizeofValue(t.elem, btf, pos) * t.len;
    case 'buf': return t.size;
    default: return sizeOf(t);
  }
}

/** The size a pointer steps by (C pointer arithmetic: `(int32 *)p + 1` is 4 bytes on). */
export function pointeeSize(t: Extract<SType, { k: 'ptr' }>, btf: (pos: Pos) => Btf, pos: Pos): number {
  if (t.to) return Math.max(1, sizeofValue(t.to, btf, pos));
  if (t.btfId !== undefined) return Math.max(1, (t.btf ?? btf(pos)).sizeof(t.btfId));
  return 1;
}

/** `x * n` in the tree, marked so that the checker's second pass does not scale it again. */
export function scaled(x: Expr, n: number): Expr {
  return { kind: 'binary', op: '*', left: x, right: { kind: 'int', value: BigInt(n), pos: x.pos }, pos: x.pos, scaled: true } as Expr;
}

export const isScaled = (x: Expr): boolean => (x as { scaled?: boolean }).scaled === true;

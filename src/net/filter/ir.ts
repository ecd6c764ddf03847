// The lowered form of a filter: boolean predicates over 32-bit unsigned values read from the packet.
// lower.ts produces it from the AST with libpcap's meaning; codegen.ts turns it into eBPF.
// Packet offsets are absolute (from the first byte of the frame) and may depend on run-time
// variables, as libpcap's offsets do after `geneve` or a VLAN tag the kernel moved into metadata.

export type BinOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';

/** struct __sk_buff fields a filter may read (live captures only, except `len`). */
export type MetaField = 'pkttype' | 'ifindex' | 'vlan_present' | 'vlan_tci';

export type Val =
  | { k: 'const'; v: number }
  /** the packet's length on the wire */
  | { k: 'len' }
  | { k: 'meta'; field: MetaField }
  /** big-endian packet bytes at an absolute offset; a load past the captured bytes rejects the packet */
  | { k: 'load'; off: Val; size: 1 | 2 | 4 }
  /** a run-time variable (an offset computed by a `set`); 0 until set */
  | { k: 'var'; id: number }
  /** 4 * (the packet byte at `off` & 0x0f): an IPv4 header length (classic BPF's `ldxb 4*([k]&0xf)`) */
  | { k: 'ihl'; off: Val }
  | { k: 'bin'; op: BinOp; a: Val; b: Val }
  | { k: 'neg'; a: Val };

/** Comparison; 'set' is `(a & b) != 0`. All comparisons are unsigned 32-bit, as in classic BPF. */
export type CmpOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'set';

export type Pred =
  | { k: 'true' }
  | { k: 'false' }
  | { k: 'and' | 'or'; a: Pred; b: Pred }
  | { k: 'not'; a: Pred }
  | { k: 'cmp'; op: CmpOp; a: Val; b: Val }
  /** variable `id` := `v`, then true: how offsets that depend on the packet are carried forward */
  | { k: 'set'; id: number; v: Val };

export const TRUE: Pred = { k: 'true' };
export const FALSE: Pred = { k: 'false' };
export const num = (v: number): Val => ({ k: 'const', v: v >>> 0 });
export const and = (a: Pred, b: Pred): Pred => ({ k: 'and', a, b });
export const or = (a: Pred, b: Pred): Pred => ({ k: 'or', a, b });
export const not = (a: Pred): Pred => ({ k: 'not', a });
export const cmp = (a: Val, op: CmpOp, b: number | Val): Pred => ({ k: 'cmp', op, a, b: typeof b === 'number' ? num(b) : b });
export const bin = (op: BinOp, a: Val, b: Val): Val => ({ k: 'bin', op, a, b });
export const anyOf = (ps: Pred[]): Pred => (ps.length ? ps.reduce((x, y) => or(x, y)) : FALSE);
export const allOf = (ps: Pred[]): Pred => (ps.length ? ps.reduce((x, y) => and(x, y)) : TRUE);

/** An offset: a constant plus, after run-time-sized headers, a variable. */
export interface Off {
  c: number;
  v?: number;
}

/** The offset `o + extra` as a value. */
export function offVal(o: Off, extra = 0): Val {
  const c = num((o.c + extra) | 0);
  return o.v === undefined ? c : bin('+', { k: 'var', id: o.v }, c);
}

export const load = (o: Off, extra: number, size: 1 | 2 | 4): Val => ({ k: 'load', off: offVal(o, extra), size });

/** `a + b`, folding constants into the constant part of an offset (`x + 14` + 2 → `x + 16`). */
export function plus(a: Val, b: Val): Val {
  if (b.k === 'const' && a.k === 'const') return num((a.v + b.v) | 0);
  if (b.k === 'const' && a.k === 'bin' && a.op === '+' && a.b.k === 'const') return bin('+', a.a, num((a.b.v + b.v) | 0));
  if (a.k === 'const' && b.k !== 'const') return plus(b, a);
  return bin('+', a, b);
}

// The scalar domain: a tnum plus unsigned and signed 64-bit bounds, kept consistent with each other
// (the kernel's reg_bounds_sync), and the 32-bit view derived from them. Every ALU operation and
// every branch condition maps scalars to sound over-approximations.
import {
  BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_END, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JNE, BPF_JSET,
  BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB,
  BPF_TO_BE, BPF_XOR,
} from '../../isa/opcodes.js';
import { alu, jmpCond } from '../semantics.js';
import { isConst, tadd, tand, tarsh, tcast32, tconst, tintersect, tlsh, tmax, tmin, tmul, tnumRange, tor, trsh, tsub, tunknown, txor, type Tnum } from './tnum.js';

export const U64_MAX = (1n << 64n) - 1n;
export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
const U32_MAX = 0xffffffffn;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export interface Scalar {
  umin: bigint;
  umax: bigint;
  smin: bigint;
  smax: bigint;
  t: Tnum;
}

export const sUnknown = (): Scalar => ({ umin: 0n, umax: U64_MAX, smin: S64_MIN, smax: S64_MAX, t: tunknown });
const UNKNOWN = sUnknown();
export const sConst = (v: bigint): Scalar => ({ umin: u64(v), umax: u64(v), smin: s64(v), smax: s64(v), t: tconst(u64(v)) });
export const sRange = (lo: bigint, hi: bigint): Scalar => sync({ umin: lo, umax: hi, smin: S64_MIN, smax: S64_MAX, t: tunknown })!;
export const isConstScalar = (s: Scalar): boolean => s.umin === s.umax;

const SIGN = 1n << 63n;
const LOW63 = SIGN - 1n;

/** Tighten all bounds from each other; undefined if they contradict (an impossible branch). */
export function sync(s: Scalar): Scalar | undefined {
  let { umin, umax, smin, smax, t } = s;
  if (t.mask === 0n) {
    // A known value: every view is that value, or the bounds contradict it.
    const v = t.value;
    const sv = s64(v);
    if (v < umin || v > umax || sv < smin || sv > smax) return undefined;
    return umin === v && umax === v && smin === sv && smax === sv ? s : { umin: v, umax: v, smin: sv, smax: sv, t };
  }
  // Nothing known: nothing to tighten.
  if (t.mask === U64_MAX && umin === 0n && umax === U64_MAX && smin === S64_MIN && smax === S64_MAX) return s;
  for (let round = 0; round < 2; round++) {
    const tv = t.value;
    const tm = t.mask;
    if (umin < tv) umin = tv;
    if (umax > (tv | tm)) umax = tv | tm;
    const lo = s64(tv | (tm & SIGN));
    const hi = s64(tv | (tm & LOW63));
    if (smin < lo) smin = lo;
    if (smax > hi) smax = hi;
    if (smin >= 0n || smax < 0n) {
      // Sign known: both views describe the same interval.
      umin = max(umin, u64(smin));
      umax = min(umax, u64(smax));
    }
    if (umax <= S64_MAX || umin > S64_MAX) {
      smin = max(smin, s64(umin));
      smax = min(smax, s64(umax));
    }
    if (umin > umax || smin > smax) return undefined;
    const nt = tintersect(t, tnumRange(umin, umax));
    if (((nt.value & ~nt.mask) | 0n) !== nt.value) return undefined;
    // An unchanged tnum would give the same bounds again: the second round has nothing to add.
    if (nt.value === tv && nt.mask === tm) break;
    t = nt;
  }
  return { umin, umax, smin, smax, t };
}

const WIDTH = [1, 2, 4].map((size) => sRange(0n, (1n << BigInt(size * 8)) - 1n));
const SIGNED = [1, 2, 4, 8].map((size) => {
  const half = 1n << BigInt(size * 8 - 1);
  return sync({ umin: 0n, umax: U64_MAX, smin: -half, smax: half - 1n, t: tunknown }) ?? sUnknown();
});

/** What a zero-extending load of `size` bytes yields (shared: scalars are never changed in place). */
export const sLoaded = (size: number): Scalar => (size === 8 ? UNKNOWN : WIDTH[size >> 1]!);
/** What a sign-extending load of `size` bytes yields. */
export const sLoadedSigned = (size: number): Scalar => SIGNED[size === 8 ? 3 : size >> 1]!;

/** The low 32 bits of s as a (zero-extended) scalar. */
export function low32(s: Scalar): Scalar {
  if (s.umax <= U32_MAX) return s;
  return sync({ ...sUnknown(), umax: U32_MAX, t: tcast32(s.t) })!;
}

export function s32view(s: Scalar): { umin: bigint; umax: bigint; smin: bigint; smax: bigint } {
  const l = low32(s);
  const fitsS = l.umax <= 0x7fffffffn;
  return { umin: l.umin, umax: l.umax, smin: fitsS ? l.umin : -(1n << 31n), smax: fitsS ? l.umax : (1n << 31n) - 1n };
}

function fromTnum(t: Tnum): Scalar {
  return sync({ ...sUnknown(), t })!;
}

/** ALU on scalars. `op` is BPF_OP; for is64 false the operands are truncated and the result zero-extended. */
export function scalarAlu(op: number, is64: boolean, a: Scalar, b: Scalar, off: number, imm: number, srcBit: number): Scalar {
  // What the kernel does not compute (is_safe_to_compute_dst_reg_range) it marks wholly unknown, all
  // 64 bits even for ALU32, constants included: division and modulo, and shifts by anything but a
  // constant below the width (the ISA masks the count at run time). tsbpf does the same, so the two
  // verifiers decide alike.
  if (op === BPF_DIV || op === BPF_MOD) return UNKNOWN;
  if ((op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH) && !(isConstScalar(b) && b.umin < (is64 ? 64n : 32n))) return UNKNOWN;
  if (isConstScalar(a) && isConstScalar(b)) return sConst(alu(op, is64, a.umin, b.umin, off, imm, srcBit));
  if (op === BPF_MOV && off === 0) return is64 ? b : low32(b);
  if (op === BPF_END) {
    // Byte swaps and truncations of a non-constant: only the width is known (to-LE 64 is a no-op).
    if (imm === 64) return !is64 && srcBit !== BPF_TO_BE ? a : sUnknown();
    return sRange(0n, (1n << BigInt(imm)) - 1n);
  }
  if (!is64) {
    if (op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH) return shift32(op, a, b);
    const r = scalarAlu(op, true, low32(a), low32(b), off, imm, srcBit);
    return r.umax <= U32_MAX ? r : low32(r);
  }
  const bConst = isConstScalar(b) ? b.umin : undefined;
  switch (op) {
    case BPF_ADD: {
      const umin = a.umin + b.umin;
      const umax = a.umax + b.umax;
      const smin = a.smin + b.smin;
      const smax = a.smax + b.smax;
      const uok = umax <= U64_MAX;
      const sok = smin >= S64_MIN && smax <= S64_MAX;
      return sync({ umin: uok ? umin : 0n, umax: uok ? umax : U64_MAX, smin: sok ? smin : S64_MIN, smax: sok ? smax : S64_MAX, t: tadd(a.t, b.t) }) ?? sUnknown();
    }
    case BPF_SUB: {
      const uok = a.umin >= b.umax;
      const smin = a.smin - b.smax;
      const smax = a.smax - b.smin;
      const sok = smin >= S64_MIN && smax <= S64_MAX;
      return sync({ umin: uok ? a.umin - b.umax : 0n, umax: uok ? a.umax - b.umin : U64_MAX, smin: sok ? smin : S64_MIN, smax: sok ? smax : S64_MAX, t: tsub(a.t, b.t) }) ?? sUnknown();
    }
    case BPF_MUL:
      if (a.umax <= U32_MAX && b.umax <= U32_MAX) return sync({ ...sUnknown(), umin: a.umin * b.umin, umax: a.umax * b.umax, t: tmul(a.t, b.t) }) ?? sUnknown();
      return fromTnum(tmul(a.t, b.t));
    case BPF_AND:
      return sync({ ...sUnknown(), umax: min(a.umax, b.umax), t: tand(a.t, b.t) }) ?? sUnknown();
    case BPF_OR:
      return sync({ ...sUnknown(), umin: max(a.umin, b.umin), t: tor(a.t, b.t) }) ?? sUnknown();
    case BPF_XOR:
      return fromTnum(txor(a.t, b.t));
    // Shift counts are constants below 64 here (see the top).
    case BPF_LSH: {
      const k = bConst!;
      if (a.umax << k <= U64_MAX) return sync({ ...sUnknown(), umin: a.umin << k, umax: a.umax << k, t: tlsh(a.t, Number(k)) }) ?? sUnknown();
      return fromTnum(tlsh(a.t, Number(k)));
    }
    case BPF_RSH:
      return sync({ ...sUnknown(), umin: a.umin >> bConst!, umax: a.umax >> bConst!, t: trsh(a.t, Number(bConst!)) }) ?? sUnknown();
    case BPF_ARSH:
      return sync({ ...sUnknown(), smin: a.smin >> bConst!, smax: a.smax >> bConst!, t: tarsh(a.t, Number(bConst!), 64) }) ?? sUnknown();
    case BPF_NEG:
      return sUnknown();
    case BPF_MOV: {
      // movsx of a non-constant
      const half = 1n << BigInt(off - 1);
      if (b.umax < half) return b;
      return sync({ ...sUnknown(), smin: -half, smax: half - 1n }) ?? sUnknown();
    }
  }
  return sUnknown();
}

const U32_ANY = sRange(0n, U32_MAX);

/**
 * A 32-bit shift by a constant below 32 (scalarAlu leaves other counts unknown). The 64-bit path
 * cannot stand in: an arithmetic shift sign-extends from bit 31, not from bit 63 of the zero-extended
 * value.
 */
function shift32(op: number, a: Scalar, b: Scalar): Scalar {
  const k = b.umin;
  const x = low32(a);
  if (op === BPF_LSH) {
    // Exact in 64 bits (a 32-bit value shifted by at most 31), then truncated.
    const r = scalarAlu(BPF_LSH, true, x, b, 0, 0, 0);
    return r.umax <= U32_MAX ? r : low32(r);
  }
  if (op === BPF_RSH) return scalarAlu(BPF_RSH, true, x, b, 0, 0, 0);
  // Arithmetic: shift the signed 32-bit view, sign-extended from bit 31.
  const v = s32view(x);
  const smin = v.smin >> k;
  const smax = v.smax >> k;
  const t = tarsh(tcast32(x.t), Number(k), 32);
  const bounds = smin >= 0n || smax < 0n ? { umin: smin & U32_MAX, umax: smax & U32_MAX } : { umin: 0n, umax: U32_MAX };
  return sync({ ...sUnknown(), ...bounds, t }) ?? U32_ANY;
}

/**
 * Refine a and b for the branch where `a op b` is `taken`. Returns undefined for an impossible branch.
 * 32-bit compares refine only when both values fit in 32 bits (then the 32-bit view is the value).
 */
/** The condition a not-taken branch establishes (JSET's complement has no single opcode: -1). */
const NEGATED: Record<number, number> = {
  [BPF_JEQ]: BPF_JNE, [BPF_JNE]: BPF_JEQ, [BPF_JGT]: BPF_JLE, [BPF_JLE]: BPF_JGT, [BPF_JGE]: BPF_JLT, [BPF_JLT]: BPF_JGE,
  [BPF_JSGT]: BPF_JSLE, [BPF_JSLE]: BPF_JSGT, [BPF_JSGE]: BPF_JSLT, [BPF_JSLT]: BPF_JSGE, [BPF_JSET]: -1,
};

/** The ordered compares: `a > b` (greater) or `a < b`, strictly or not, as unsigned or signed values. */
const ORDER: Record<number, { greater: boolean; strict: boolean; signed: boolean }> = {
  [BPF_JGT]: { greater: true, strict: true, signed: false },
  [BPF_JGE]: { greater: true, strict: false, signed: false },
  [BPF_JLT]: { greater: false, strict: true, signed: false },
  [BPF_JLE]: { greater: false, strict: false, signed: false },
  [BPF_JSGT]: { greater: true, strict: true, signed: true },
  [BPF_JSGE]: { greater: true, strict: false, signed: true },
  [BPF_JSLT]: { greater: false, strict: true, signed: true },
  [BPF_JSLE]: { greater: false, strict: false, signed: true },
};

export function refine(op: number, is32: boolean, a: Scalar, b: Scalar, taken: boolean): [Scalar, Scalar] | undefined {
  if (isConstScalar(a) && isConstScalar(b)) return jmpCond(op, is32, a.umin, b.umin) === taken ? [a, b] : undefined;
  if (is32) {
    const fits = a.umax <= U32_MAX && b.umax <= U32_MAX;
    const signed = op === BPF_JSGT || op === BPF_JSGE || op === BPF_JSLT || op === BPF_JSLE;
    if (!fits || (signed && (a.umax > 0x7fffffffn || b.umax > 0x7fffffffn))) {
      // No refinement, but a constant-decidable outcome still prunes: check with the 32-bit views.
      const la = low32(a);
      const lb = low32(b);
      const d = decide(op, true, la, lb);
      if (d !== undefined && d !== taken) return undefined;
      if ((op === BPF_JEQ && taken) || (op === BPF_JNE && !taken)) {
        // Equal low halves: the tnums' low bits must agree.
        return [a, b];
      }
      return [a, b];
    }
  }
  // Normalise to a positive form: not-taken of JGT is JLE, etc.
  const o = taken ? op : NEGATED[op]!;
  let na = { ...a };
  let nb = { ...b };
  switch (o) {
    case BPF_JEQ: {
      const t = tintersect(a.t, b.t);
      const m = { umin: max(a.umin, b.umin), umax: min(a.umax, b.umax), smin: max(a.smin, b.smin), smax: min(a.smax, b.smax), t };
      na = m;
      nb = { ...m };
      break;
    }
    case BPF_JNE:
      // Only a constant operand at an edge of the other's range helps.
      if (isConstScalar(b)) {
        if (a.umin === b.umin) na.umin = a.umin + 1n;
        if (a.umax === b.umin) na.umax = a.umax - 1n;
        if (a.smin === s64(b.umin)) na.smin = a.smin + 1n;
        if (a.smax === s64(b.umin)) na.smax = a.smax - 1n;
      }
      if (isConstScalar(a)) {
        if (b.umin === a.umin) nb.umin = b.umin + 1n;
        if (b.umax === a.umin) nb.umax = b.umax - 1n;
      }
      break;
    case BPF_JSET:
      // taken: some common bit may be set; with a constant single bit it is known set.
      if (isConstScalar(b) && b.umin !== 0n && (b.umin & (b.umin - 1n)) === 0n) na.t = tor(a.t, tconst(b.umin));
      if (isConstScalar(b) && (a.t.value & b.umin) === 0n && (a.t.mask & b.umin) === 0n) return undefined;
      break;
    case -1:
      // JSET not taken: the bits of a constant b are all clear in a.
      if (isConstScalar(b)) {
        if ((a.t.value & b.umin) !== 0n) return undefined;
        na.t = tand(a.t, tconst(~b.umin & U64_MAX));
      }
      break;
    default: {
      // an order, unsigned or signed: a's bound on b's side moves past b's far bound, and b's past a's
      const c = ORDER[o];
      if (!c) break;
      const [lo, hi] = c.signed ? (['smin', 'smax'] as const) : (['umin', 'umax'] as const);
      const d = c.strict ? 1n : 0n;
      if (c.greater) {
        na[lo] = max(a[lo], b[lo] + d);
        nb[hi] = min(b[hi], a[hi] - d);
      } else {
        na[hi] = min(a[hi], b[hi] - d);
        nb[lo] = max(b[lo], a[lo] + d);
      }
    }
  }
  const ra = sync(na);
  const rb = sync(nb);
  if (!ra || !rb) return undefined;
  return [ra, rb];
}

/** The outcome of `a op b` if the bounds decide it. */
export function decide(op: number, is32: boolean, a: Scalar, b: Scalar): boolean | undefined {
  if (is32) {
    a = low32(a);
    b = low32(b);
    if (isConstScalar(a) && isConstScalar(b)) return jmpCond(op, true, a.umin, b.umin);
    const signed = op === BPF_JSGT || op === BPF_JSGE || op === BPF_JSLT || op === BPF_JSLE;
    if (signed && (a.umax > 0x7fffffffn || b.umax > 0x7fffffffn)) return undefined;
  }
  if (isConstScalar(a) && isConstScalar(b)) return jmpCond(op, is32, a.umin, b.umin);
  switch (op) {
    case BPF_JEQ:
      if (a.umax < b.umin || a.umin > b.umax || a.smax < b.smin || a.smin > b.smax) return false;
      if (((a.t.value ^ b.t.value) & ~(a.t.mask | b.t.mask)) !== 0n) return false;
      return undefined;
    case BPF_JNE: {
      const eq = decide(BPF_JEQ, false, a, b);
      return eq === undefined ? undefined : !eq;
    }
    case BPF_JGT: return a.umin > b.umax ? true : a.umax <= b.umin ? false : undefined;
    case BPF_JGE: return a.umin >= b.umax ? true : a.umax < b.umin ? false : undefined;
    case BPF_JLT: return a.umax < b.umin ? true : a.umin >= b.umax ? false : undefined;
    case BPF_JLE: return a.umax <= b.umin ? true : a.umin > b.umax ? false : undefined;
    case BPF_JSGT: return a.smin > b.smax ? true : a.smax <= b.smin ? false : undefined;
    case BPF_JSGE: return a.smin >= b.smax ? true : a.smax < b.smin ? false : undefined;
    case BPF_JSLT: return a.smax < b.smin ? true : a.smin >= b.smax ? false : undefined;
    case BPF_JSLE: return a.smax <= b.smin ? true : a.smin > b.smax ? false : undefined;
    case BPF_JSET:
      if ((a.t.value & b.t.value) !== 0n) return true;
      if (((a.t.value | a.t.mask) & (b.t.value | b.t.mask)) === 0n) return false;
      return undefined;
  }
  return undefined;
}

/** Is every value of a also a value of b? (for state pruning) */
export function scalarWithin(b: Scalar, a: Scalar): boolean {
  return a.umin >= b.umin && a.umax <= b.umax && a.smin >= b.smin && a.smax <= b.smax && (a.t.mask & ~b.t.mask) === 0n && (a.t.value & ~b.t.mask) === b.t.value;
}

export function scalarStr(s: Scalar): string {
  if (isConstScalar(s)) return `${s.smin < 0n && s.smin > -4096n ? s.smin : '0x' + s.umin.toString(16)}`;
  const parts: string[] = [];
  if (s.umin !== 0n || s.umax !== U64_MAX) parts.push(`u=[${s.umin}, ${s.umax === U64_MAX ? 'U64_MAX' : s.umax}]`);
  if (s.smin !== S64_MIN || s.smax !== S64_MAX) {
    if (!(s.smin === s.umin && s.smax === s.umax)) parts.push(`s=[${s.smin}, ${s.smax}]`);
  }
  if (!isConst(s.t) && s.t.mask !== U64_MAX && tmax(s.t) !== s.umax) parts.push(`bits=(0x${s.t.value.toString(16)}; 0x${s.t.mask.toString(16)})`);
  return parts.length ? `scalar(${parts.join(', ')})` : 'scalar(unknown)';
}

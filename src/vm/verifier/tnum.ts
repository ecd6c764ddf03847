// Tristate numbers (the kernel's tnum): a 64-bit value whose bits are known (mask bit 0, value bit
// gives it) or unknown (mask bit 1). Sound over-approximations of ALU results bit by bit.
const M = (1n << 64n) - 1n;

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const tnum = (value: bigint, mask: bigint): Tnum => ({ value: value & ~mask & M, mask: mask & M });
/** For operands already normalised: both within 64 bits, no bit in both. */
const mk = (value: bigint, mask: bigint): Tnum => ({ value, mask });
export const tconst = (v: bigint): Tnum => ({ value: v & M, mask: 0n });
export const tunknown: Tnum = tnum(0n, M);
export const isConst = (t: Tnum): boolean => t.mask === 0n;

/** Number of significant bits of a 64-bit value (0 for 0), without building strings. */
export function bitLength(x: bigint): number {
  const hi = Number((x >> 32n) & 0xffffffffn);
  if (hi) return 64 - Math.clz32(hi);
  return 32 - Math.clz32(Number(x & 0xffffffffn));
}

/** The smallest tnum holding every value in [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = min ^ max;
  if (chi === 0n) return tconst(min);
  const bits = bitLength(chi);
  if (bits > 63) return tunknown;
  const delta = (1n << BigInt(bits)) - 1n;
  return mk(min & ~delta, delta);
}

export function tadd(a: Tnum, b: Tnum): Tnum {
  const sm = (a.mask + b.mask) & M;
  const sv = (a.value + b.value) & M;
  const sigma = (sm + sv) & M;
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return mk(sv & ~mu, mu);
}

export function tsub(a: Tnum, b: Tnum): Tnum {
  const dv = (a.value - b.value) & M;
  const alpha = (dv + a.mask) & M;
  const beta = (dv - b.mask) & M;
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return mk(dv & ~mu, mu);
}

export const tand = (a: Tnum, b: Tnum): Tnum => {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return mk(v, alpha & beta & ~v);
};

export const tor = (a: Tnum, b: Tnum): Tnum => {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return mk(v, mu & ~v);
};

export const txor = (a: Tnum, b: Tnum): Tnum => {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return mk(v & ~mu, mu);
};

export const tlsh = (a: Tnum, s: number): Tnum => tnum((a.value << BigInt(s)) & M, (a.mask << BigInt(s)) & M);
export const trsh = (a: Tnum, s: number): Tnum => tnum(a.value >> BigInt(s), a.mask >> BigInt(s));
export function tarsh(a: Tnum, s: number, bits: 32 | 64): Tnum {
  const sv = BigInt.asUintN(bits, BigInt.asIntN(bits, a.value) >> BigInt(s));
  const sm = BigInt.asUintN(bits, BigInt.asIntN(bits, a.mask) >> BigInt(s));
  return tnum(sv, sm);
}

/** Bits known to be zero at the bottom of every value of `a`. */
function knownTrailingZeros(a: Tnum): number {
  const any = a.value | a.mask;
  if (any === 0n) return 64;
  const low = any & -any;
  return bitLength(low) - 1;
}

/**
 * Multiplication: exact for constants, a shift for a power-of-two constant, the kernel's
 * half-multiply-accumulate for narrow operands, and otherwise only the known trailing zero bits
 * (the bit loop over 64-bit unknowns costs more than it proves).
 */
export function tmul(a: Tnum, b: Tnum): Tnum {
  if (isConst(a) && isConst(b)) return tconst(a.value * b.value);
  if (isConst(a) && a.value !== 0n && (a.value & (a.value - 1n)) === 0n) return tlsh(b, bitLength(a.value) - 1);
  if (isConst(b) && b.value !== 0n && (b.value & (b.value - 1n)) === 0n) return tlsh(a, bitLength(b.value) - 1);
  if (bitLength(a.value | a.mask) <= 16) {
    let acc = tconst((a.value * b.value) & M);
    let am = a;
    let bm = b;
    let accMask = tconst(0n);
    while (am.value || am.mask) {
      if (am.value & 1n) accMask = tadd(accMask, tnum(0n, bm.mask));
      else if (am.mask & 1n) accMask = tadd(accMask, tnum(0n, bm.value | bm.mask));
      am = trsh(am, 1);
      bm = tlsh(bm, 1);
    }
    acc = tadd(acc, accMask);
    return acc;
  }
  const tz = Math.min(64, knownTrailingZeros(a) + knownTrailingZeros(b));
  return tz >= 64 ? tconst(0n) : tnum(0n, (M << BigInt(tz)) & M);
}

/** Values both a and b allow. */
export const tintersect = (a: Tnum, b: Tnum): Tnum => {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return mk(v & ~mu, mu);
};

/** Keep the low 32 bits (zero-extension). */
export const tcast32 = (a: Tnum): Tnum => tnum(a.value & 0xffffffffn, a.mask & 0xffffffffn);

/** Is every value of `a` a value of `b`? */
export const tin = (b: Tnum, a: Tnum): boolean => (a.mask & ~b.mask) === 0n && (a.value & ~b.mask) === b.value;

export const tmin = (a: Tnum): bigint => a.value;
export const tmax = (a: Tnum): bigint => a.value | a.mask;

export function tstr(a: Tnum): string {
  return isConst(a) ? `0x${a.value.toString(16)}` : `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
}

// The arithmetic of the eBPF ISA (RFC 9669 §4), on unsigned 64-bit bigints: the single reference the
// interpreter executes and the JIT is tested against. Includes the rules people get wrong: division by
// zero gives 0, modulo by zero leaves dst (truncated to 32 bits for ALU32), INT_MIN / -1 wraps.
import {
  BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_END, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JNE,
  BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR,
  BPF_RSH, BPF_SUB, BPF_TO_BE, BPF_XOR,
} from '../isa/opcodes.js';

const M64 = 0xffffffffffffffffn;
const M32 = 0xffffffffn;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u32 = (v: bigint): bigint => v & M32;
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** Byte-swap the low `bits` bits of v (16, 32 or 64); the result is zero-extended. */
export function bswap(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits; i += 8) out = (out << 8n) | ((v >> BigInt(i)) & 0xffn);
  return out;
}

/** Sign-extend the low `bits` bits of v to 64 bits, returned unsigned. */
export const sext = (v: bigint, bits: number): bigint => u64(BigInt.asIntN(bits, v));

export class IllegalInstruction extends Error {}

/**
 * One ALU operation. `op` is BPF_OP(code); `src` is already the source operand (register, or the
 * immediate sign-extended to 64 bits); `off` selects signed div/mod and movsx; `imm` is the width for
 * BPF_END; `srcBit` is BPF_SRC(code) (BPF_TO_BE for BPF_END). Returns the new dst, unsigned 64-bit.
 */
export function alu(op: number, is64: boolean, dst: bigint, src: bigint, off: number, imm: number, srcBit: number): bigint {
  // ALU32 is ALU64 on the low halves, results zero-extended; only the widths differ.
  const wrap = is64 ? u64 : u32;
  const sgn = is64 ? s64 : s32;
  const shift = is64 ? 63n : 31n;
  const d = is64 ? dst : u32(dst);
  const s = is64 ? src : u32(src);
  switch (op) {
    case BPF_ADD: return wrap(d + s);
    case BPF_SUB: return wrap(d - s);
    case BPF_MUL: return wrap(d * s);
    case BPF_DIV:
      if (s === 0n) return 0n;
      return off === 1 ? wrap(sgn(d) / sgn(s)) : d / s;
    case BPF_MOD:
      if (s === 0n) return d;
      return off === 1 ? wrap(sgn(d) % sgn(s)) : d % s;
    case BPF_OR: return d | s;
    case BPF_AND: return d & s;
    case BPF_XOR: return d ^ s;
    case BPF_LSH: return wrap(d << (s & shift));
    case BPF_RSH: return d >> (s & shift);
    case BPF_ARSH: return wrap(sgn(d) >> (s & shift));
    case BPF_NEG: return wrap(-d);
    case BPF_MOV:
      if (off === 0) return s;
      if (off === 8 || off === 16 || (is64 && off === 32)) return wrap(BigInt.asIntN(off, s));
      throw new IllegalInstruction(`${is64 ? 'mov' : 'mov32'} with invalid offset ${off}`);
    case BPF_END:
      if (imm !== 16 && imm !== 32 && imm !== 64) throw new IllegalInstruction(`${is64 ? 'bswap' : 'endian conversion'} with invalid width ${imm}`);
      // ALU64 | BPF_END is the unconditional bswap. The VM is little-endian: to-LE truncates, to-BE swaps.
      if (is64 || srcBit === BPF_TO_BE) return bswap(dst, imm);
      return imm === 64 ? dst : dst & ((1n << BigInt(imm)) - 1n);
  }
  throw new IllegalInstruction(`unknown ${is64 ? 'alu64' : 'alu'} op 0x${op.toString(16)}`);
}

/** A conditional jump's condition. a, b unsigned 64-bit; is32 compares the low 32 bits. */
export function jmpCond(op: number, is32: boolean, a: bigint, b: bigint): boolean {
  if (is32) {
    a &= M32;
    b &= M32;
  }
  const sa = is32 ? s32(a) : s64(a);
  const sb = is32 ? s32(b) : s64(b);
  switch (op) {
    case BPF_JEQ: return a === b;
    case BPF_JNE: return a !== b;
    case BPF_JGT: return a > b;
    case BPF_JGE: return a >= b;
    case BPF_JLT: return a < b;
    case BPF_JLE: return a <= b;
    case BPF_JSET: return (a & b) !== 0n;
    case BPF_JSGT: return sa > sb;
    case BPF_JSGE: return sa >= sb;
    case BPF_JSLT: return sa < sb;
    case BPF_JSLE: return sa <= sb;
  }
  throw new IllegalInstruction(`unknown jump op 0x${op.toString(16)}`);
}

export { M64 };

const ACCESS_SIZES = [4, 2, 1, 8] as const;
/** Bytes a load/store moves (BPF_W, BPF_H, BPF_B, BPF_DW), without the per-call table of
 *  isa's sizeBytes: the verifier and the interpreter call this on every memory instruction. */
export const accessSize = (code: number): number => ACCESS_SIZES[(code >> 3) & 3]!;

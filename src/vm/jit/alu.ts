// ALU instructions in compiled code: the ISA's arithmetic (RFC 9669 §4) on i64 locals, including
// its rules for division by zero, INT_MIN / -1 and 32-bit results zero-extended.
import {
  BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_END, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OP, BPF_OR, BPF_RSH,
  BPF_SRC, BPF_SUB, BPF_TO_BE, BPF_X, BPF_XOR,
} from '../../isa/opcodes.js';
import type { Instruction } from '../../isa/instruction.js';
import { ADDR, TB } from './locals.js';
import { Code, Op, T } from './wasm.js';

const ALU64_OP: Record<number, number> = {
  [BPF_ADD]: Op.i64_add, [BPF_SUB]: Op.i64_sub, [BPF_MUL]: Op.i64_mul, [BPF_OR]: Op.i64_or, [BPF_AND]: Op.i64_and,
  [BPF_XOR]: Op.i64_xor, [BPF_LSH]: Op.i64_shl, [BPF_RSH]: Op.i64_shr_u, [BPF_ARSH]: Op.i64_shr_s,
};
const ALU32_OP: Record<number, number> = {
  [BPF_ADD]: Op.i32_add, [BPF_SUB]: Op.i32_sub, [BPF_MUL]: Op.i32_mul, [BPF_OR]: Op.i32_or, [BPF_AND]: Op.i32_and,
  [BPF_XOR]: Op.i32_xor, [BPF_LSH]: Op.i32_shl, [BPF_RSH]: Op.i32_shr_u, [BPF_ARSH]: Op.i32_shr_s,
};

export function alu64(c: Code, i: Instruction, d: number, s: number): void {
  const op = BPF_OP(i.code);
  const isX = BPF_SRC(i.code) === BPF_X;
  const src = (): void => void (isX ? c.get(s) : c.i64(BigInt(i.imm)));
  const k = BigInt(i.imm);
  switch (op) {
    case BPF_MOV:
      if (!isX) c.i64(k);
      else {
        c.get(s);
        if (i.off === 8) c.op(Op.i64_extend8_s);
        else if (i.off === 16) c.op(Op.i64_extend16_s);
        else if (i.off === 32) c.op(Op.i64_extend32_s);
      }
      c.set(d);
      return;
    case BPF_NEG:
      c.i64(0n).get(d).op(Op.i64_sub).set(d);
      return;
    case BPF_END:
      bswap64(c, d, i.imm);
      return;
    case BPF_DIV:
    case BPF_MOD: {
      const signed = i.off === 1;
      const isDiv = op === BPF_DIV;
      if (!isX) {
        if (k === 0n) {
          if (isDiv) c.i64(0n).set(d);
          return;
        }
        if (signed && k === -1n) {
          if (isDiv) c.i64(0n).get(d).op(Op.i64_sub).set(d);
          else c.i64(0n).set(d);
          return;
        }
        c.get(d).i64(k).op(isDiv ? (signed ? Op.i64_div_s : Op.i64_div_u) : signed ? Op.i64_rem_s : Op.i64_rem_u).set(d);
        return;
      }
      c.get(s).set(TB);
      c.get(TB).op(Op.i64_eqz, Op.if, T.i64);
      c.op(...(isDiv ? [Op.i64_const, 0] : [Op.local_get, d]));
      c.op(Op.else);
      if (signed) {
        c.get(TB).i64(-1n).op(Op.i64_eq, Op.if, T.i64);
        if (isDiv) c.i64(0n).get(d).op(Op.i64_sub);
        else c.i64(0n);
        c.op(Op.else).get(d).get(TB).op(isDiv ? Op.i64_div_s : Op.i64_rem_s).op(Op.end);
      } else c.get(d).get(TB).op(isDiv ? Op.i64_div_u : Op.i64_rem_u);
      c.op(Op.end).set(d);
      return;
    }
  }
  c.get(d);
  src();
  c.op(ALU64_OP[op]!).set(d);
}

export function alu32(c: Code, i: Instruction, d: number, s: number): void {
  const op = BPF_OP(i.code);
  const isX = BPF_SRC(i.code) === BPF_X;
  const src = (): void => void (isX ? c.get(s).op(Op.i32_wrap_i64) : c.i32(i.imm));
  const dst = (): void => void c.get(d).op(Op.i32_wrap_i64);
  const done = (): void => void c.op(Op.i64_extend_i32_u).set(d);
  switch (op) {
    case BPF_MOV:
      src();
      if (i.off === 8) c.op(Op.i32_extend8_s);
      else if (i.off === 16) c.op(Op.i32_extend16_s);
      done();
      return;
    case BPF_NEG:
      c.i32(0);
      dst();
      c.op(Op.i32_sub);
      done();
      return;
    case BPF_END:
      if (BPF_SRC(i.code) === BPF_TO_BE) bswap64(c, d, i.imm);
      else if (i.imm === 16) c.get(d).i64(0xffffn).op(Op.i64_and).set(d);
      else if (i.imm === 32) c.get(d).i64(0xffffffffn).op(Op.i64_and).set(d);
      return;
    case BPF_DIV:
    case BPF_MOD: {
      const signed = i.off === 1;
      const isDiv = op === BPF_DIV;
      const wop = isDiv ? (signed ? Op.i32_div_s : Op.i32_div_u) : signed ? Op.i32_rem_s : Op.i32_rem_u;
      if (!isX) {
        if (i.imm === 0) {
          if (isDiv) c.i32(0);
          else dst();
          done();
          return;
        }
        if (signed && i.imm === -1) {
          if (isDiv) {
            c.i32(0);
            dst();
            c.op(Op.i32_sub);
          } else c.i32(0);
          done();
          return;
        }
        dst();
        c.i32(i.imm).op(wop);
        done();
        return;
      }
      c.get(s).op(Op.i32_wrap_i64).set(ADDR);
      c.get(ADDR).op(Op.i32_eqz, Op.if, T.i32);
      if (isDiv) c.i32(0);
      else dst();
      c.op(Op.else);
      if (signed) {
        c.get(ADDR).i32(-1).op(Op.i32_eq, Op.if, T.i32);
        if (isDiv) {
          c.i32(0);
          dst();
          c.op(Op.i32_sub);
        } else c.i32(0);
        c.op(Op.else);
        dst();
        c.get(ADDR).op(wop, Op.end);
      } else {
        dst();
        c.get(ADDR).op(wop);
      }
      c.op(Op.end);
      done();
      return;
    }
  }
  dst();
  src();
  c.op(ALU32_OP[op]!);
  done();
}

/** dst = byte-swapped low `bits` of dst, zero-extended. */
function bswap64(c: Code, d: number, bits: number): void {
  if (bits === 16) {
    c.get(d).i64(8n).op(Op.i64_shr_u).i64(0xffn).op(Op.i64_and);
    c.get(d).i64(0xffn).op(Op.i64_and).i64(8n).op(Op.i64_shl).op(Op.i64_or).set(d);
    return;
  }
  const swap32 = (emitValue: () => void): void => {
    // (x rotl 8) & 0x00ff00ff | (x rotr 8) & 0xff00ff00, on i32
    emitValue();
    c.i32(8).op(Op.i32_rotl).i32(0x00ff00ff).op(Op.i32_and);
    emitValue();
    c.i32(8).op(Op.i32_rotr).i32(0xff00ff00 | 0).op(Op.i32_and).op(Op.i32_or);
  };
  if (bits === 32) {
    swap32(() => c.get(d).op(Op.i32_wrap_i64));
    c.op(Op.i64_extend_i32_u).set(d);
    return;
  }
  swap32(() => c.get(d).op(Op.i32_wrap_i64));
  c.op(Op.i64_extend_i32_u).i64(32n).op(Op.i64_shl);
  swap32(() => c.get(d).i64(32n).op(Op.i64_shr_u).op(Op.i32_wrap_i64));
  c.op(Op.i64_extend_i32_u).op(Op.i64_or).set(d);
}

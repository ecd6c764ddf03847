// Small instruction constructors for the VM tests (the ISA engineer's builder may replace them).
import * as O from '../../src/isa/opcodes.js';
import { insn, splitImm64, type Instruction } from '../../src/isa/instruction.js';

export const mov64i = (dst: number, imm: number): Instruction => insn(O.BPF_ALU64 | O.BPF_MOV | O.BPF_K, dst, 0, 0, imm);
export const mov64r = (dst: number, src: number, off = 0): Instruction => insn(O.BPF_ALU64 | O.BPF_MOV | O.BPF_X, dst, src, off, 0);
export const alu64i = (op: number, dst: number, imm: number, off = 0): Instruction => insn(O.BPF_ALU64 | op | O.BPF_K, dst, 0, off, imm);
export const alu64r = (op: number, dst: number, src: number, off = 0): Instruction => insn(O.BPF_ALU64 | op | O.BPF_X, dst, src, off, 0);
export const alu32i = (op: number, dst: number, imm: number, off = 0): Instruction => insn(O.BPF_ALU | op | O.BPF_K, dst, 0, off, imm);
export const alu32r = (op: number, dst: number, src: number, off = 0): Instruction => insn(O.BPF_ALU | op | O.BPF_X, dst, src, off, 0);
export const lddw = (dst: number, value: bigint, src = 0): Instruction[] => {
  const [lo, hi] = splitImm64(value);
  return [insn(O.BPF_LD | O.BPF_IMM | O.BPF_DW, dst, src, 0, lo), insn(0, 0, 0, 0, hi)];
};
export const ldmap = (dst: number, index: number): Instruction[] => [insn(O.BPF_LD | O.BPF_IMM | O.BPF_DW, dst, O.BPF_PSEUDO_MAP_IDX, 0, index), insn(0, 0, 0, 0, 0)];
export const exit = (): Instruction => insn(O.BPF_JMP | O.BPF_EXIT);
export const ja = (off: number): Instruction => insn(O.BPF_JMP | O.BPF_JA, 0, 0, off, 0);
export const gotol = (imm: number): Instruction => insn(O.BPF_JMP32 | O.BPF_JA, 0, 0, 0, imm);
export const jmpi = (op: number, dst: number, imm: number, off: number, cls = O.BPF_JMP): Instruction => insn(cls | op | O.BPF_K, dst, 0, off, imm);
export const jmpr = (op: number, dst: number, src: number, off: number, cls = O.BPF_JMP): Instruction => insn(cls | op | O.BPF_X, dst, src, off, 0);
export const ldx = (size: number, dst: number, src: number, off: number, mode = O.BPF_MEM): Instruction => insn(O.BPF_LDX | mode | size, dst, src, off, 0);
export const stx = (size: number, dst: number, src: number, off: number): Instruction => insn(O.BPF_STX | O.BPF_MEM | size, dst, src, off, 0);
export const st = (size: number, dst: number, off: number, imm: number): Instruction => insn(O.BPF_ST | O.BPF_MEM | size, dst, 0, off, imm);
export const atomic = (size: number, op: number, dst: number, src: number, off: number): Instruction => insn(O.BPF_STX | O.BPF_ATOMIC | size, dst, src, off, op);
export const call = (id: number): Instruction => insn(O.BPF_JMP | O.BPF_CALL, 0, 0, 0, id);
export const callLocal = (rel: number): Instruction => insn(O.BPF_JMP | O.BPF_CALL, 0, O.BPF_PSEUDO_CALL, 0, rel);
export const endian = (toBe: boolean, dst: number, bits: number): Instruction => insn(O.BPF_ALU | O.BPF_END | (toBe ? O.BPF_TO_BE : O.BPF_TO_LE), dst, 0, 0, bits);
export const bswap = (dst: number, bits: number): Instruction => insn(O.BPF_ALU64 | O.BPF_END, dst, 0, 0, bits);
export const ldabs = (size: number, imm: number): Instruction => insn(O.BPF_LD | O.BPF_ABS | size, 0, 0, 0, imm);
export const ldind = (size: number, src: number, imm: number): Instruction => insn(O.BPF_LD | O.BPF_IND | size, 0, src, 0, imm);

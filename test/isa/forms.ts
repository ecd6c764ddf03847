// Every instruction form of RFC 9669, with representative field values, for round-trip tests.
import type { AluOp, Form, JmpOp, Size } from '../../src/isa/form.js';

const ALU: AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];
const JMP: JmpOp[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];
const IMMS = [0, 1, -1, 5, 0x7fffffff, -0x80000000, 0x1234];
const OFFS = [0, 8, -8, 0x7fff, -0x8000];
const SIZES: Size[] = [1, 2, 4, 8];

export function allForms(): Form[] {
  const f: Form[] = [];
  for (const alu64 of [true, false]) {
    for (const op of ALU) {
      for (const imm of IMMS) f.push({ kind: 'alu', alu64, op, dst: 3, src: null, imm });
      f.push({ kind: 'alu', alu64, op, dst: 1, src: 2, imm: 0 }, { kind: 'alu', alu64, op, dst: 10, src: 0, imm: 0 });
    }
    f.push({ kind: 'neg', alu64, dst: 4 });
    for (const bits of [8, 16] as const) f.push({ kind: 'movsx', alu64, dst: 1, src: 9, bits });
  }
  f.push({ kind: 'movsx', alu64: true, dst: 0, src: 0, bits: 32 });
  for (const bits of [16, 32, 64] as const) {
    f.push({ kind: 'end', order: 'le', dst: 1, bits }, { kind: 'end', order: 'be', dst: 7, bits }, { kind: 'bswap', dst: 2, bits });
  }
  for (const size of SIZES) {
    for (const off of OFFS) {
      f.push({ kind: 'ldx', size, signed: false, dst: 0, src: 10, off });
      f.push({ kind: 'stx', size, dst: 10, src: 1, off });
      f.push({ kind: 'st', size, dst: 10, off, imm: -7 }, { kind: 'st', size, dst: 1, off, imm: 0x7fffffff });
      if (size !== 8) f.push({ kind: 'ldx', size, signed: true, dst: 5, src: 6, off });
    }
  }
  for (const size of [4, 8] as const) {
    for (const op of ['add', 'or', 'and', 'xor'] as const) {
      for (const fetch of [false, true]) f.push({ kind: 'atomic', size, op, fetch, dst: 1, src: 2, off: -16 });
    }
    f.push({ kind: 'atomic', size, op: 'xchg', fetch: true, dst: 3, src: 4, off: 8 });
    f.push({ kind: 'atomic', size, op: 'cmpxchg', fetch: true, dst: 3, src: 4, off: 0 });
  }
  for (const size of [1, 2, 4] as const) {
    for (const imm of [0, 14, -4, 0x7fffffff]) {
      f.push({ kind: 'ldabs', size, imm }, { kind: 'ldind', size, src: 3, imm });
    }
  }
  for (let pseudo = 0; pseudo <= 6; pseudo++) {
    for (const imm of [0n, 3n, 0xffffffffn, 0x100000000n, 0x0000000800000003n, 0x1122334455667788n, 0xffffffffffffffffn, 0x8000000000000000n]) {
      if ((pseudo === 1 || pseudo === 4 || pseudo === 5) && imm >> 32n !== 0n) continue; // 32-bit only
      f.push({ kind: 'lddw', dst: 1, pseudo, imm });
    }
  }
  for (const jmp32 of [false, true]) {
    for (const op of JMP) {
      for (const off of OFFS) f.push({ kind: 'jmp', jmp32, op, dst: 1, src: 2, imm: 0, off });
      for (const imm of IMMS) f.push({ kind: 'jmp', jmp32, op, dst: 9, src: null, imm, off: 3 });
    }
  }
  for (const off of OFFS) f.push({ kind: 'ja', off });
  for (const imm of [0, 1, -1, 0x10000, -0x10000, 0x7fffffff]) f.push({ kind: 'gotol', imm });
  for (const imm of [1, 6, 211, 999, -1, 0]) f.push({ kind: 'call', call: 'helper', imm });
  for (const imm of [5, -3, 0]) f.push({ kind: 'call', call: 'local', imm });
  for (const imm of [12345, 1]) f.push({ kind: 'call', call: 'kfunc', imm });
  f.push({ kind: 'exit' });
  // beyond RFC 9669
  for (const off of OFFS) f.push({ kind: 'may_goto', off });
  f.push({ kind: 'gotox', dst: 3 });
  for (const size of SIZES) {
    f.push({ kind: 'load_acquire', size, dst: 1, src: 2, off: -8 }, { kind: 'store_release', size, dst: 10, src: 4, off: 16 });
  }
  f.push({ kind: 'addr_space_cast', dst: 1, src: 2, dstAs: 1, srcAs: 0 }, { kind: 'addr_space_cast', dst: 1, src: 1, dstAs: 0, srcAs: 0xffff });
  f.push({ kind: 'percpu', dst: 0, src: 0 });
  return f;
}

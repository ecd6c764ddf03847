// The instruction forms of RFC 9669: one decoded, validated view of an instruction slot (or an lddw
// pair), shared by the disassembler (both syntaxes), the assembler (which builds forms and encodes
// them) and anyone who needs to know "what is this instruction". decodeForm() accepts only canonical
// encodings (reserved fields zero), so encodeForm(decodeForm(x)) reproduces x exactly. Registers are
// r0-r10, plus r11 (BPF_REG_AX), which the verifier's rewrites put in translated programs.
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_B, BPF_CALL, BPF_CLASS, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_H,
  BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_MODE, BPF_MOV,
  BPF_ADDR_PERCPU, BPF_ADDR_SPACE_CAST, BPF_JCOND, BPF_LOAD_ACQ, BPF_MAY_GOTO, BPF_STORE_REL,
  BPF_NEG, BPF_OP, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_REG_AX, BPF_SIZE, BPF_SRC, BPF_ST, BPF_STX, BPF_TO_BE, BPF_W, BPF_X,
} from './opcodes.js';
import { imm64, insn, LDDW, splitImm64, type Instruction } from './instruction.js';

/** ALU operations by their kernel names (BPF_ADD...); sdiv/smod are BPF_DIV/BPF_MOD with off = 1. */
export type AluOp = 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'or' | 'and' | 'lsh' | 'rsh' | 'mod' | 'smod' | 'xor' | 'mov' | 'arsh';
/** Conditional jump operations by their kernel names (BPF_JEQ...). */
export type JmpOp = 'jeq' | 'jgt' | 'jge' | 'jset' | 'jne' | 'jsgt' | 'jsge' | 'jlt' | 'jle' | 'jslt' | 'jsle';
export type AtomicOp = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg';
/** Access width in bytes. */
export type Size = 1 | 2 | 4 | 8;
export type CallKind = 'helper' | 'local' | 'kfunc';

export type Form =
  /** dst op= src (src === null: op= imm). alu64 false = 32-bit (BPF_ALU). */
  | { kind: 'alu'; alu64: boolean; op: AluOp; dst: number; src: number | null; imm: number }
  /** dst = (s8|s16|s32) src: BPF_MOV | BPF_X with off = 8, 16, 32 (32 only for ALU64). */
  | { kind: 'movsx'; alu64: boolean; dst: number; src: number; bits: 8 | 16 | 32 }
  | { kind: 'neg'; alu64: boolean; dst: number }
  /** BPF_ALU | BPF_END: convert to little or big endian. */
  | { kind: 'end'; order: 'le' | 'be'; dst: number; bits: 16 | 32 | 64 }
  /** BPF_ALU64 | BPF_END: unconditional byte swap. */
  | { kind: 'bswap'; dst: number; bits: 16 | 32 | 64 }
  /** dst = *(size *)(src + off); signed = BPF_MEMSX. */
  | { kind: 'ldx'; size: Size; signed: boolean; dst: number; src: number; off: number }
  | { kind: 'stx'; size: Size; dst: number; src: number; off: number }
  | { kind: 'st'; size: Size; dst: number; off: number; imm: number }
  /** BPF_STX | BPF_ATOMIC, size 4 or 8. xchg and cmpxchg always fetch. */
  | { kind: 'atomic'; size: 4 | 8; op: AtomicOp; fetch: boolean; dst: number; src: number; off: number }
  /** Legacy packet loads: r0 = *(size *)skb[imm] / skb[src + imm]. */
  | { kind: 'ldabs'; size: 1 | 2 | 4; imm: number }
  | { kind: 'ldind'; size: 1 | 2 | 4; src: number; imm: number }
  /** lddw: two slots; pseudo = src_reg (BPF_PSEUDO_MAP_FD...); imm = the unsigned 64-bit immediate. */
  | { kind: 'lddw'; dst: number; pseudo: number; imm: bigint }
  /** if dst op src|imm goto pc+off+1 */
  | { kind: 'jmp'; jmp32: boolean; op: JmpOp; dst: number; src: number | null; imm: number; off: number }
  /** goto: BPF_JMP | BPF_JA, 16-bit offset in off */
  | { kind: 'ja'; off: number }
  /** gotol: BPF_JMP32 | BPF_JA, 32-bit offset in imm */
  | { kind: 'gotol'; imm: number }
  /** helper id, pc-relative local call, or kfunc BTF id; all in imm */
  | { kind: 'call'; call: CallKind; imm: number }
  | { kind: 'exit' }
  // Beyond RFC 9669, as Linux 6.18 has them:
  /** may_goto: BPF_JMP | BPF_JCOND, src BPF_MAY_GOTO; jumps once the loop budget is spent */
  | { kind: 'may_goto'; off: number }
  /** gotox: BPF_JMP | BPF_JA | BPF_X, indirect jump through a jump table */
  | { kind: 'gotox'; dst: number }
  /** dst = load_acquire((size *)(src + off)): BPF_STX | BPF_ATOMIC, imm BPF_LOAD_ACQ */
  | { kind: 'load_acquire'; size: Size; dst: number; src: number; off: number }
  /** store_release((size *)(dst + off), src): BPF_STX | BPF_ATOMIC, imm BPF_STORE_REL */
  | { kind: 'store_release'; size: Size; dst: number; src: number; off: number }
  /** dst = addr_space_cast(src, dstAs, srcAs): BPF_ALU64 | BPF_MOV | BPF_X, off 1 (arena pointers) */
  | { kind: 'addr_space_cast'; dst: number; src: number; dstAs: number; srcAs: number }
  /** dst = &(void __percpu *)(src): MOV with off -1, only in the kernel's translated programs */
  | { kind: 'percpu'; dst: number; src: number }
  | { kind: 'invalid'; reason: string };

export const ALU_OPS: Readonly<Record<AluOp, number>> = {
  add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, sdiv: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, mod: 0x90, smod: 0x90,
  xor: 0xa0, mov: 0xb0, arsh: 0xc0,
};
export const JMP_OPS: Readonly<Record<JmpOp, number>> = {
  jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70, jlt: 0xa0, jle: 0xb0, jslt: 0xc0, jsle: 0xd0,
};
export const ATOMIC_OPS: Readonly<Record<AtomicOp, number>> = { add: 0x00, or: 0x40, and: 0x50, xor: 0xa0, xchg: 0xe0, cmpxchg: 0xf0 };
const SIZE_CODE: Readonly<Record<Size, number>> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };
const CALL_SRC: Readonly<Record<CallKind, number>> = { helper: 0, local: 1, kfunc: 2 };


const invert = <K extends string>(m: Readonly<Record<K, number>>): Map<number, K> =>
  new Map((Object.entries(m) as [K, number][]).map(([k, v]) => [v, k]));
const ALU_BY_CODE = invert(ALU_OPS); // div/mod map to the unsigned names (inserted later, so they win)
ALU_BY_CODE.set(0x30, 'div').set(0x90, 'mod');
const JMP_BY_CODE = invert(JMP_OPS);
const ATOMIC_BY_CODE = invert(ATOMIC_OPS);
/** Bytes by the size field's value >> 3: BPF_W, BPF_H, BPF_B, BPF_DW. */
const SIZE_BYTES: readonly Size[] = [4, 2, 1, 8];
const sizeOf = (code: number): Size => SIZE_BYTES[BPF_SIZE(code) >> 3]!;

/** Number of slots the instruction at `slot` occupies (2 for a complete lddw, else 1). */
export const slotCount = (insns: readonly Instruction[], slot: number): 1 | 2 =>
  insns[slot]?.code === LDDW && slot + 1 < insns.length ? 2 : 1;

const bad = (reason: string): Form => ({ kind: 'invalid', reason });

/** Decode the instruction at `slot` into its form; non-canonical or unknown encodings give kind 'invalid'. */
export function decodeForm(insns: readonly Instruction[], slot: number): Form {
  const i = insns[slot];
  if (!i) return bad(`no instruction at slot ${slot}`);
  const { code, dst, src, off, imm } = i;
  if (dst > BPF_REG_AX) return bad(`invalid dst register r${dst}`);
  if (src > BPF_REG_AX) return bad(`invalid src register r${src}`);
  const cls = BPF_CLASS(code);
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
      return decodeAlu(i, cls === BPF_ALU64);
    case BPF_JMP:
    case BPF_JMP32:
      return decodeJmp(i, cls === BPF_JMP32);
    case BPF_LDX: {
      const mode = BPF_MODE(code);
      if (imm !== 0) return bad('ldx: reserved imm must be 0');
      if (mode === BPF_MEM) return { kind: 'ldx', size: sizeOf(code), signed: false, dst, src, off };
      if (mode === BPF_MEMSX && BPF_SIZE(code) !== BPF_DW) return { kind: 'ldx', size: sizeOf(code), signed: true, dst, src, off };
      return bad(`ldx: unknown mode 0x${mode.toString(16)}`);
    }
    case BPF_ST:
      if (BPF_MODE(code) !== BPF_MEM) return bad(`st: unknown mode 0x${BPF_MODE(code).toString(16)}`);
      if (src !== 0) return bad('st: reserved src must be 0');
      return { kind: 'st', size: sizeOf(code), dst, off, imm };
    case BPF_STX: {
      const mode = BPF_MODE(code);
      if (mode === BPF_MEM) {
        if (imm !== 0) return bad('stx: reserved imm must be 0');
        return { kind: 'stx', size: sizeOf(code), dst, src, off };
      }
      if (mode !== BPF_ATOMIC) return bad(`stx: unknown mode 0x${mode.toString(16)}`);
      const size = sizeOf(code);
      if (imm === BPF_LOAD_ACQ) return { kind: 'load_acquire', size, dst, src, off };
      if (imm === BPF_STORE_REL) return { kind: 'store_release', size, dst, src, off };
      if (size !== 4 && size !== 8) return bad('atomic: only 32 and 64-bit atomics exist');
      const op = ATOMIC_BY_CODE.get(imm & ~BPF_FETCH);
      const fetch = (imm & BPF_FETCH) !== 0;
      if (op === undefined || (imm & ~0xf1) !== 0 || ((op === 'xchg' || op === 'cmpxchg') && !fetch)) {
        return bad(`atomic: unknown operation imm 0x${(imm >>> 0).toString(16)}`);
      }
      return { kind: 'atomic', size, op, fetch, dst, src, off };
    }
    default: {
      // BPF_LD
      const mode = BPF_MODE(code);
      if (code === LDDW) {
        const next = insns[slot + 1];
        if (!next) return bad('lddw: missing second slot');
        if (off !== 0) return bad('lddw: reserved off must be 0');
        if (src > 6) return bad(`lddw: unknown pseudo src ${src}`);
        if (next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) return bad('lddw: second slot must be zero but for imm');
        // map fd/idx loads have nothing in the high half (the kernel rejects it); a function's is the kernel's to fill
        if (next.imm !== 0 && (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_IDX || src === BPF_PSEUDO_FUNC)) {
          return bad('lddw: the second slot of a map fd, map index or function load must be 0');
        }
        return { kind: 'lddw', dst, pseudo: src, imm: imm64(insns, slot) };
      }
      if ((mode === BPF_ABS || mode === BPF_IND) && BPF_SIZE(code) !== BPF_DW) {
        if (dst !== 0 || off !== 0) return bad('ld abs/ind: reserved dst and off must be 0');
        const size = sizeOf(code) as 1 | 2 | 4;
        if (mode === BPF_ABS) return src === 0 ? { kind: 'ldabs', size, imm } : bad('ld abs: reserved src must be 0');
        return { kind: 'ldind', size, src, imm };
      }
      return bad(`ld: unknown opcode 0x${code.toString(16).padStart(2, '0')}`);
    }
  }
}

function decodeAlu(i: Instruction, alu64: boolean): Form {
  const { code, dst, src, off, imm } = i;
  const op = BPF_OP(code);
  const x = BPF_SRC(code) === BPF_X;
  if (op === BPF_END) {
    if (src !== 0 || off !== 0) return bad('end: reserved src and off must be 0');
    if (imm !== 16 && imm !== 32 && imm !== 64) return bad(`end: width ${imm} is not 16, 32 or 64`);
    if (!alu64) return { kind: 'end', order: x ? 'be' : 'le', dst, bits: imm };
    return x ? bad('bswap: BPF_ALU64 | BPF_END | BPF_TO_BE is reserved') : { kind: 'bswap', dst, bits: imm };
  }
  if (op === BPF_NEG) {
    if (x || src !== 0 || off !== 0 || imm !== 0) return bad('neg: reserved fields must be 0');
    return { kind: 'neg', alu64, dst };
  }
  const name = ALU_BY_CODE.get(op);
  if (name === undefined) return bad(`alu: unknown operation 0x${op.toString(16)}`);
  const cast = alu64 && op === BPF_MOV && x && off === BPF_ADDR_SPACE_CAST; // its imm holds the address spaces
  if (x ? imm !== 0 && !cast : src !== 0) return bad(`alu: reserved ${x ? 'imm' : 'src'} must be 0`);
  if (op === BPF_MOV && x && off !== 0) {
    if (off === 8 || off === 16 || (off === 32 && alu64)) return { kind: 'movsx', alu64, dst, src, bits: off };
    if (alu64 && off === BPF_ADDR_SPACE_CAST) return { kind: 'addr_space_cast', dst, src, dstAs: imm >>> 16, srcAs: imm & 0xffff };
    if (alu64 && off === BPF_ADDR_PERCPU && imm === 0) return { kind: 'percpu', dst, src };
    return bad(`movsx: invalid width ${off}`);
  }
  if (off !== 0) {
    if (off === 1 && name === 'div') return { kind: 'alu', alu64, op: 'sdiv', dst, src: x ? src : null, imm };
    if (off === 1 && name === 'mod') return { kind: 'alu', alu64, op: 'smod', dst, src: x ? src : null, imm };
    return bad(`alu: reserved off must be 0 (is ${off})`);
  }
  return { kind: 'alu', alu64, op: name, dst, src: x ? src : null, imm };
}

function decodeJmp(i: Instruction, jmp32: boolean): Form {
  const { code, dst, src, off, imm } = i;
  const op = BPF_OP(code);
  const x = BPF_SRC(code) === BPF_X;
  if (op === BPF_JA && x && !jmp32) {
    return src === 0 && off === 0 && imm === 0 ? { kind: 'gotox', dst } : bad('gotox: reserved fields must be 0');
  }
  if (op === BPF_JCOND && !jmp32 && !x) {
    return src === BPF_MAY_GOTO && dst === 0 && imm === 0 ? { kind: 'may_goto', off } : bad('jcond: only may_goto exists');
  }
  if (op === BPF_JA) {
    if (x || src !== 0 || dst !== 0) return bad('ja: reserved fields must be 0');
    if (jmp32) return off === 0 ? { kind: 'gotol', imm } : bad('gotol: reserved off must be 0');
    return imm === 0 ? { kind: 'ja', off } : bad('ja: reserved imm must be 0');
  }
  if (op === BPF_CALL) {
    if (jmp32 || x || dst !== 0 || off !== 0 || src > 2) return bad('call: reserved fields must be 0');
    return { kind: 'call', call: (['helper', 'local', 'kfunc'] as const)[src]!, imm };
  }
  if (op === BPF_EXIT) {
    if (jmp32 || x || dst !== 0 || src !== 0 || off !== 0 || imm !== 0) return bad('exit: reserved fields must be 0');
    return { kind: 'exit' };
  }
  const name = JMP_BY_CODE.get(op);
  if (name === undefined) return bad(`jmp: unknown operation 0x${op.toString(16)}`);
  if (x ? imm !== 0 : src !== 0) return bad(`jmp: reserved ${x ? 'imm' : 'src'} must be 0`);
  return { kind: 'jmp', jmp32, op: name, dst, src: x ? src : null, imm, off };
}

/**
 * How llvm-objdump and the kernel's disassemblers read an instruction: reserved fields ignored
 * (e.g. the verifier's zero-extension marker `w0 = w0` with imm 1 in translated programs), and a
 * translated local call read as bpftool does. For printing only: the form it returns encodes
 * canonically, i.e. without those fields.
 */
export function laxForm(insns: readonly Instruction[], slot: number): Form {
  const strict = decodeForm(insns, slot);
  const i = insns[slot];
  if (strict.kind !== 'invalid' || !i) return strict;
  const c = { ...i };
  const cls = BPF_CLASS(c.code);
  const op = BPF_OP(c.code);
  const x = BPF_SRC(c.code) === BPF_X;
  if (cls === BPF_ALU || cls === BPF_ALU64) {
    if (op === BPF_END || op === BPF_NEG) (c.src = 0), (c.off = 0);
    if (op === BPF_NEG) c.imm = 0;
    else if (op !== BPF_END) {
      if (x) c.imm = 0;
      else c.src = 0;
      const movOff = cls === BPF_ALU64 ? [8, 16, 32, BPF_ADDR_SPACE_CAST, BPF_ADDR_PERCPU] : [8, 16];
      const keepOff = ((op === 0x30 || op === 0x90) && c.off === 1) || (op === BPF_MOV && x && movOff.includes(c.off));
      if (!keepOff) c.off = 0;
      if (op === BPF_MOV && x && cls === BPF_ALU64 && c.off === BPF_ADDR_SPACE_CAST) c.imm = i.imm;
    }
  } else if (cls === BPF_JMP || cls === BPF_JMP32) {
    if (op === BPF_CALL) {
      // a JIT-ed program's translated local call: pc-relative offset in off, subprogram index in imm
      if (c.src === 1 && c.off !== 0) c.imm = c.off;
      (c.dst = 0), (c.off = 0);
    }
    else if (op === BPF_EXIT) (c.dst = 0), (c.src = 0), (c.off = 0), (c.imm = 0);
    else if (op === BPF_JA && x && cls === BPF_JMP) (c.src = 0), (c.off = 0), (c.imm = 0);
    else if (op === BPF_JCOND && cls === BPF_JMP) (c.dst = 0), (c.imm = 0);
    else if (op === BPF_JA) (c.dst = 0), (c.src = 0), cls === BPF_JMP ? (c.imm = 0) : (c.off = 0);
    else if (x) c.imm = 0;
    else c.src = 0;
  } else if (cls === BPF_LDX || (cls === BPF_STX && BPF_MODE(c.code) === BPF_MEM)) c.imm = 0;
  else if (cls === BPF_ST) c.src = 0;
  else if (cls === BPF_LD && (BPF_MODE(c.code) === BPF_ABS || BPF_MODE(c.code) === BPF_IND)) {
    (c.dst = 0), (c.off = 0);
    if (BPF_MODE(c.code) === BPF_ABS) c.src = 0;
  } else if (c.code === LDDW) {
    c.off = 0;
    const next = insns[slot + 1];
    const hiFree = c.src === BPF_PSEUDO_MAP_FD || c.src === BPF_PSEUDO_MAP_IDX || c.src === BPF_PSEUDO_FUNC;
    if (next) return decodeForm([c, { code: 0, dst: 0, src: 0, off: 0, imm: hiFree ? 0 : next.imm }], 0);
  }
  return decodeForm([c], 0);
}

export class FormError extends Error {}

const reg = (r: number, what: string): number => {
  if (!Number.isInteger(r) || r < 0 || r > BPF_REG_AX) throw new FormError(`${what}: register ${r} is not r0-r10 (or the kernel's r11)`);
  return r;
};
const s16 = (v: number, what: string): number => {
  if (!Number.isInteger(v) || v < -0x8000 || v > 0x7fff) throw new FormError(`${what}: offset ${v} does not fit in 16 signed bits`);
  return v;
};
/** Accepts signed or unsigned 32-bit values; stores them as the signed bit pattern. */
const s32 = (v: number, what: string): number => {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new FormError(`${what}: immediate ${v} does not fit in 32 bits`);
  return v | 0;
};

/** Encode a form into its slot(s). Throws FormError for an invalid form or out-of-range field. */
export function encodeForm(f: Form): Instruction[] {
  switch (f.kind) {
    case 'alu': {
      const cls = f.alu64 ? BPF_ALU64 : BPF_ALU;
      const off = f.op === 'sdiv' || f.op === 'smod' ? 1 : 0;
      const code = cls | ALU_OPS[f.op] | (f.src === null ? BPF_K : BPF_X);
      return f.src === null
        ? [insn(code, reg(f.dst, f.op), 0, off, s32(f.imm, f.op))]
        : [insn(code, reg(f.dst, f.op), reg(f.src, f.op), off, 0)];
    }
    case 'movsx':
      if (f.bits === 32 && !f.alu64) throw new FormError('movsx: 32-bit sign extension needs ALU64');
      return [insn((f.alu64 ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_X, reg(f.dst, 'movsx'), reg(f.src, 'movsx'), f.bits, 0)];
    case 'neg':
      return [insn((f.alu64 ? BPF_ALU64 : BPF_ALU) | BPF_NEG | BPF_K, reg(f.dst, 'neg'))];
    case 'end':
      return [insn(BPF_ALU | BPF_END | (f.order === 'be' ? BPF_TO_BE : BPF_K), reg(f.dst, 'end'), 0, 0, bitsOf(f.bits))];
    case 'bswap':
      return [insn(BPF_ALU64 | BPF_END, reg(f.dst, 'bswap'), 0, 0, bitsOf(f.bits))];
    case 'ldx':
      if (f.signed && f.size === 8) throw new FormError('ldx: there is no sign-extending 64-bit load');
      return [insn(BPF_LDX | (f.signed ? BPF_MEMSX : BPF_MEM) | sizeCode(f.size), reg(f.dst, 'ldx'), reg(f.src, 'ldx'), s16(f.off, 'ldx'))];
    case 'stx':
      return [insn(BPF_STX | BPF_MEM | sizeCode(f.size), reg(f.dst, 'stx'), reg(f.src, 'stx'), s16(f.off, 'stx'))];
    case 'st':
      return [insn(BPF_ST | BPF_MEM | sizeCode(f.size), reg(f.dst, 'st'), 0, s16(f.off, 'st'), s32(f.imm, 'st'))];
    case 'atomic': {
      if (f.size !== 4 && f.size !== 8) throw new FormError('atomic: only 32 and 64-bit atomics exist');
      const fetch = f.fetch || f.op === 'xchg' || f.op === 'cmpxchg';
      const imm = ATOMIC_OPS[f.op] | (fetch ? BPF_FETCH : 0);
      return [insn(BPF_STX | BPF_ATOMIC | sizeCode(f.size), reg(f.dst, 'atomic'), reg(f.src, 'atomic'), s16(f.off, 'atomic'), imm)];
    }
    case 'ldabs':
      if (f.size === (8 as number)) throw new FormError('ld abs: no 64-bit packet load');
      return [insn(BPF_LD | BPF_ABS | sizeCode(f.size), 0, 0, 0, s32(f.imm, 'ld abs'))];
    case 'ldind':
      if (f.size === (8 as number)) throw new FormError('ld ind: no 64-bit packet load');
      return [insn(BPF_LD | BPF_IND | sizeCode(f.size), 0, reg(f.src, 'ld ind'), 0, s32(f.imm, 'ld ind'))];
    case 'lddw': {
      if (!Number.isInteger(f.pseudo) || f.pseudo < 0 || f.pseudo > 6) throw new FormError(`lddw: unknown pseudo src ${f.pseudo}`);
      if (f.imm < -(1n << 63n) || f.imm >= 1n << 64n) throw new FormError(`lddw: immediate ${f.imm} does not fit in 64 bits`);
      if ((f.pseudo === BPF_PSEUDO_MAP_FD || f.pseudo === BPF_PSEUDO_MAP_IDX || f.pseudo === BPF_PSEUDO_FUNC) && BigInt.asUintN(64, f.imm) >> 32n !== 0n) {
        throw new FormError(`lddw: a map fd, map index or function load takes a 32-bit immediate, not 0x${f.imm.toString(16)}`);
      }
      const [lo, hi] = splitImm64(f.imm);
      return [insn(BPF_LD | BPF_IMM | BPF_DW, reg(f.dst, 'lddw'), f.pseudo, 0, lo), insn(0, 0, 0, 0, hi)];
    }
    case 'jmp': {
      const code = (f.jmp32 ? BPF_JMP32 : BPF_JMP) | JMP_OPS[f.op] | (f.src === null ? BPF_K : BPF_X);
      return f.src === null
        ? [insn(code, reg(f.dst, 'jmp'), 0, s16(f.off, 'jmp'), s32(f.imm, 'jmp'))]
        : [insn(code, reg(f.dst, 'jmp'), reg(f.src, 'jmp'), s16(f.off, 'jmp'), 0)];
    }
    case 'ja':
      return [insn(BPF_JMP | BPF_JA, 0, 0, s16(f.off, 'goto'), 0)];
    case 'gotol':
      return [insn(BPF_JMP32 | BPF_JA, 0, 0, 0, s32(f.imm, 'gotol'))];
    case 'call':
      return [insn(BPF_JMP | BPF_CALL, 0, CALL_SRC[f.call], 0, s32(f.imm, 'call'))];
    case 'exit':
      return [insn(BPF_JMP | BPF_EXIT)];
    case 'may_goto':
      return [insn(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, s16(f.off, 'may_goto'), 0)];
    case 'gotox':
      return [insn(BPF_JMP | BPF_JA | BPF_X, reg(f.dst, 'gotox'))];
    case 'load_acquire':
      return [insn(BPF_STX | BPF_ATOMIC | sizeCode(f.size), reg(f.dst, 'load_acquire'), reg(f.src, 'load_acquire'), s16(f.off, 'load_acquire'), BPF_LOAD_ACQ)];
    case 'store_release':
      return [insn(BPF_STX | BPF_ATOMIC | sizeCode(f.size), reg(f.dst, 'store_release'), reg(f.src, 'store_release'), s16(f.off, 'store_release'), BPF_STORE_REL)];
    case 'addr_space_cast':
      if (!(f.dstAs >= 0 && f.dstAs <= 0xffff && f.srcAs >= 0 && f.srcAs <= 0xffff)) throw new FormError('addr_space_cast: address spaces are 16-bit');
      return [insn(BPF_ALU64 | BPF_MOV | BPF_X, reg(f.dst, 'addr_space_cast'), reg(f.src, 'addr_space_cast'), BPF_ADDR_SPACE_CAST, ((f.dstAs << 16) | f.srcAs) | 0)];
    case 'percpu':
      return [insn(BPF_ALU64 | BPF_MOV | BPF_X, reg(f.dst, 'percpu'), reg(f.src, 'percpu'), BPF_ADDR_PERCPU, 0)];
    case 'invalid':
      throw new FormError(`cannot encode an invalid instruction: ${f.reason}`);
  }
}

function sizeCode(size: number): number {
  const c = SIZE_CODE[size as Size];
  if (c === undefined) throw new FormError(`access size ${size} is not 1, 2, 4 or 8 bytes`);
  return c;
}
function bitsOf(bits: number): number {
  if (bits !== 16 && bits !== 32 && bits !== 64) throw new FormError(`byte swap width ${bits} is not 16, 32 or 64`);
  return bits;
}

/** Jump/call target slot of a jump-like form at `slot`, or undefined. */
export function branchTarget(f: Form, slot: number): number | undefined {
  if (f.kind === 'jmp' || f.kind === 'ja' || f.kind === 'may_goto') return slot + 1 + f.off;
  if (f.kind === 'gotol') return slot + 1 + f.imm;
  if (f.kind === 'call' && f.call === 'local') return slot + 1 + f.imm;
  return undefined;
}

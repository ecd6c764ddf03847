// Structural checks every engine needs before running a program (the first pass of the kernel's
// verifier, without any data-flow): legal opcodes and registers, jumps that land on instructions inside
// their own subprogram, complete lddw pairs, no falling off the end. Also finds the subprograms.
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_B, BPF_CALL, BPF_CMPXCHG, BPF_DIV, BPF_DW,
  BPF_END, BPF_EXIT, BPF_FETCH, BPF_H, BPF_HELPER_CALL, BPF_IMM, BPF_IND, BPF_ABS, BPF_JA, BPF_JMP, BPF_JMP32,
  BPF_LD, BPF_LDX, BPF_LSH, BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE,
  BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_W, BPF_X, BPF_XCHG, BPF_XOR, BPF_K, BPF_OP, BPF_MODE, BPF_SIZE,
  BPF_SRC, BPF_CLASS, BPF_JCOND, BPF_TO_BE,
} from '../isa/opcodes.js';
import { LDDW, type Instruction } from '../isa/instruction.js';

export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;
export const ATOMIC_OPS = [BPF_ADD, BPF_OR, BPF_AND, BPF_XOR];

export class ProgramStructureError extends Error {
  constructor(readonly pc: number, reason: string) {
    super(`pc ${pc}: ${reason}`);
  }
}

export interface Structure {
  /** First slot of each subprogram, ascending; [0] is the entry. */
  subprogs: number[];
  /** Index into subprogs for each slot. */
  subprogOf: Int32Array;
}

const ALU_OPS = new Set([BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH, BPF_END]);
const COND_OPS = new Set([0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]);

/** Jump target of a branch at pc, or undefined if the instruction does not jump. */
export function jumpTarget(insns: readonly Instruction[], pc: number): number | undefined {
  const i = insns[pc]!;
  const cls = BPF_CLASS(i.code);
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return undefined;
  const op = BPF_OP(i.code);
  if (op === BPF_CALL || op === BPF_EXIT) return undefined;
  if (op === BPF_JA) return pc + 1 + (cls === BPF_JMP32 ? i.imm : i.off);
  return pc + 1 + i.off;
}

export const isLocalCall = (i: Instruction): boolean => i.code === (BPF_JMP | BPF_CALL) && i.src === BPF_PSEUDO_CALL;

/**
 * Fields an instruction must leave zero (the kernel rejects "uses reserved fields"). The kernel checks
 * them only on instructions its exploration reaches, so the verifier asks per visited instruction;
 * checkStructure asks for every instruction unless told not to.
 */
export function reservedFieldError(i: Instruction): string | undefined {
  const cls = BPF_CLASS(i.code);
  const op = BPF_OP(i.code);
  const k = BPF_SRC(i.code) === BPF_K;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
      // As the kernel's check_alu_op, message by message.
      if (op === BPF_NEG) return i.src || i.imm || i.off || !k ? 'BPF_NEG uses reserved fields (source register, offset and immediate must be 0)' : undefined;
      if (op === BPF_END) {
        const bad = i.src || i.off || (i.imm !== 16 && i.imm !== 32 && i.imm !== 64) || (cls === BPF_ALU64 && !k);
        return bad ? 'BPF_END uses reserved fields (source register and offset must be 0, the width 16, 32 or 64)' : undefined;
      }
      if (op === BPF_MOV) {
        const sext = cls === BPF_ALU64 ? [0, 8, 16, 32] : [0, 8, 16];
        const bad = k ? i.src || i.off : i.imm || !sext.includes(i.off);
        return bad ? 'BPF_MOV uses reserved fields' : undefined;
      }
      if (k ? i.src : i.imm) return `BPF_ALU uses reserved fields (${k ? 'source register' : 'immediate'} must be 0)`;
      // Only div and mod have a signed form (offset 1).
      if (i.off !== 0 && !(i.off === 1 && (op === BPF_DIV || op === BPF_MOD))) return 'BPF_ALU uses reserved fields (offset must be 0)';
      return undefined;
    case BPF_JMP:
    case BPF_JMP32:
      if (op === BPF_CALL) return i.dst || i.off ? 'call uses reserved fields (dst and offset must be 0)' : undefined;
      // The kernel ignores exit's offset.
      if (op === BPF_EXIT) return i.dst || i.src || i.imm || !k ? 'BPF_EXIT uses reserved fields (registers and immediate must be 0)' : undefined;
      if (op === BPF_JA) return i.dst || i.src || (cls === BPF_JMP ? i.imm : i.off) ? 'ja uses reserved fields' : undefined;
      return (k ? i.src : i.imm) ? 'conditional jump uses reserved fields' : undefined;
    case BPF_LD:
      if (i.code === LDDW) return i.off ? 'lddw uses reserved fields (offset must be 0)' : undefined;
      return i.dst || i.off || (BPF_MODE(i.code) === BPF_ABS && i.src) ? 'legacy packet load uses reserved fields' : undefined;
    case BPF_LDX:
      return i.imm ? 'load uses reserved fields (immediate must be 0)' : undefined;
    case BPF_ST:
      return i.src ? 'store of an immediate uses reserved fields (source register must be 0)' : undefined;
    case BPF_STX:
      return BPF_MODE(i.code) === BPF_MEM && i.imm ? 'store uses reserved fields (immediate must be 0)' : undefined;
  }
  return undefined;
}

/**
 * The opcodes the kernel knows (bpf_opcode_in_insntable, kernel/bpf/core.c): it refuses any other
 * before verifying, wherever it is in the program ("unknown opcode").
 */
const KERNEL_OPCODES: ReadonlySet<number> = (() => {
  const s = new Set<number>();
  const aluOps = [BPF_ADD, BPF_SUB, BPF_AND, BPF_OR, BPF_LSH, BPF_RSH, BPF_XOR, BPF_MUL, BPF_MOV, BPF_ARSH, BPF_DIV, BPF_MOD];
  for (const cls of [BPF_ALU, BPF_ALU64]) {
    for (const op of aluOps) for (const src of [BPF_K, BPF_X]) s.add(cls | op | src);
    s.add(cls | BPF_NEG);
    s.add(cls | BPF_END); // to-LE, and bswap in ALU64
  }
  s.add(BPF_ALU | BPF_END | BPF_TO_BE);
  for (const cls of [BPF_JMP, BPF_JMP32]) {
    for (const op of COND_OPS) for (const src of [BPF_K, BPF_X]) s.add(cls | op | src);
    s.add(cls | BPF_JA);
  }
  s.add(BPF_JMP | BPF_CALL).add(BPF_JMP | BPF_EXIT).add(BPF_JMP | BPF_JA | BPF_X).add(BPF_JMP | BPF_JCOND);
  for (const size of [BPF_B, BPF_H, BPF_W, BPF_DW]) {
    s.add(BPF_STX | BPF_MEM | size).add(BPF_ST | BPF_MEM | size).add(BPF_LDX | BPF_MEM | size).add(BPF_STX | BPF_ATOMIC | size);
    if (size !== BPF_DW) s.add(BPF_LDX | BPF_MEMSX | size).add(BPF_LD | BPF_ABS | size).add(BPF_LD | BPF_IND | size);
  }
  s.add(LDDW);
  return s;
})();

/** "unknown opcode" as the kernel says it, for an instruction slot it would refuse before verifying. */
export const unknownOpcode = (i: Instruction): string | undefined => (KERNEL_OPCODES.has(i.code) ? undefined : `unknown opcode ${i.code.toString(16).padStart(2, '0')}`);

export function checkStructure(insns: readonly Instruction[], opts: { reserved?: boolean } = {}): Structure {
  const n = insns.length;
  if (n === 0) throw new ProgramStructureError(0, 'empty program');
  const fail = (pc: number, why: string): never => {
    throw new ProgramStructureError(pc, why);
  };
  const second = new Uint8Array(n);
  const starts = new Set<number>([0]);
  for (let pc = 0; pc < n; pc++) {
    if (second[pc]) continue;
    const i = insns[pc]!;
    if (i.dst > 10 || (i.src > 10 && i.code !== LDDW && i.code !== (BPF_JMP | BPF_CALL))) fail(pc, `invalid register r${Math.max(i.dst, i.src)}`);
    const cls = BPF_CLASS(i.code);
    const writesDst = (): void => {
      if (i.dst === 10) fail(pc, 'r10 (the frame pointer) is read-only');
    };
    switch (cls) {
      case BPF_ALU:
      case BPF_ALU64: {
        const op = BPF_OP(i.code);
        if (!ALU_OPS.has(op)) fail(pc, `unknown ALU operation 0x${i.code.toString(16)}`);
        writesDst();
        if (op === BPF_END) {
          if (cls === BPF_ALU64 && BPF_SRC(i.code) !== 0) fail(pc, 'bswap must use source 0');
          if (![16, 32, 64].includes(i.imm)) fail(pc, `byte swap width must be 16, 32 or 64, not ${i.imm}`);
        } else if (op === BPF_DIV || op === BPF_MOD) {
          if (i.off !== 0 && i.off !== 1) fail(pc, `div/mod offset must be 0 or 1 (signed), not ${i.off}`);
        } else if (op === BPF_MOV) {
          const ok = i.off === 0 || (BPF_SRC(i.code) === BPF_X && (i.off === 8 || i.off === 16 || (i.off === 32 && cls === BPF_ALU64)));
          if (!ok) fail(pc, `mov offset ${i.off} is not a valid sign extension`);
        }
        // Any other operation's offset is a reserved field: rejected where the verifier reaches it
        // (reservedFieldError), as the kernel does; the engines ignore it.
        break;
      }
      case BPF_JMP:
      case BPF_JMP32: {
        const op = BPF_OP(i.code);
        if (op === BPF_CALL) {
          if (cls !== BPF_JMP || BPF_SRC(i.code) !== BPF_K) fail(pc, 'invalid call encoding');
          if (i.src === BPF_PSEUDO_CALL) {
            const t = pc + 1 + i.imm;
            if (t < 0 || t >= n || second[t]) fail(pc, `call target ${t} is outside the program`);
            starts.add(t);
          } else if (i.src !== BPF_HELPER_CALL) fail(pc, i.src === 2 ? 'kfunc calls are not supported by the VM' : `unknown call kind ${i.src}`);
        } else if (op === BPF_EXIT) {
          if (cls !== BPF_JMP) fail(pc, 'exit must be in the JMP class');
        } else if (op === BPF_JA) {
          if (BPF_SRC(i.code) !== BPF_K) fail(pc, 'ja takes no source register');
        } else if (!COND_OPS.has(op)) fail(pc, `unknown jump 0x${i.code.toString(16)}`);
        const t = jumpTarget(insns, pc);
        if (t !== undefined && (t < 0 || t >= n)) fail(pc, `jump target ${t} is outside the program`);
        break;
      }
      case BPF_LD: {
        const mode = BPF_MODE(i.code);
        if (i.code === LDDW) {
          if (pc + 1 >= n) fail(pc, 'lddw is missing its second slot');
          const hi = insns[pc + 1]!;
          if (hi.code !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0) fail(pc + 1, 'invalid second slot of lddw');
          writesDst();
          const pseudo = [0, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE];
          if (!pseudo.includes(i.src)) fail(pc, `lddw with unsupported source ${i.src}`);
          if (i.src === BPF_PSEUDO_FUNC) {
            const t = pc + 1 + i.imm;
            if (t < 0 || t >= n) fail(pc, `function address ${t} is outside the program`);
            starts.add(t);
          }
          second[pc + 1] = 1;
        } else if (mode === BPF_ABS || mode === BPF_IND) {
          if (BPF_SIZE(i.code) === BPF_DW) fail(pc, 'legacy packet loads have no 8-byte form');
        } else fail(pc, `unknown load 0x${i.code.toString(16)}`);
        break;
      }
      case BPF_LDX: {
        const mode = BPF_MODE(i.code);
        if (mode !== BPF_MEM && !(mode === BPF_MEMSX && BPF_SIZE(i.code) !== BPF_DW)) fail(pc, `unknown load 0x${i.code.toString(16)}`);
        writesDst();
        break;
      }
      case BPF_ST:
        if (BPF_MODE(i.code) !== BPF_MEM) fail(pc, `unknown store 0x${i.code.toString(16)}`);
        break;
      case BPF_STX: {
        const mode = BPF_MODE(i.code);
        if (mode === BPF_ATOMIC) {
          const size = BPF_SIZE(i.code);
          const op = i.imm;
          if (op === BPF_LOAD_ACQ) {
            if (i.dst === 10) fail(pc, 'r10 (the frame pointer) is read-only');
          } else if (op === BPF_STORE_REL) {
            /* any size */
          } else {
            if (size !== BPF_W && size !== BPF_DW) fail(pc, 'atomic operations need size W or DW');
            const ok = ATOMIC_OPS.some((a) => op === a || op === (a | BPF_FETCH)) || op === BPF_XCHG || op === BPF_CMPXCHG;
            if (!ok) fail(pc, `unknown atomic operation 0x${op.toString(16)}`);
            if ((op & BPF_FETCH) && i.src === 10 && op !== BPF_CMPXCHG) fail(pc, 'atomic fetch would write r10');
          }
        } else if (mode !== BPF_MEM) fail(pc, `unknown store 0x${i.code.toString(16)}`);
        break;
      }
    }
    if (opts.reserved ?? true) {
      const r = reservedFieldError(i);
      if (r) fail(pc, r);
    }
    void BPF_B; void BPF_H; void BPF_IMM;
  }
  const last = insns[n - 1]!;
  const lastOp = BPF_OP(last.code);
  const lastCls = BPF_CLASS(last.code);
  if (second[n - 1] || !((lastCls === BPF_JMP || lastCls === BPF_JMP32) && (lastOp === BPF_EXIT || lastOp === BPF_JA))) {
    fail(n - 1, 'the last instruction must be exit or an unconditional jump');
  }
  const subprogs = [...starts].sort((a, b) => a - b);
  const subprogOf = new Int32Array(n);
  for (let s = 0, pc = 0; pc < n; pc++) {
    if (s + 1 < subprogs.length && pc === subprogs[s + 1]) s++;
    subprogOf[pc] = s;
  }
  for (let pc = 0; pc < n; pc++) {
    if (second[pc]) continue;
    const t = jumpTarget(insns, pc);
    if (t === undefined) continue;
    if (second[t]) fail(pc, `jump into the middle of lddw at ${t - 1}`);
    if (subprogOf[t] !== subprogOf[pc]) fail(pc, `jump to ${t} leaves the subprogram`);
  }
  for (let s = 0; s < subprogs.length; s++) {
    const end = (subprogs[s + 1] ?? n) - 1;
    const li = insns[end]!;
    const op = BPF_OP(li.code);
    const c = BPF_CLASS(li.code);
    if (second[end] || !((c === BPF_JMP || c === BPF_JMP32) && (op === BPF_EXIT || op === BPF_JA))) fail(end, 'subprogram does not end with exit or jump');
  }
  return { subprogs, subprogOf };
}

// A small instruction emitter for the script code generator: registers, forward labels, map
// references left for the loader to fill with fds, and the source span of every slot (so a verifier
// rejection points back at the script).
import { insn, splitImm64, type Instruction } from '../isa/instruction.js';
import { ALU_OPS, JMP_OPS } from '../isa/form.js';
import {
  BPF_ALU, BPF_ALU64, BPF_B, BPF_CALL, BPF_DW, BPF_EXIT, BPF_H, BPF_IMM, BPF_JA, BPF_JMP, BPF_K, BPF_LD, BPF_LDX,
  BPF_MEM, BPF_MOV, BPF_NEG, BPF_PSEUDO_MAP_FD, BPF_ST, BPF_STX, BPF_W, BPF_X,
} from '../isa/opcodes.js';
import type { Pos } from './ast.js';

export type Size = 1 | 2 | 4 | 8;
const SIZE: Record<Size, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

// the ISA's operation codes by kernel name (sdiv/smod, which also need off = 1, are not emitted here)
const ALU = new Map(Object.entries(ALU_OPS).filter(([k]) => k !== 'sdiv' && k !== 'smod')).set('neg', BPF_NEG);
const JMP = new Map(Object.entries(JMP_OPS));

function opcode(table: Map<string, number>, op: string): number {
  const c = table.get(op);
  if (c === undefined) throw new Error(`script codegen: no operation ${op}`);
  return c;
}

export interface Label {
  at: number;
}

/** A 64-bit load of a map's fd, to be filled in once the map exists. */
export interface MapRef {
  slot: number;
  map: string;
}

export class Emitter {
  readonly insns: Instruction[] = [];
  readonly mapRefs: MapRef[] = [];
  /** source span of each slot */
  readonly spans: (Pos | undefined)[] = [];
  private readonly fixups: { slot: number; label: Label }[] = [];
  /** the span the next instructions are attributed to */
  pos: Pos | undefined;

  private push(i: Instruction): void {
    this.insns.push(i);
    this.spans.push(this.pos);
  }

  get slot(): number {
    return this.insns.length;
  }

  label(): Label {
    return { at: -1 };
  }
  bind(l: Label): void {
    l.at = this.insns.length;
  }

  /** dst op= imm (64-bit) */
  aluImm(op: string, dst: number, imm: number): void {
    this.push(insn(BPF_ALU64 | opcode(ALU, op) | BPF_K, dst, 0, 0, imm | 0));
  }
  /** dst op= src (64-bit) */
  aluReg(op: string, dst: number, src: number): void {
    this.push(insn(BPF_ALU64 | opcode(ALU, op) | BPF_X, dst, src, 0, 0));
  }
  mov(dst: number, src: number): void {
    this.aluReg('mov', dst, src);
  }
  /** 32-bit move: zero-extends into the 64-bit register */
  mov32(dst: number, src: number): void {
    this.push(insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0));
  }
  /** byte swap of the low `bits` of dst (BPF_END to big endian, on a little-endian machine) */
  bswap(dst: number, bits: 16 | 32 | 64): void {
    this.push(insn(BPF_ALU | 0xd0 | 0x08, dst, 0, 0, bits));
  }
  neg(dst: number): void {
    this.push(insn(BPF_ALU64 | opcode(ALU, 'neg'), dst, 0, 0, 0));
  }
  /** dst = a 64-bit constant (one slot if it fits a signed 32-bit immediate) */
  movImm(dst: number, value: bigint | number): void {
    const v = BigInt.asIntN(64, BigInt(value));
    if (v >= -0x80000000n && v <= 0x7fffffffn) {
      this.aluImm('mov', dst, Number(v));
      return;
    }
    const [lo, hi] = splitImm64(v);
    this.push(insn(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, lo));
    this.push(insn(0, 0, 0, 0, hi));
  }
  /** dst = fd of map `name` (filled in at load) */
  ldMap(dst: number, map: string): void {
    this.mapRefs.push({ slot: this.slot, map });
    this.push(insn(BPF_LD | BPF_IMM | BPF_DW, dst, BPF_PSEUDO_MAP_FD, 0, 0));
    this.push(insn(0, 0, 0, 0, 0));
  }
  ldx(size: Size, dst: number, src: number, off: number): void {
    this.push(insn(BPF_LDX | BPF_MEM | SIZE[size], dst, src, off, 0));
  }
  stx(size: Size, dst: number, off: number, src: number): void {
    this.push(insn(BPF_STX | BPF_MEM | SIZE[size], dst, src, off, 0));
  }
  st(size: Size, dst: number, off: number, imm: number): void {
    this.push(insn(BPF_ST | BPF_MEM | SIZE[size], dst, 0, off, imm | 0));
  }
  call(helper: number): void {
    this.push(insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper));
  }
  exit(): void {
    this.push(insn(BPF_JMP | BPF_EXIT));
  }
  ja(l: Label): void {
    this.fixups.push({ slot: this.slot, label: l });
    this.push(insn(BPF_JMP | BPF_JA));
  }
  jmpImm(op: string, dst: number, imm: number, l: Label): void {
    this.fixups.push({ slot: this.slot, label: l });
    this.push(insn(BPF_JMP | opcode(JMP, op) | BPF_K, dst, 0, 0, imm | 0));
  }
  jmpReg(op: string, dst: number, src: number, l: Label): void {
    this.fixups.push({ slot: this.slot, label: l });
    this.push(insn(BPF_JMP | opcode(JMP, op) | BPF_X, dst, src, 0, 0));
  }
  /** Resolve jumps; returns the finished instructions. */
  finish(): Instruction[] {
    for (const f of this.fixups) {
      if (f.label.at < 0) throw new Error('codegen: unbound label');
      const off = f.label.at - f.slot - 1;
      if (off < -32768 || off > 32767) throw new Error('codegen: jump too far');
      this.insns[f.slot]!.off = off;
    }
    this.fixups.length = 0;
    return this.insns;
  }
}

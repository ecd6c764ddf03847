// Apply a resolved CO-RE relocation to the instruction it belongs to, with libbpf's rules
// (bpf_core_patch_insn): ALU/ALU64 with an immediate get a new imm; LDX/ST/STX get a new off (and a
// new access width when the field's size changed); lddw gets a new 64-bit immediate. An instruction
// that cannot be relocated is "poisoned": turned into a call to helper 0xbad2310, which the verifier
// rejects with "invalid func unknown#195896080" only if the instruction is reachable.
import { BtfError } from './error.js';
import type { CoreResult } from './core.js';
import type { Instruction } from '../isa/instruction.js';
import { BPF_ALU, BPF_ALU64, BPF_B, BPF_CALL, BPF_DW, BPF_H, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_W } from '../isa/opcodes.js';
import { LDDW } from '../isa/instruction.js';

/** imm of a poisoned instruction: "bad relo" */
export const CORE_POISON_IMM = 0xbad2310;

export interface CorePatch {
  /** 'patched' or 'poisoned' */
  action: 'patched' | 'poisoned';
  /** what changed, for logs: "imm 16 -> 1264", "off 8 -> 1264, size 4 -> 8" */
  detail: string;
}

const sizeToBytes = (code: number): number => ({ [BPF_W]: 4, [BPF_H]: 2, [BPF_B]: 1, [BPF_DW]: 8 })[code & 0x18]!;
const bytesToSize = (n: number): number | undefined => ({ 8: BPF_DW, 4: BPF_W, 2: BPF_H, 1: BPF_B } as Record<number, number>)[n];

function poison(insns: Instruction[], slot: number): void {
  const p = (i: Instruction) => {
    i.code = BPF_JMP | BPF_CALL;
    i.dst = 0;
    i.src = 0;
    i.off = 0;
    i.imm = CORE_POISON_IMM;
  };
  // poison both halves of an lddw, so the verifier doesn't report an "unknown opcode 00" instead
  if (insns[slot]!.code === LDDW && insns[slot + 1]) p(insns[slot + 1]!);
  p(insns[slot]!);
}

/**
 * Patch `insns[slot]` (in place) with a CO-RE result. Throws BtfError where libbpf refuses the
 * object: the instruction does not hold the value the compiler should have put there, or has a
 * form CO-RE cannot relocate.
 */
export function applyCoreRelo(insns: Instruction[], slot: number, res: CoreResult): CorePatch {
  const insn = insns[slot];
  if (!insn) throw new BtfError(`CO-RE relocation at instruction ${slot}: beyond the program (${insns.length} slots)`);
  if (!res.ok) {
    poison(insns, slot);
    return { action: 'poisoned', detail: res.reason };
  }
  const cls = insn.code & 0x07;
  const orig = BigInt(res.origValue);
  const val = BigInt(res.value);
  const where = `CO-RE relocation ${res.local} at instruction ${slot}`;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      if ((insn.code & 0x08) !== BPF_K) throw new BtfError(`${where}: ALU instruction does not take an immediate`);
      if (res.validate && BigInt(insn.imm) !== BigInt.asIntN(32, orig) && BigInt(insn.imm >>> 0) !== orig) {
        throw new BtfError(`${where}: instruction holds ${insn.imm}, expected ${orig}`);
      }
      const before = insn.imm >>> 0;
      insn.imm = Number(BigInt.asIntN(32, val));
      return { action: 'patched', detail: `imm ${before} -> ${val}` };
    }
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
      if (res.validate && BigInt(insn.off) !== orig) throw new BtfError(`${where}: instruction offset is ${insn.off}, expected ${orig}`);
      if (val > 0x7fffn) throw new BtfError(`${where}: offset ${val} does not fit a 16-bit instruction offset`);
      if (res.failMemszAdjust) {
        poison(insns, slot);
        return {
          action: 'poisoned',
          detail: `${res.local}: the field's size changed (${res.origSize} -> ${res.newSize} bytes) and it is not a pointer or unsigned integer`,
        };
      }
      const before = insn.off;
      insn.off = Number(val);
      let detail = `off ${before} -> ${val}`;
      if (res.newSize !== res.origSize) {
        const cur = sizeToBytes(insn.code);
        if (cur !== res.origSize) throw new BtfError(`${where}: access is ${cur} bytes, expected ${res.origSize}`);
        const sz = bytesToSize(res.newSize);
        if (sz === undefined) throw new BtfError(`${where}: cannot access ${res.newSize} bytes in one instruction`);
        insn.code = (insn.code & 0xe0) | sz | cls;
        detail += `, size ${res.origSize} -> ${res.newSize}`;
      }
      return { action: 'patched', detail };
    }
    case BPF_LD: {
      const hi = insns[slot + 1];
      if (insn.code !== LDDW || insn.src !== 0 || insn.off !== 0 || !hi || hi.code !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0) {
        throw new BtfError(`${where}: lddw has an unexpected form`);
      }
      const imm = (BigInt(hi.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
      if (res.validate && imm !== BigInt.asUintN(64, orig)) throw new BtfError(`${where}: lddw holds ${imm}, expected ${orig}`);
      const u = BigInt.asUintN(64, val);
      insn.imm = Number(BigInt.asIntN(32, u & 0xffffffffn));
      hi.imm = Number(BigInt.asIntN(32, u >> 32n));
      return { action: 'patched', detail: `imm64 ${imm} -> ${u}` };
    }
    default:
      throw new BtfError(`${where}: cannot relocate opcode 0x${insn.code.toString(16)}`);
  }
}

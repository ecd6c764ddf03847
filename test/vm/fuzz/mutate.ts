// Mutations that push generated programs over the edges the verifiers decide: fields changed one at
// a time (registers, offsets, immediates, sizes, operations, jump distances, reserved fields), an
// instruction replaced, a bound loosened. Programs keep their length, so most jumps stay valid.
import * as O from '../../../src/isa/opcodes.js';
import { LDDW, type Instruction } from '../../../src/isa/instruction.js';
import type { Rng } from '../random-program.js';

const CLASS_SIZES = [O.BPF_B, O.BPF_H, O.BPF_W, O.BPF_DW];

function mutateOne(i: Instruction, g: Rng): Instruction {
  const cls = O.BPF_CLASS(i.code);
  const memory = cls === O.BPF_LDX || cls === O.BPF_ST || cls === O.BPF_STX;
  const alu = cls === O.BPF_ALU || cls === O.BPF_ALU64;
  switch (g.int(12)) {
    case 0: return { ...i, dst: g.int(11) };
    case 1: return { ...i, src: g.int(11) };
    case 2: return { ...i, off: i.off + g.pick([-8, -4, -1, 1, 4, 8, 64, -512, 4096]) };
    case 3: return { ...i, imm: g.pick([0, 1, -1, 31, 32, 33, 36, 63, 64, 0xff, 0x7fffffff, -0x80000000, i.imm + 1, i.imm - 1, i.imm * 2]) };
    case 4:
      // Another access size, or the sign-extending load.
      if (memory) return { ...i, code: (i.code & ~0x18) | g.pick(CLASS_SIZES) };
      if (alu) return { ...i, code: i.code ^ O.BPF_X }; // immediate <-> register
      return { ...i, code: i.code ^ O.BPF_X };
    case 5:
      // Another operation of the same class.
      if (alu || cls === O.BPF_JMP || cls === O.BPF_JMP32) return { ...i, code: (i.code & 0x0f) | (g.int(16) << 4) };
      if (cls === O.BPF_LDX) return { ...i, code: (i.code & ~0xe0) | O.BPF_MEMSX };
      return { ...i, off: -i.off };
    case 6: return { ...i, code: i.code ^ 0x03 }; // ALU <-> ALU64, JMP <-> JMP32, LDX <-> STX
    case 7: return { ...i, off: g.pick([1, -1, 8, 16, 32]) }; // reserved-field and sign-extension offsets
    case 8: return { ...i, imm: i.imm ^ (1 << g.int(32)) };
    case 9: return { ...i, off: i.off ^ (1 << g.int(16)) };
    case 10: return { code: O.BPF_ALU64 | O.BPF_MOV | O.BPF_K, dst: g.int(10), src: 0, off: 0, imm: g.pick([0, 1, -1, 4096, 0x7fffffff]) };
    default: return { code: O.BPF_ALU64 | O.BPF_MOV | O.BPF_X, dst: g.int(10), src: g.int(11), off: 0, imm: 0 };
  }
}

/** 1-3 random mutations; lddw's second slot is left alone (it is no instruction of its own). */
export function mutate(insns: readonly Instruction[], g: Rng): Instruction[] {
  const out = insns.map((i) => ({ ...i }));
  const hi = new Uint8Array(out.length);
  for (let pc = 0; pc < out.length; pc++) if (out[pc]!.code === LDDW) hi[++pc] = 1;
  for (let k = 1 + g.int(3); k > 0; k--) {
    const pc = g.int(out.length);
    if (hi[pc] || out[pc]!.code === LDDW) continue;
    out[pc] = mutateOne(out[pc]!, g);
  }
  return out;
}

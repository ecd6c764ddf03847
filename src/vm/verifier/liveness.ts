// Register liveness (backward dataflow, per function): which registers some path from a slot reads
// before writing. State pruning ignores the others — like the kernel's liveness marks, a dead
// register cannot change what happens next, so states that differ only there are equivalent.
import {
  BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CLASS, BPF_CMPXCHG, BPF_END, BPF_EXIT, BPF_FETCH, BPF_IND, BPF_JA, BPF_JMP,
  BPF_JMP32, BPF_LD, BPF_LDX, BPF_MODE, BPF_MOV, BPF_NEG, BPF_OP, BPF_SRC, BPF_ST, BPF_STX, BPF_X,
} from '../../isa/opcodes.js';
import { LDDW, type Instruction } from '../../isa/instruction.js';
import { BPF_LOAD_ACQ, BPF_STORE_REL, isLocalCall, jumpTarget } from '../check.js';
import { HELPER_PROTOS } from '../helpers.js';

const bit = (r: number): number => 1 << r;
const ARGS = 0b111110; // r1-r5
const CALL_DEFS = 0b111111; // r0 set, r1-r5 clobbered
const FP = bit(10); // always live

/** Registers read and written by one instruction. */
function useDef(i: Instruction): [use: number, def: number] {
  const cls = BPF_CLASS(i.code);
  const d = bit(i.dst);
  const s = bit(i.src);
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      const op = BPF_OP(i.code);
      if (op === BPF_MOV) return [BPF_SRC(i.code) === BPF_X ? s : 0, d];
      if (op === BPF_NEG || op === BPF_END) return [d, d];
      return [d | (BPF_SRC(i.code) === BPF_X ? s : 0), d];
    }
    case BPF_LDX:
      return [s, d];
    case BPF_ST:
      return [d, 0];
    case BPF_STX: {
      if (BPF_MODE(i.code) !== BPF_ATOMIC || i.imm === BPF_STORE_REL) return [d | s, 0];
      if (i.imm === BPF_LOAD_ACQ) return [s, d];
      if (i.imm === BPF_CMPXCHG) return [d | s | bit(0), bit(0)];
      return [d | s, i.imm & BPF_FETCH ? s : 0];
    }
    case BPF_LD:
      if (i.code === LDDW) return [0, d];
      // Legacy packet loads read the skb through r6 (and an index register), set r0, clobber r1-r5.
      return [bit(6) | (BPF_MODE(i.code) === BPF_IND ? s : 0), CALL_DEFS];
    case BPF_JMP:
    case BPF_JMP32: {
      const op = BPF_OP(i.code);
      if (op === BPF_JA) return [0, 0];
      if (op === BPF_EXIT) return [bit(0), 0];
      if (op === BPF_CALL) {
        // A helper reads the arguments of its prototype (all the verifier checks); a local call
        // reads what its callee's entry reads of r1-r5 (filled in by the fixpoint below).
        if (isLocalCall(i)) return [0, CALL_DEFS];
        const proto = HELPER_PROTOS.get(i.imm);
        return [proto ? ARGS & ((1 << (proto.args.length + 1)) - 1) : ARGS, CALL_DEFS];
      }
      return [d | (BPF_SRC(i.code) === BPF_X ? s : 0), 0];
    }
  }
  return [0, 0];
}

/** Live-in register masks per slot (bit r set: register r may be read before it is written). */
export function liveRegisters(insns: readonly Instruction[]): Uint16Array {
  const n = insns.length;
  const use = new Uint16Array(n);
  const def = new Uint16Array(n);
  const succ: number[][] = new Array(n);
  const callees: [pc: number, target: number][] = [];
  for (let pc = 0; pc < n; pc++) {
    const i = insns[pc]!;
    [use[pc], def[pc]] = useDef(i);
    if (isLocalCall(i)) callees.push([pc, pc + 1 + i.imm]);
    if (i.code === LDDW) {
      succ[pc] = [pc + 2];
      succ[++pc] = [];
      continue;
    }
    const cls = BPF_CLASS(i.code);
    const op = BPF_OP(i.code);
    if ((cls === BPF_JMP || cls === BPF_JMP32) && op === BPF_EXIT) succ[pc] = [];
    else if ((cls === BPF_JMP || cls === BPF_JMP32) && op !== BPF_CALL) {
      const t = jumpTarget(insns, pc)!;
      succ[pc] = op === BPF_JA ? [t] : [t, pc + 1];
    } else succ[pc] = [pc + 1]; // calls return to the next slot; a callee has its own analysis
  }
  const live = new Uint16Array(n);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [pc, t] of callees) use[pc] = (live[t] ?? ARGS) & ARGS;
    for (let pc = n - 1; pc >= 0; pc--) {
      let out = 0;
      for (const t of succ[pc]!) if (t < n) out |= live[t]!;
      const inn = use[pc]! | (out & ~def[pc]!) | FP;
      if (inn !== live[pc]) {
        live[pc] = inn;
        changed = true;
      }
    }
  }
  return live;
}

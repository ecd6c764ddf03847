// A generator of random eBPF programs that are valid by construction: every register is initialised,
// memory accesses stay on the stack, the 64-byte context or a map value behind a null check, jumps only
// skip forward over whole items, loops are counted, and there is one callee subprogram.
import * as O from '../../src/isa/opcodes.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { alu32i, alu32r, alu64i, alu64r, atomic, bswap, call, callLocal, endian, exit, jmpi, jmpr, lddw, ldmap, ldx, mov64i, mov64r, st, stx } from './asm.js';

export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  imm(): number {
    const r = this.int(8);
    if (r === 0) return 0;
    if (r === 1) return -1;
    if (r === 2) return this.pick([1, 2, 31, 32, 63, 64, 0x7fffffff, -0x80000000]);
    return this.next() | 0;
  }
  u64(): bigint {
    const r = this.int(6);
    if (r === 0) return 0x8000000000000000n;
    if (r === 1) return 0xffffffffffffffffn;
    return (BigInt(this.next()) << 32n) | BigInt(this.next());
  }
}

const ALU_OPS = [O.BPF_ADD, O.BPF_SUB, O.BPF_MUL, O.BPF_DIV, O.BPF_OR, O.BPF_AND, O.BPF_LSH, O.BPF_RSH, O.BPF_MOD, O.BPF_XOR, O.BPF_MOV, O.BPF_ARSH, O.BPF_NEG];
const JMP_OPS = [O.BPF_JEQ, O.BPF_JGT, O.BPF_JGE, O.BPF_JSET, O.BPF_JNE, O.BPF_JSGT, O.BPF_JSGE, O.BPF_JLT, O.BPF_JLE, O.BPF_JSLT, O.BPF_JSLE];
const SIZES = [O.BPF_B, O.BPF_H, O.BPF_W, O.BPF_DW];
const BYTES: Record<number, number> = { [O.BPF_B]: 1, [O.BPF_H]: 2, [O.BPF_W]: 4, [O.BPF_DW]: 8 };

/** Registers random code may write (r8: loop counter, r9: context pointer are reserved). */
const W = [0, 1, 2, 3, 4, 5, 6, 7];

type Item = Instruction[];
/** Stack bytes each frame uses (the kernel caps the sum over a call chain at 512). */
let stackLimit = 512;

function aluItem(g: Rng, regs: number[], ctxSize: number): Item {
  const op = g.pick(ALU_OPS);
  const is64 = g.int(2) === 0;
  const d = g.pick(regs);
  const useX = g.int(2) === 0;
  const src = g.pick([...regs, 9].filter((r) => r !== 9 || (op === O.BPF_MOV && ctxSize > 0))); // r9 only copied
  let off = 0;
  if (op === O.BPF_DIV || op === O.BPF_MOD) off = g.int(2);
  if (op === O.BPF_MOV && useX && g.int(3) === 0) off = g.pick(is64 ? [8, 16, 32] : [8, 16]);
  if (op === O.BPF_NEG) return [is64 ? alu64i(op, d, 0) : alu32i(op, d, 0)];
  if (useX) return [is64 ? alu64r(op, d, src, off) : alu32r(op, d, src, off)];
  // Constant shifts must be in range (the kernel rejects others).
  const shift = op === O.BPF_LSH || op === O.BPF_RSH || op === O.BPF_ARSH;
  let imm = shift ? g.imm() & (is64 ? 63 : 31) : g.imm();
  if ((op === O.BPF_DIV || op === O.BPF_MOD) && imm === 0) imm = 3; // so is a constant division by zero
  return [is64 ? alu64i(op, d, imm, off) : alu32i(op, d, imm, off)];
}

function memItem(g: Rng, regs: number[], ctxSize: number): Item {
  const size = g.pick(SIZES);
  const n = BYTES[size]!;
  const onStack = ctxSize === 0 || g.int(2) === 0;
  const base = onStack ? 10 : 9;
  const off = onStack ? -n * (1 + g.int(stackLimit / n)) : n * g.int(ctxSize / n);
  const d = g.pick(regs);
  switch (g.int(5)) {
    case 0: return [ldx(size, d, base, off)];
    case 1: return size === O.BPF_DW ? [ldx(size, d, base, off)] : [ldx(size, d, base, off, O.BPF_MEMSX)];
    case 2: return [stx(size, base, d, off)];
    case 3: return [st(size, base, off, g.imm())];
    default: {
      if (n < 4) return [stx(size, base, d, off)];
      const op = g.pick([O.BPF_ADD, O.BPF_OR, O.BPF_AND, O.BPF_XOR, O.BPF_ADD | O.BPF_FETCH, O.BPF_OR | O.BPF_FETCH, O.BPF_AND | O.BPF_FETCH, O.BPF_XOR | O.BPF_FETCH, O.BPF_XCHG, O.BPF_CMPXCHG]);
      return [atomic(size, op, base, d, off)];
    }
  }
}

function straight(g: Rng, regs: number[], ctxSize: number): Item {
  const r = g.int(10);
  if (r < 5) return aluItem(g, regs, ctxSize);
  if (r < 8) return memItem(g, regs, ctxSize);
  if (r === 8) return lddw(g.pick(regs), g.u64());
  return g.int(2) ? [endian(g.int(2) === 0, g.pick(regs), g.pick([16, 32, 64]))] : [bswap(g.pick(regs), g.pick([16, 32, 64]))];
}

function condJump(g: Rng, regs: number[], skip: number): Instruction {
  const op = g.pick(JMP_OPS);
  const cls = g.int(2) ? O.BPF_JMP : O.BPF_JMP32;
  return g.int(2) ? jmpr(op, g.pick(regs), g.pick(regs), skip, cls) : jmpi(op, g.pick(regs), g.imm(), skip, cls);
}

/** A sequence of items with forward jumps over whole items. */
function body(g: Rng, regs: number[], count: number, ctxSize: number, allowLoop: boolean, extra: () => Item | undefined): Instruction[] {
  const items: Item[] = [];
  for (let k = 0; k < count; k++) {
    const x = g.int(12);
    if (x === 0 && allowLoop) {
      const inner = body(g, regs, 1 + g.int(6), ctxSize, false, () => undefined);
      items.push([mov64i(8, 1 + g.int(5)), ...inner, alu64i(O.BPF_SUB, 8, 1), jmpi(O.BPF_JNE, 8, 0, -(inner.length + 2))]);
    } else if (x === 1) {
      const e = extra();
      items.push(e ?? straight(g, regs, ctxSize));
    } else items.push(straight(g, regs, ctxSize));
  }
  // Insert forward jumps over 1..3 following items (each item then carries its own jump).
  const jumps = items.map((_, k) => (g.int(4) === 0 && k + 1 < items.length ? 1 + g.int(Math.min(3, items.length - k - 1)) : 0));
  const len = items.map((it, k) => it.length + (jumps[k] ? 1 : 0));
  const out: Instruction[] = [];
  for (let k = 0; k < items.length; k++) {
    if (jumps[k]) {
      // Skip this item and the next m-1 whole items (with their own jumps).
      const skip = items[k]!.length + len.slice(k + 1, k + jumps[k]!).reduce((a, b) => a + b, 0);
      out.push(condJump(g, regs, skip));
    }
    out.push(...items[k]!);
  }
  return out;
}

export interface RandomProgram {
  insns: Instruction[];
  ctxSize: number;
  /** Uses map 0 (an array of u64) when true. */
  usesMap: boolean;
}

export interface RandomOptions {
  /** Programs the kernel verifier accepts as any program type: no context or map access, r1-r5
   *  re-initialised after calls, r0's high half folded into the low half (test runs return 32 bits). */
  kernel?: boolean;
}

export function randomProgram(seed: number, length = 40, o: RandomOptions = {}): RandomProgram {
  const g = new Rng(seed);
  const ctxSize = o.kernel ? 0 : 64;
  stackLimit = 256;
  // The kernel does not zero the stack (the VM does): zero what the program may read.
  const zeroStack = (): Instruction[] => (o.kernel ? Array.from({ length: 256 / 8 }, (_, k) => st(O.BPF_DW, 10, -8 * (k + 1), 0)) : []);
  const init: Instruction[] = [mov64r(9, 1), ...zeroStack()];
  for (const r of W) init.push(...(g.int(3) === 0 ? lddw(r, g.u64()) : [mov64i(r, g.imm())]));
  init.push(mov64i(8, 0));
  let usesMap = false;
  const mapItem = (): Item => {
    usesMap = true;
    const v = g.pick([6, 7]);
    // Calls clobber r1-r5 and leave a pointer in r0: give them scalar values again afterwards.
    const reinit = [0, 1, 2, 3, 4, 5].map((r) => mov64i(r, g.imm()));
    return [st(O.BPF_W, 10, -4, g.int(4)), ...ldmap(1, 0), mov64r(2, 10), alu64i(O.BPF_ADD, 2, -4), call(1), jmpi(O.BPF_JEQ, 0, 0, 3), ldx(O.BPF_DW, 1, 0, 0), alu64r(O.BPF_ADD, 1, v), stx(O.BPF_DW, 0, 1, 0), ...reinit];
  };
  let callSite = false;
  const main = body(g, W, length, ctxSize, true, () => {
    if (g.int(2) && !o.kernel) return mapItem();
    callSite = true;
    const reinit = [1, 2, 3, 4, 5].map((r) => mov64i(r, g.imm()));
    return [mov64r(1, g.pick(W)), mov64r(2, g.pick(W)), callLocal(0) /* patched */, ...reinit];
  });
  // Fold every register into r0 so the result reflects the whole state.
  const fold: Instruction[] = [];
  for (const r of [1, 2, 3, 4, 5, 6, 7]) fold.push(alu64i(O.BPF_MUL, 0, 31), alu64r(O.BPF_ADD, 0, r));
  if (o.kernel) fold.push(mov64r(1, 0), alu64i(O.BPF_RSH, 1, 32), alu64r(O.BPF_XOR, 0, 1));
  const prog = [...init, ...main, ...fold, exit()];
  // The callee: works on r1, r2 and its own frame, returns in r0.
  const sub = [...zeroStack(), mov64i(0, g.imm()), mov64i(3, g.imm()), mov64i(4, 0), mov64i(5, 0), ...body(g, [0, 1, 2, 3, 4, 5], 8, 0, false, () => undefined), alu64r(O.BPF_ADD, 0, 1), exit()];
  if (callSite) {
    const subStart = prog.length;
    prog.forEach((ins, pc) => {
      if (ins.code === (O.BPF_JMP | O.BPF_CALL) && ins.src === O.BPF_PSEUDO_CALL) ins.imm = subStart - (pc + 1);
    });
    prog.push(...sub);
  }
  return { insns: prog, ctxSize, usesMap };
}


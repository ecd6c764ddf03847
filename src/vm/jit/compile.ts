// eBPF → WebAssembly: one module per program, one wasm function per subprogram (bpf-to-bpf calls are
// wasm calls), registers as i64 locals, all memory in the VM's imported linear memory, helpers as
// imported functions. The code does not trust the verifier: every load and store is checked against
// the region its pointer came from (provenance.ts; inline for the stack, the context, the packet and
// array maps, through the host otherwise), every backward jump burns fuel, and a call that would pass
// the frame limit faults. Arbitrary jumps become structured control flow: every jump target starts a
// segment closed by its own block, so a forward jump is a `br` to the end of the target's block; a
// backward jump stores the target in `pc` and restarts a loop whose br_table enters that segment.
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_CALL, BPF_CLASS, BPF_CMPXCHG, BPF_DIV,
  BPF_END, BPF_EXIT, BPF_FETCH, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE,
  BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LD, BPF_LDX, BPF_LSH, BPF_MEMSX, BPF_MOD, BPF_MODE, BPF_MOV,
  BPF_MUL, BPF_NEG, BPF_OP, BPF_OR, BPF_PSEUDO_CALL, BPF_RSH, BPF_SIZE, BPF_SRC, BPF_ST, BPF_STX, BPF_SUB, BPF_TO_BE,
  BPF_X, BPF_XCHG, BPF_XOR,
} from '../../isa/opcodes.js';
import { LDDW, type Instruction } from '../../isa/instruction.js';
import { BPF_LOAD_ACQ, BPF_STORE_REL, jumpTarget } from '../check.js';
import { CONTROL, type Region } from '../memory.js';
import { origins, type Origin } from '../provenance.js';
import { STACK_SIZE, type VmProgram } from '../runtime.js';
import { accessSize } from '../semantics.js';
import { Code, encodeModule, Op, T, type ModuleSpec } from './wasm.js';

/** Local index of each BPF register: params r1-r5 and r10, then r0 and r6-r9. */
const R = [6, 0, 1, 2, 3, 4, 7, 8, 9, 10, 5];
const PC = 11;
const TA = 12; // i64 temporaries
const TB = 13;
const ADDR = 14; // i32 temporary
const MA = 15; // i64 temporary: the address of a memory access being checked
const FUEL = 16; // i32: the run's fuel while this function runs (global 0 across calls)
const CACHE = 17; // first i64 local caching a control-block word (context and packet bounds)

export const TAIL_CALL = 12;

/** Fault kinds passed to the `fault` import, or left in the control block by a trap (memory faults
 *  leave the access's `how` there instead: size | 0x10 for a write). */
export const FAULT = { callDepth: 0x41, fuel: 0x42, ldAbsInSubprog: 0x43 } as const;

/**
 * Stop the program: record why at CONTROL.fault (the word `(pc + 1) << 8 | code`, then for memory
 * faults the address) and trap. The engine turns the trap into the error. A trap, not a call to the
 * host: a call inside a check's cold branch made the hot path of every check measurably slower.
 */
function trap(c: Code, pc: number, code: number, address?: () => void): void {
  c.i32(0).i32(((pc + 1) << 8) | code).mem(Op.i32_store, CONTROL.fault);
  if (address) {
    c.i32(0);
    address();
    c.mem(Op.i64_store, CONTROL.fault + 8);
  }
  c.op(Op.unreachable);
}

export interface CompiledModule {
  bytes: Uint8Array;
  /** Helper ids in import order (after the fixed imports). */
  helperIds: number[];
  /** Tail calls count per run, so repeated runs of such programs loop in JS (resetting the count). */
  usesTailCall: boolean;
}

const fixedImports = ['tail_call', 'tail_r0', 'ld_packet', 'fault', 'probe_load', 'check'] as const;

/** The `how` operand of the `check` import: the access size, and 0x10 for a write. */
export const accessHow = (size: number, write: boolean): number => size | (write ? 0x10 : 0);

export function compile(prog: VmProgram, stack: Region): CompiledModule {
  const { insns, structure } = prog;
  const helperIds = [...new Set(insns.filter((i, pc) => i.code === (BPF_JMP | BPF_CALL) && i.src === 0 && i.imm !== TAIL_CALL && !isLddwHi(insns, pc)).map((i) => i.imm))];
  const types = [
    { params: [T.i64, T.i64, T.i64, T.i64, T.i64, T.i64], results: [T.i64] }, // 0: bpf function
    { params: [T.i64, T.i64, T.i64, T.i64, T.i64, T.i32], results: [T.i64] }, // 1: helper
    { params: [T.i64, T.i64, T.i64, T.i64, T.i32], results: [T.i32] }, // 2: tail_call(ctx, map, idx, fp, pc)
    { params: [], results: [T.i64] }, // 3: tail_r0
    { params: [T.i64, T.i32, T.i32], results: [T.i64] }, // 4: ld_packet(off, size, pc)
    { params: [T.i32, T.i32], results: [] }, // 5: fault(pc, kind)
    { params: [T.i32], results: [] }, // 6: set_fuel
    { params: [T.i64, T.i64, T.i64, T.i32], results: [T.i64] }, // 7: run_n(ctx, r2, fp, n)
    { params: [T.i64, T.i32], results: [T.i64] }, // 8: probe_load(addr, size | 0x100 if sign-extending)
    { params: [T.i64, T.i32, T.i32], results: [T.i32] }, // 9: check(addr, how, pc) -> address, or throws
  ];
  const imports = [
    { module: 'vm', name: 'tail_call', type: 2 },
    { module: 'vm', name: 'tail_r0', type: 3 },
    { module: 'vm', name: 'ld_packet', type: 4 },
    { module: 'vm', name: 'fault', type: 5 },
    { module: 'vm', name: 'probe_load', type: 8 },
    { module: 'vm', name: 'check', type: 9 },
    ...helperIds.map((id) => ({ module: 'helper', name: String(id), type: 1 })),
  ];
  const F = { tail_call: 0, tail_r0: 1, ld_packet: 2, fault: 3, probe_load: 4, check: 5 };
  void fixedImports;
  const helperFunc = new Map(helperIds.map((id, k) => [id, 6 + k]));
  const plan = origins(prog);
  const nImports = imports.length;
  const subOf = structure.subprogOf;
  const funcOfStart = new Map(structure.subprogs.map((s, k) => [s, nImports + k]));
  const funcs: ModuleSpec['funcs'] = structure.subprogs.map((start, k) => {
    const end = structure.subprogs[k + 1] ?? insns.length;
    const cx: Ctx = { helperFunc, funcOfStart, F, stack, plan, cache: controlWords(insns, plan, start, end) };
    return {
      type: 0,
      locals: [[5, T.i64], [1, T.i32], [2, T.i64], [1, T.i32], [1, T.i64], [1, T.i32], [cx.cache.size, T.i64]],
      code: compileFunction(insns, prog, start, end, k, cx),
    };
  });
  void subOf;
  // Global 0 is the fuel left in this run, global 1 what each run starts with.
  const setFuel = new Code().get(0).op(Op.global_set, 0).get(0).op(Op.global_set, 1);
  funcs.push({ type: 6, locals: [], code: setFuel });
  // run_n: the program n times on the same context, like BPF_PROG_TEST_RUN's `repeat`, without
  // crossing back to JS (and converting BigInts) between runs; returns the last r0.
  const runN = new Code().block(Op.loop);
  runN.op(Op.global_get, 1, Op.global_set, 0);
  runN.get(0).get(1).i64(0n).i64(0n).i64(0n).get(2).call(nImports).set(4);
  runN.get(3).i32(1).op(Op.i32_sub).tee(3).br(Op.br_if, 0).op(Op.end).get(4);
  funcs.push({ type: 7, locals: [[1, T.i64]], code: runN });
  const bytes = encodeModule({
    types,
    imports,
    memory: { module: 'vm', name: 'mem' },
    globals: [{ type: T.i32, mutable: true, init: 0n }, { type: T.i32, mutable: true, init: 0n }],
    funcs,
    exports: [
      { name: 'main', func: nImports },
      { name: 'set_fuel', func: nImports + structure.subprogs.length },
      { name: 'run_n', func: nImports + structure.subprogs.length + 1 },
    ],
  });
  const usesTailCall = insns.some((i, pc) => i.code === (BPF_JMP | BPF_CALL) && i.src === 0 && i.imm === TAIL_CALL && !isLddwHi(insns, pc));
  return { bytes, helperIds, usesTailCall };
}

function isLddwHi(insns: readonly Instruction[], pc: number): boolean {
  // The second slot of lddw has opcode 0, which is never a call; kept for clarity.
  return pc > 0 && insns[pc - 1]!.code === LDDW && insns[pc]!.code === 0;
}

interface Ctx {
  helperFunc: Map<number, number>;
  funcOfStart: Map<number, number>;
  F: { tail_call: number; tail_r0: number; ld_packet: number; fault: number; probe_load: number; check: number };
  /** The VM's stack area (all frames). */
  stack: Region;
  plan: Origin[];
  /** Control-block addresses this function reads, each cached in a local (CACHE + index). */
  cache: Map<number, number>;
}

/**
 * The control-block words (context and packet start and limits) a function's accesses need: loaded
 * into locals on entry, and the packet's again after every call (a helper may move the packet), so a
 * checked access in a loop compares registers, not memory.
 */
function controlWords(insns: readonly Instruction[], plan: Origin[], start: number, end: number): Map<number, number> {
  const words = new Map<number, number>();
  const add = (a: number): void => void (words.has(a) || words.set(a, words.size));
  for (let pc = start; pc < end; pc++) {
    const o = plan[pc];
    if (o?.kind !== 'ctx' && o?.kind !== 'packet') continue;
    const i = insns[pc]!;
    const cls = BPF_CLASS(i.code);
    const write = cls === BPF_ST || (cls === BPF_STX && i.imm !== BPF_LOAD_ACQ);
    const cb = CONTROL[o.kind];
    add(cb);
    add(limitWord(cb, accessSize(i.code), write));
  }
  return words;
}

const LOG2: Record<number, number> = { 1: 0, 2: 1, 4: 2, 8: 3 };
const limitWord = (cb: number, size: number, write: boolean): number => cb + (write ? 40 : 8) + 8 * LOG2[size]!;

/** Load the cached control-block words (all, or only the packet's). */
function loadControl(c: Code, cx: Ctx, packetOnly: boolean): void {
  for (const [a, k] of cx.cache) {
    if (packetOnly && (a < CONTROL.packet || a >= CONTROL.packet + 72)) continue;
    c.i32(0).mem(Op.i64_load, a).set(CACHE + k);
  }
}

const CMP64: Record<number, number> = {
  [BPF_JEQ]: Op.i64_eq, [BPF_JNE]: Op.i64_ne, [BPF_JGT]: Op.i64_gt_u, [BPF_JGE]: Op.i64_ge_u, [BPF_JLT]: Op.i64_lt_u,
  [BPF_JLE]: Op.i64_le_u, [BPF_JSGT]: Op.i64_gt_s, [BPF_JSGE]: Op.i64_ge_s, [BPF_JSLT]: Op.i64_lt_s, [BPF_JSLE]: Op.i64_le_s,
};
const CMP32: Record<number, number> = {
  [BPF_JEQ]: Op.i32_eq, [BPF_JNE]: Op.i32_ne, [BPF_JGT]: Op.i32_gt_u, [BPF_JGE]: Op.i32_ge_u, [BPF_JLT]: Op.i32_lt_u,
  [BPF_JLE]: Op.i32_le_u, [BPF_JSGT]: Op.i32_gt_s, [BPF_JSGE]: Op.i32_ge_s, [BPF_JSLT]: Op.i32_lt_s, [BPF_JSLE]: Op.i32_le_s,
};
const ALU64_OP: Record<number, number> = {
  [BPF_ADD]: Op.i64_add, [BPF_SUB]: Op.i64_sub, [BPF_MUL]: Op.i64_mul, [BPF_OR]: Op.i64_or, [BPF_AND]: Op.i64_and,
  [BPF_XOR]: Op.i64_xor, [BPF_LSH]: Op.i64_shl, [BPF_RSH]: Op.i64_shr_u, [BPF_ARSH]: Op.i64_shr_s,
};
const ALU32_OP: Record<number, number> = {
  [BPF_ADD]: Op.i32_add, [BPF_SUB]: Op.i32_sub, [BPF_MUL]: Op.i32_mul, [BPF_OR]: Op.i32_or, [BPF_AND]: Op.i32_and,
  [BPF_XOR]: Op.i32_xor, [BPF_LSH]: Op.i32_shl, [BPF_RSH]: Op.i32_shr_u, [BPF_ARSH]: Op.i32_shr_s,
};
const LOAD: Record<number, number> = { 1: Op.i64_load8_u, 2: Op.i64_load16_u, 4: Op.i64_load32_u, 8: Op.i64_load };
const LOADSX: Record<number, number> = { 1: Op.i64_load8_s, 2: Op.i64_load16_s, 4: Op.i64_load32_s };
const STORE: Record<number, number> = { 1: Op.i64_store8, 2: Op.i64_store16, 4: Op.i64_store32, 8: Op.i64_store };

/** How jumps become wasm control flow inside one function. */
interface Flow {
  prologue(): void;
  before(pc: number): void;
  after(pc: number): void;
  /** Unconditional jump. */
  jump(t: number, pc: number): void;
  /** Conditional jump; the i32 condition is on the wasm stack. */
  condJump(t: number, pc: number): void;
  epilogue(): void;
}

class Unstructured extends Error {}

function branchTargets(insns: readonly Instruction[], start: number, end: number, skip?: (from: number, to: number) => boolean): [from: number, to: number][] {
  const out: [number, number][] = [];
  for (let pc = start; pc < end; pc++) {
    if (insns[pc]!.code === LDDW) {
      pc++;
      continue;
    }
    const t = jumpTarget(insns, pc);
    if (t !== undefined && !skip?.(pc, t)) out.push([pc, t]);
  }
  return out;
}

/**
 * Structured flow for reducible code laid out as clang does: every backward-jump target heads a
 * wasm `loop` spanning up to its last back edge; every forward target closes a `block` opened at the
 * start of the innermost loop (or function) containing it. Loops that overlap, or jumps into the
 * middle of a loop, throw Unstructured and the caller falls back to the dispatch flow.
 */
function structuredFlow(c: Code, insns: readonly Instruction[], start: number, end: number, fuel: (pc: number) => void, skip: (from: number, to: number) => boolean): Flow {
  const edges = branchTargets(insns, start, end, skip);
  const loopEnd = new Map<number, number>(); // header -> last back edge
  for (const [s, t] of edges) if (t <= s) loopEnd.set(t, Math.max(loopEnd.get(t) ?? t, s));
  const loops = [...loopEnd].map(([a, b]) => ({ a, b })).sort((x, y) => x.a - y.a || y.b - x.b);
  for (const x of loops) for (const y of loops) {
    if (x !== y && x.a < y.a && y.a <= x.b && y.b > x.b) throw new Unstructured('overlapping loops');
  }
  const innermost = (pos: number): { a: number; b: number } | undefined => {
    let best: { a: number; b: number } | undefined;
    for (const l of loops) if (l.a < pos && pos <= l.b && (!best || l.a > best.a)) best = l;
    return best;
  };
  // Forward targets grouped by the scope (loop header, or -1 for the function) whose start opens them.
  const blocksOf = new Map<number, Set<number>>();
  for (const [s, t] of edges) {
    if (t <= s) continue;
    const scope = innermost(t);
    if (scope && !(scope.a <= s && s <= scope.b)) throw new Unstructured('jump into the middle of a loop');
    const key = scope ? scope.a : -1;
    if (!blocksOf.has(key)) blocksOf.set(key, new Set());
    blocksOf.get(key)!.add(t);
  }
  type Label = { loop: boolean; at: number };
  const labels: Label[] = [];
  const open = (key: number): void => {
    for (const t of [...(blocksOf.get(key) ?? [])].sort((x, y) => y - x)) {
      c.block(Op.block);
      labels.push({ loop: false, at: t });
    }
  };
  const depth = (t: number, pc: number): number => {
    for (let k = labels.length - 1; k >= 0; k--) {
      const l = labels[k]!;
      if (t > pc ? !l.loop && l.at === t : l.loop && l.at === t) return labels.length - 1 - k;
    }
    throw new Unstructured(`no label for a jump from ${pc} to ${t}`);
  };
  return {
    prologue: () => open(-1),
    before(pc) {
      while (labels.length && !labels[labels.length - 1]!.loop && labels[labels.length - 1]!.at === pc) {
        labels.pop();
        c.op(Op.end);
      }
      if (labels.some((l) => !l.loop && l.at === pc)) throw new Unstructured('blocks do not nest');
      if (loopEnd.has(pc)) {
        c.block(Op.loop);
        labels.push({ loop: true, at: pc });
        open(pc);
      }
    },
    after(pc) {
      for (const l of [...loops].reverse()) {
        if (l.b !== pc) continue;
        const top = labels.pop();
        if (!top || !top.loop || top.at !== l.a) throw new Unstructured('loop end out of order');
        c.op(Op.end);
      }
    },
    jump(t, pc) {
      if (t <= pc) fuel(pc);
      c.br(Op.br, depth(t, pc));
    },
    condJump(t, pc) {
      const d = depth(t, pc);
      if (t > pc) c.br(Op.br_if, d);
      else {
        c.op(Op.if, T.void);
        fuel(pc);
        c.br(Op.br, d + 1).op(Op.end);
      }
    },
    epilogue() {
      if (labels.length) throw new Unstructured('labels left open');
      c.op(Op.unreachable);
    },
  };
}

/** Any control flow: segments closed by blocks, backward jumps through a loop + br_table dispatch. */
function dispatchFlow(c: Code, insns: readonly Instruction[], start: number, end: number, fuel: (pc: number) => void, skip: (from: number, to: number) => boolean): Flow {
  const leaders = [...new Set([start, ...branchTargets(insns, start, end, skip).map(([, t]) => t)])].sort((a, b) => a - b);
  const segOf = new Map(leaders.map((l, k) => [l, k]));
  const n = leaders.length;
  let seg = 0;
  const jumpTo = (t: number, pc: number, extra: number): void => {
    const m = segOf.get(t)!;
    if (m > seg) c.br(Op.br, m - seg - 1 + extra);
    else {
      fuel(pc);
      c.i32(m).set(PC).br(Op.br, n - 1 - seg + extra);
    }
  };
  return {
    prologue() {
      c.block(Op.loop);
      for (let k = n - 1; k >= 0; k--) c.block(Op.block);
      c.get(PC).brTable(leaders.map((_, k) => k), 0).op(Op.end);
    },
    before(pc) {
      if (pc !== start && segOf.has(pc)) {
        c.op(Op.end);
        seg = segOf.get(pc)!;
      }
    },
    after() {},
    jump: (t, pc) => jumpTo(t, pc, 0),
    condJump(t, pc) {
      const m = segOf.get(t)!;
      if (m > seg) c.br(Op.br_if, m - seg - 1);
      else {
        c.op(Op.if, T.void);
        jumpTo(t, pc, 1);
        c.op(Op.end);
      }
    },
    epilogue() {
      c.op(Op.end, Op.unreachable);
    },
  };
}

/** How many functions were compiled with each flow (for tests and benchmarks). */
export const jitStats = { structured: 0, dispatch: 0, lastFallback: '' };

function compileFunction(insns: readonly Instruction[], prog: VmProgram, start: number, end: number, index: number, cx: Ctx): Code {
  try {
    const c = emitFunction(insns, prog, start, end, index, cx, true);
    jitStats.structured++;
    return c;
  } catch (e) {
    if (!(e instanceof Unstructured)) throw e;
    jitStats.dispatch++;
    jitStats.lastFallback = `${prog.name}@${start}: ${e.message}`;
    return emitFunction(insns, prog, start, end, index, cx, false);
  }
}

function emitFunction(insns: readonly Instruction[], prog: VmProgram, start: number, end: number, index: number, cx: Ctx, structured: boolean): Code {
  const c = new Code();
  void index;
  c.op(Op.global_get, 0).set(FUEL);
  loadControl(c, cx, false);
  const fuelCheck = (pc: number): void => {
    // Backward jumps burn fuel so an endless loop ends in a fault, not a hang, verified or not (a
    // verifier that is wrong about termination must not hang the host). The count lives in a local
    // (global 0 holds it across calls).
    c.get(FUEL).i32(1).op(Op.i32_sub).tee(FUEL).op(Op.i32_eqz, Op.if, T.void);
    trap(c, pc, FAULT.fuel);
    c.op(Op.end);
  };
  // Short straight-line tails ending in exit that code jumps back to (clang's shared `return`
  // blocks) are copied at each backward jump instead: no false loop, so more functions structure.
  const tails = new Map<number, number[]>();
  for (const [from, t] of branchTargets(insns, start, end)) {
    if (t > from || tails.has(t)) continue;
    const body: number[] = [];
    for (let q = t; q < end && body.length < 8; q++) {
      const x = insns[q]!;
      const k = BPF_CLASS(x.code);
      body.push(q);
      if ((k === BPF_JMP || k === BPF_JMP32) && BPF_OP(x.code) === BPF_EXIT) {
        tails.set(t, body);
        break;
      }
      if ((k === BPF_JMP || k === BPF_JMP32) && !(BPF_OP(x.code) === BPF_CALL && x.src !== BPF_PSEUDO_CALL && x.imm !== TAIL_CALL)) break;
      if (x.code === LDDW) q++;
    }
  }
  const inlined = (from: number, t: number): boolean => t <= from && tails.has(t);
  const flow = (structured ? structuredFlow : dispatchFlow)(c, insns, start, end, fuelCheck, inlined);
  const jump = (t: number, pc: number): void => {
    if (!inlined(pc, t)) return flow.jump(t, pc);
    for (const q of tails.get(t)!) emitOne(q);
  };
  const condJump = (t: number, pc: number): void => {
    if (!inlined(pc, t)) return flow.condJump(t, pc);
    c.op(Op.if, T.void);
    for (const q of tails.get(t)!) emitOne(q);
    c.op(Op.end);
  };
  flow.prologue();
  for (let pc = start; pc < end; pc++) {
    flow.before(pc);
    const here = pc;
    pc = emitOne(pc);
    flow.after(here);
  }
  flow.epilogue();
  return c;

  /** Emit the instruction at pc; returns the last slot it used (lddw takes two). */
  function emitOne(pc: number): number {
    const i = insns[pc]!;
    const cls = BPF_CLASS(i.code);
    const op = BPF_OP(i.code);
    const d = R[i.dst]!;
    const s = R[i.src] ?? 0;
    switch (cls) {
      case BPF_ALU64:
        alu64(c, i, d, s);
        break;
      case BPF_ALU:
        alu32(c, i, d, s);
        break;
      case BPF_JMP:
      case BPF_JMP32: {
        const is32 = cls === BPF_JMP32;
        if (op === BPF_JA) {
          jump(jumpTarget(insns, pc)!, pc);
        } else if (op === BPF_EXIT) {
          c.get(FUEL).op(Op.global_set, 0).get(R[0]!).op(Op.return);
        } else if (op === BPF_CALL) {
          if (i.src === BPF_PSEUDO_CALL) {
            // The callee's frame must fit in the stack area: at most 8 frames, as in the interpreter.
            c.get(R[10]!).i64(BigInt(cx.stack.start + STACK_SIZE)).op(Op.i64_le_u, Op.if, T.void);
            trap(c, pc, FAULT.callDepth);
            c.op(Op.end);
            for (let r = 1; r <= 5; r++) c.get(R[r]!);
            c.get(R[10]!).i64(BigInt(STACK_SIZE)).op(Op.i64_sub);
            c.get(FUEL).op(Op.global_set, 0);
            c.call(cx.funcOfStart.get(pc + 1 + i.imm)!).set(R[0]!);
            c.op(Op.global_get, 0).set(FUEL);
            loadControl(c, cx, true);
          } else if (i.imm === TAIL_CALL) {
            c.get(R[1]!).get(R[2]!).get(R[3]!).get(R[10]!).i32(pc).call(cx.F.tail_call);
            c.op(Op.if, T.void).get(FUEL).op(Op.global_set, 0).call(cx.F.tail_r0).op(Op.return, Op.end);
          } else {
            for (let r = 1; r <= 5; r++) c.get(R[r]!);
            c.i32(pc).call(cx.helperFunc.get(i.imm)!).set(R[0]!);
            loadControl(c, cx, true);
          }
        } else {
          if (is32) {
            c.get(d).op(Op.i32_wrap_i64);
            if (BPF_SRC(i.code) === BPF_X) c.get(s).op(Op.i32_wrap_i64);
            else c.i32(i.imm);
            if (op === BPF_JSET) c.op(Op.i32_and, Op.i32_eqz, Op.i32_eqz);
            else c.op(CMP32[op]!);
          } else {
            c.get(d);
            if (BPF_SRC(i.code) === BPF_X) c.get(s);
            else c.i64(BigInt(i.imm));
            if (op === BPF_JSET) c.op(Op.i64_and, Op.i64_eqz, Op.i32_eqz);
            else c.op(CMP64[op]!);
          }
          condJump(jumpTarget(insns, pc)!, pc);
        }
        break;
      }
      case BPF_LD: {
        if (i.code === LDDW) {
          c.i64(prog.imm64.get(pc)!).set(d);
          pc++;
          break;
        }
        const size = accessSize(i.code);
        if (index > 0) c.i32(pc).i32(FAULT.ldAbsInSubprog).call(cx.F.fault);
        if (BPF_MODE(i.code) === BPF_ABS) c.i64(BigInt(i.imm));
        else c.get(s).i64(BigInt(i.imm)).op(Op.i64_add).op(Op.i32_wrap_i64, Op.i64_extend_i32_s);
        c.i32(size).i32(pc).call(cx.F.ld_packet).tee(TA).i64(-1n).op(Op.i64_eq, Op.if, T.void).get(FUEL).op(Op.global_set, 0).i64(0n).op(Op.return, Op.end);
        c.get(TA).set(R[0]!);
        break;
      }
      case BPF_LDX: {
        const size = accessSize(i.code);
        if (prog.probeLoads?.has(pc)) {
          // A probe read through a tracing argument: the host checks the regions (0 outside them).
          c.get(s).i64(BigInt(i.off)).op(Op.i64_add).i32(size | (BPF_MODE(i.code) === BPF_MEMSX ? 0x100 : 0)).call(cx.F.probe_load).set(d);
          break;
        }
        const at = address(c, cx, pc, s, i.off, size, false);
        c.mem(BPF_MODE(i.code) === BPF_MEMSX ? LOADSX[size]! : LOAD[size]!, at).set(d);
        break;
      }
      case BPF_ST: {
        const size = accessSize(i.code);
        const at = address(c, cx, pc, d, i.off, size, true);
        c.i64(BigInt(i.imm)).mem(STORE[size]!, at);
        break;
      }
      case BPF_STX: {
        const size = accessSize(i.code);
        if (BPF_MODE(i.code) !== BPF_ATOMIC || i.imm === BPF_STORE_REL) {
          const at = address(c, cx, pc, d, i.off, size, true);
          c.get(s).mem(STORE[size]!, at);
        } else if (i.imm === BPF_LOAD_ACQ) {
          const at = address(c, cx, pc, s, i.off, size, false);
          c.mem(LOAD[size]!, at).set(d);
        } else {
          atomic(c, i, d, s, size, address(c, cx, pc, d, i.off, size, true));
        }
        break;
      }
    }
    return pc;
  }
}

/**
 * Leave the i32 address of a `size`-byte access at base register + off on the wasm stack, checked
 * against the region of the access's origin; returns the memarg offset the load or store must add.
 * Checks made inline compare `addr - start` (one unsigned compare covers both ends, no wrapping)
 * with a limit: a constant for the stack and array maps, the control block's for the context and
 * the packet (which move between runs). A failed check traps; the engine then gives the error the
 * interpreter gives. Other origins are checked by the host's `check`.
 */
function address(c: Code, cx: Ctx, pc: number, base: number, off: number, size: number, write: boolean): number {
  const o = cx.plan[pc];
  const how = accessHow(size, write);
  const fail = (lo = 0): void => {
    c.op(Op.if, T.void);
    trap(c, pc, how, () => (lo ? c.get(MA).i64(BigInt(lo)).op(Op.i64_add) : c.get(MA)));
    c.op(Op.end);
  };
  if (o?.kind === 'stack' && o.off !== undefined && o.off + off >= -STACK_SIZE && o.off + off + size <= 0) {
    // The current frame pointer plus a constant inside the frame: in the stack area on every run
    // (a frame pointer is never below the stack's start plus one frame; calls check that).
    c.get(base);
    if (off !== 0) c.i64(BigInt(off)).op(Op.i64_add);
    c.op(Op.i32_wrap_i64);
    return 0;
  }
  const region = o?.kind === 'stack' ? cx.stack : o?.kind === 'map' ? (o.map as { region?: Region }).region : undefined;
  if (region && (region.writable || !write) && region.end - region.start >= size) {
    // addr - start < end - start - size + 1, and the access adds start back as its memarg offset.
    const lo = region.start;
    c.get(base).i64(BigInt(off - lo)).op(Op.i64_add).tee(MA).i64(BigInt(region.end - lo - size + 1)).op(Op.i64_ge_u);
    fail(lo);
    c.get(MA).op(Op.i32_wrap_i64);
    return lo;
  }
  c.get(base);
  if (off !== 0) c.i64(BigInt(off)).op(Op.i64_add);
  if (o?.kind === 'ctx' || o?.kind === 'packet') {
    const cb = CONTROL[o.kind];
    c.tee(MA).get(CACHE + cx.cache.get(cb)!).op(Op.i64_sub).get(CACHE + cx.cache.get(limitWord(cb, size, write))!).op(Op.i64_ge_u);
    fail();
    c.get(MA).op(Op.i32_wrap_i64);
    return 0;
  }
  c.i32(how).i32(pc).call(cx.F.check);
  return 0;
}

function atomic(c: Code, i: Instruction, d: number, s: number, size: number, at: number): void {
  const mask = size === 8 ? -1n : 0xffffffffn;
  // The checked address is on the stack; TA holds the old value.
  c.tee(ADDR).mem(LOAD[size]!, at).set(TA); // old value, zero-extended
  if (i.imm === BPF_CMPXCHG) {
    c.get(TA).get(R[0]!);
    if (size === 4) c.i64(mask).op(Op.i64_and);
    c.op(Op.i64_eq, Op.if, T.void).get(ADDR).get(s).mem(STORE[size]!, at).op(Op.end);
    c.get(TA).set(R[0]!);
    return;
  }
  c.get(ADDR);
  const base = i.imm & ~BPF_FETCH;
  if (i.imm === BPF_XCHG) c.get(s);
  else {
    c.get(TA).get(s).op(base === BPF_ADD ? Op.i64_add : base === BPF_OR ? Op.i64_or : base === BPF_AND ? Op.i64_and : Op.i64_xor);
  }
  c.mem(STORE[size]!, at);
  if (i.imm & BPF_FETCH) c.get(TA).set(s);
}

function alu64(c: Code, i: Instruction, d: number, s: number): void {
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

function alu32(c: Code, i: Instruction, d: number, s: number): void {
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

void BPF_ALU; void BPF_LDX; void BPF_ST;

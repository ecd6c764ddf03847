// How jumps become wasm control flow inside one function: structured (loops and blocks, for code laid
// out as clang does) or, for anything else, a dispatch loop with a br_table.
import { LDDW, type Instruction } from '../../isa/instruction.js';
import { jumpTarget } from '../check.js';
import { PC } from './locals.js';
import { Code, Op, T } from './wasm.js';

/** How jumps become wasm control flow inside one function. */
export interface Flow {
  prologue(): void;
  before(pc: number): void;
  after(pc: number): void;
  /** Unconditional jump. */
  jump(t: number, pc: number): void;
  /** Conditional jump; the i32 condition is on the wasm stack. */
  condJump(t: number, pc: number): void;
  epilogue(): void;
}

export class Unstructured extends Error {}

export function branchTargets(insns: readonly Instruction[], start: number, end: number, skip?: (from: number, to: number) => boolean): [from: number, to: number][] {
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
export function structuredFlow(c: Code, insns: readonly Instruction[], start: number, end: number, fuel: (pc: number) => void, skip: (from: number, to: number) => boolean): Flow {
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
export function dispatchFlow(c: Code, insns: readonly Instruction[], start: number, end: number, fuel: (pc: number) => void, skip: (from: number, to: number) => boolean): Flow {
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

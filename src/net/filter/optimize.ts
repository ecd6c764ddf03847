// Peephole passes over the emitted code, in the spirit of libpcap's optimizer but much smaller:
// jumps to the next instruction and unreachable code go (the verifier rejects unreachable
// instructions), jumps whose outcome a path already knows are threaded past the test, and packet
// loads that reload what r0 (or r9, the IPv4 header length) already holds are dropped. The code is
// the builder's labelled code (isa/code.ts), which also resolves the labels in the end.
import { endsFlow, isGoto, negateJump, resolveLabels, type CodeItem, type Label } from '../../isa/code.js';
import { encodeForm } from '../../isa/form.js';
import type { Instruction } from '../../isa/instruction.js';
import { BPF_ABS, BPF_CLASS, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_LD, BPF_MODE, BPF_OP, BPF_SRC, BPF_STX, BPF_X } from '../../isa/opcodes.js';
import { jmpCond } from '../../vm/semantics.js';

/**
 * A label or an instruction of the builder's code (isa/code.ts) and, for the first of the `ihlLen`
 * instructions that compute r9 = 4 * IHL (see codegen's ihl()), the computation's key. One object
 * shape for all, so that the passes over hundreds of thousands of them stay monomorphic.
 */
export interface Item extends CodeItem {
  ihl: string | undefined;
  ihlLen: number;
}
const NO_INSN: Instruction = { code: 0, dst: 0, src: 0, off: 0, imm: 0 };
const labelItem = (label: Label): Item => ({ label, insn: NO_INSN, target: -1, span: undefined, ihl: undefined, ihlLen: 0 });
const insnItem = (i: Instruction, target: Label = -1): Item => ({ label: -1, insn: i, target, span: undefined, ihl: undefined, ihlLen: 0 });
/** `goto` (its target is the item's) */
const GOTO: Instruction = encodeForm({ kind: 'ja', off: 0 })[0]!;

/** Where codegen computed an IPv4 header length into r9: `length` items from item `at`, keyed by what they read. */
export interface IhlMark {
  at: number;
  length: number;
  key: string;
}

const R0 = 0, R8 = 8, R9 = 9, FP = 10;
/** conditions threadJumps can decide */
const COND: Record<number, true> = { [BPF_JEQ]: true, [BPF_JNE]: true, [BPF_JGT]: true, [BPF_JGE]: true, [BPF_JLT]: true, [BPF_JLE]: true, [BPF_JSET]: true };

/** A block that ends the program (`r0 = verdict; exit`), which long programs may repeat. */
export interface ExitBlock {
  label: Label;
  insns: Instruction[];
}

/** Beyond this many items, threading runs once: a long allow-list gains little from more rounds. */
const ONE_ROUND = 50000;

/**
 * Drop jumps to the next instruction and code nothing jumps or falls to (the verifier rejects
 * unreachable instructions), thread jumps, then resolve the labels.
 */
export function link(code: readonly CodeItem[], ihls: readonly IhlMark[], newLabel: () => Label, exits: ExitBlock[] = []): Instruction[] {
  let items: Item[] = code.map((it) => ({ label: it.label, insn: it.insn, target: it.target, span: it.span, ihl: undefined, ihlLen: 0 }));
  for (const m of ihls) {
    items[m.at]!.ihl = m.key;
    items[m.at]!.ihlLen = m.length;
  }
  // clean up, thread jumps, and again while threading moves something (cleaning what threading
  // left behind); most filters settle in two rounds
  const rounds = items.length > ONE_ROUND ? 1 : 8;
  for (let round = 0; ; round++) {
    items = cleanJumps(dropUnreachable(items));
    const threaded = round < rounds ? threadJumps(items, newLabel) : undefined;
    if (!threaded) break;
    items = threaded;
  }
  items = dropReloads(items);
  let count = 0;
  for (const it of items) if (it.label < 0) count++;
  if (count > MAX_COND_JUMP) items = dropUnreachable(relaxFarJumps(exitStubs(items, exits, newLabel), newLabel));
  // labels → offsets (a `goto` beyond 16 bits becomes `gotol`)
  return resolveLabels(items).insns;
}

/**
 * Jumps to the very next instruction go, and `if c goto X; goto Y; X:` becomes `if !c goto Y; X:`.
 * (Run after dropUnreachable: removing unreachable code can leave such jumps; this creates none.)
 */
function cleanJumps(items: Item[]): Item[] {
  const at = labelIndex(items);
  /** is label l placed among the labels right at position j? */
  const labelledAt = (j: number, l: Label): boolean => {
    const p = at[l]!;
    if (p < j) return false;
    for (let q = j; q < p; q++) if (items[q]!.label < 0) return false;
    return true;
  };
  const next: Item[] = [];
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    const after = items[k + 1];
    const negated = it.label < 0 && it.target >= 0 ? negateJump(it.insn) : undefined;
    if (negated && after && after.label < 0 && isGoto(after.insn) && after.target >= 0 && labelledAt(k + 2, it.target)) {
      next.push(insnItem(negated, after.target));
      k++;
      continue;
    }
    if (it.label < 0 && isGoto(it.insn) && it.target >= 0 && labelledAt(k + 1, it.target)) continue;
    next.push(it);
  }
  return next;
}

/** Drop instructions nothing jumps or falls to (the verifier rejects unreachable instructions). */
function dropUnreachable(items: Item[]): Item[] {
  const index = labelIndex(items);
  const live = new Uint8Array(items.length + 1);
  const work = [0];
  while (work.length) {
    const k = work.pop()!;
    if (k >= items.length || live[k]) continue;
    live[k] = 1;
    const it = items[k]!;
    if (it.label >= 0) {
      work.push(k + 1);
      continue;
    }
    if (it.target >= 0) work.push(index[it.target]!);
    if (!endsFlow(it.insn)) work.push(k + 1);
  }
  return items.filter((it, k) => live[k] || it.label >= 0);
}

/** Position of each label in `items` (labels are small dense numbers). */
function labelIndex(items: readonly Item[]): Int32Array {
  let max = 0;
  for (const it of items) if (it.label >= 0 && it.label > max) max = it.label;
  const at = new Int32Array(max + 1).fill(-1);
  items.forEach((it, k) => {
    if (it.label >= 0) at[it.label] = k;
  });
  return at;
}

/**
 * How far a conditional jump may reach. Its offset has 16 bits, but the kernel rewrites every
 * LD_ABS/LD_IND into about eight instructions and must still fit the offsets ("cannot be patched
 * due to 16-bit range"), so tsbpf keeps them under 32767 / 8. A `goto` farther becomes `gotol`.
 */
const MAX_COND_JUMP = 0xfff;

/** How far apart exitStubs places copies of the exit blocks (well inside a conditional jump's reach). */
const STUB_SPACING = 2048;

/**
 * In a long program most far jumps go to the accept or reject block at the end. Copies of those
 * blocks every STUB_SPACING instructions (where nothing falls through, or behind a `goto` over
 * them) give every such jump a copy within reach, in one pass. Copies no jump uses are dropped
 * afterwards with the rest of the unreachable code.
 */
function exitStubs(items: Item[], exits: ExitBlock[], newLabel: () => Label): Item[] {
  if (!exits.length) return items;
  const exitOf = new Map(exits.map((e) => [e.label, e]));
  // first pass: where the stubs go (before item k), and their labels
  const stubs = new Map<number, Map<Label, Label>>();
  let pc = 0;
  let last = 0;
  let fallsIn = true;
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if (it.label >= 0) continue;
    if ((pc - last >= STUB_SPACING && !fallsIn) || pc - last >= 2 * STUB_SPACING) {
      stubs.set(k, new Map(exits.map((e) => [e.label, newLabel()])));
      last = pc;
    }
    pc++;
    fallsIn = !endsFlow(it.insn);
  }
  // second pass: insert them; a jump to an exit goes to the next stub (or the real block)
  const out: Item[] = [];
  const after = [...stubs.keys()];
  let s = 0;
  let next = after.length ? stubs.get(after[0]!) : undefined;
  for (let k = 0; k < items.length; k++) {
    const here = stubs.get(k);
    if (here) {
      const guard = newLabel();
      const prev = out.length ? out[out.length - 1] : undefined;
      const guarded = !prev || !(prev.label < 0) || !endsFlow(prev.insn);
      if (guarded) out.push(insnItem(GOTO, guard));
      for (const e of exits) {
        out.push(labelItem(here.get(e.label)!));
        for (const i of e.insns) out.push(insnItem(i));
      }
      if (guarded) out.push(labelItem(guard));
      next = ++s < after.length ? stubs.get(after[s]!) : undefined;
    }
    const it = items[k]!;
    if (it.label < 0 && it.target >= 0 && next && exitOf.has(it.target)) out.push({ ...it, target: next.get(it.target)! });
    else out.push(it);
  }
  return out;
}

/**
 * Long filters (thousands of alternatives) jump farther than a conditional jump's 16-bit offset
 * reaches: `if c goto FAR` becomes `if !c goto NEXT; goto FAR; NEXT:`. Inserting instructions only
 * lengthens other jumps, so repeat until every conditional jump fits.
 */
function relaxFarJumps(items: Item[], newLabel: () => Label): Item[] {
  for (;;) {
    let max = 0;
    for (const it of items) if (it.label >= 0 && it.label > max) max = it.label;
    const at = new Int32Array(max + 1);
    let n = 0;
    for (const it of items) {
      if (it.label >= 0) at[it.label] = n;
      else n++;
    }
    let pc = 0;
    let changed = false;
    const out: Item[] = [];
    for (const it of items) {
      if (it.label >= 0) {
        out.push(it);
        continue;
      }
      const far = it.target >= 0 && !isGoto(it.insn) && at[it.target]! - (pc + 1) > MAX_COND_JUMP;
      const negated = far ? negateJump(it.insn) : undefined;
      if (negated) {
        const next = newLabel();
        out.push(insnItem(negated, next), insnItem(GOTO, it.target), labelItem(next));
        changed = true;
      } else if (far) {
        // JSET has no inverse: jump over a goto to the far target... from a near one
        const near = newLabel();
        const skip = newLabel();
        out.push({ ...it, target: near }, insnItem(GOTO, skip), labelItem(near));
        out.push(insnItem(GOTO, it.target), labelItem(skip));
        changed = true;
      } else out.push(it);
      pc++;
    }
    if (!changed) return items;
    items = out;
  }
}

/**
 * Remove packet loads that reload what r0 already holds on every path reaching them (libpcap's
 * optimizer does the same: `ip or ip6` reads the ethertype once). Jumps only go forward, so one pass
 * in order sees every predecessor of a label before the label. Only constant-offset loads
 * (BPF_ABS) are tracked; anything else that writes r0 forgets what it held.
 */
function dropReloads(items: Item[]): Item[] {
  // what r0 / r9 hold on the jumps to a label (null: paths differ)
  const atLabel = new Map<Label, [string | null, string | null]>();
  const merge = (a: string | null | undefined, b: string | null): string | null => (a === undefined ? b : a === b ? a : null);
  const out: Item[] = [];
  let held: string | null = null;
  let ihl: string | null = null;
  let reachable = true; // does control fall into the next item?
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if (it.label >= 0) {
      const j = atLabel.get(it.label);
      held = reachable ? merge(j?.[0], held) : (j?.[0] ?? null);
      ihl = reachable ? merge(j?.[1], ihl) : (j?.[1] ?? null);
      reachable = true;
      out.push(it);
      continue;
    }
    if (it.ihl !== undefined) {
      if (reachable && ihl === it.ihl) {
        k += it.ihlLen! - 1; // r9 already holds it: skip the whole computation (r0 untouched)
        continue;
      }
      for (let u = 0; u < it.ihlLen!; u++) out.push(items[k + u]!);
      k += it.ihlLen! - 1;
      ihl = it.ihl;
      held = null;
      continue;
    }
    const i = it.insn;
    const cls = BPF_CLASS(i.code);
    if (cls === BPF_LD && BPF_MODE(i.code) === BPF_ABS) {
      const key = `${i.code}:${i.imm}`;
      if (reachable && held === key) continue;
      held = key;
    } else if (cls === BPF_JMP || cls === BPF_JMP32) {
      if (it.target >= 0) {
        const j = atLabel.get(it.target);
        atLabel.set(it.target, [merge(j?.[0], held), merge(j?.[1], ihl)]);
      }
      if (endsFlow(i)) reachable = false;
    } else {
      if (i.dst === R0 || cls === BPF_LD) held = null; // ALU/LDX into r0, LD_IND
      if (i.dst === R8 || i.dst === R9) ihl = null;
      // a store to a variable changes what an ihl computed at a variable offset means
      if (cls === BPF_STX && i.dst === FP && ihl?.startsWith('v')) ihl = null;
    }
    out.push(it);
  }
  return out;
}

/** What a path knows: packet loads (by BPF_ABS key) known to equal a value, and what r0 holds. */
interface Facts {
  eq: Map<number, number>;
  held: number | null;
}

/** A BPF_ABS load as a number (its opcode and offset), or undefined for any other instruction. */
const absKey = (i: Instruction): number | undefined => (BPF_CLASS(i.code) === BPF_LD && BPF_MODE(i.code) === BPF_ABS ? i.code * 0x100000000 + (i.imm >>> 0) : undefined);

function intersect(a: Facts | undefined, b: Facts): Facts {
  if (!a || a === b) return b;
  const held = a.held === b.held ? a.held : null;
  if (a.eq === b.eq) return held === b.held ? b : { eq: b.eq, held };
  const eq = new Map<number, number>();
  for (const [k, v] of a.eq) if (b.eq.get(k) === v) eq.set(k, v);
  return { eq, held };
}

/** The outcome of a 32-bit conditional jump on known values (the VM's own definition). */
const decide = (op: number, a: number, b: number): boolean => jmpCond(op, true, BigInt(a >>> 0), BigInt(b >>> 0));

/**
 * Jump threading (what libpcap's optimizer does with what it knows about A): a path that has
 * established `ether[12:2] == 0x86dd` and jumps to a block testing `ether[12:2] == 0x800` is sent
 * straight to where that test leads. Facts come from equality tests on BPF_ABS loads, which stay
 * true along a path since the packet does not change. Returns the new items, or undefined if no
 * jump moved. Jumps only go forward, so one pass in order meets every edge into a point first.
 */
function threadJumps(items: Item[], newLabel: () => Label): Item[] | undefined {
  const labelPos = labelIndex(items);
  const landing = (p: number): number => {
    while (p < items.length && items[p]!.label >= 0) p++;
    return p;
  };
  const inserts = new Map<number, Label>(); // new labels to place before these positions
  const after = new Map<number, Item>(); // jumps to place right after these positions
  const labelFor = (pos: number): Label => {
    const before = items[pos - 1];
    if (before && before.label >= 0) return before.label;
    let l = inserts.get(pos);
    if (l === undefined) inserts.set(pos, (l = newLabel()));
    return l;
  };
  /** Follow known outcomes from landing position p; returns where the path really goes. */
  const resolve = (p: number, f: Facts): number => {
    for (let hops = 0; hops < 64; hops++) {
      const it = items[p];
      if (!it || it.label >= 0) return p;
      if (isGoto(it.insn) && it.target >= 0) {
        p = landing(labelPos[it.target]!);
        continue;
      }
      const key = absKey(it.insn);
      const jc = items[p + 1];
      if (key === undefined || !f.eq.has(key) || !jc || jc.label >= 0 || jc.target < 0) return p;
      const j = jc.insn;
      if (BPF_CLASS(j.code) !== BPF_JMP32 || BPF_SRC(j.code) === BPF_X || j.dst !== R0 || COND[BPF_OP(j.code)] === undefined) return p;
      p = decide(BPF_OP(j.code), f.eq.get(key)!, j.imm) ? landing(labelPos[jc.target]!) : landing(p + 2);
    }
    return p;
  };
  const incoming = new Map<number, Facts>();
  let moved = false;
  let cur: Facts | undefined = { eq: new Map(), held: null };
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if (it.label >= 0) continue;
    const pending = incoming.get(k);
    cur = cur ? (pending ? intersect(pending, cur) : cur) : pending;
    if (!cur) continue; // unreachable (DCE removes it)
    const i = it.insn;
    const cls = BPF_CLASS(i.code);
    const key = absKey(i);
    if (key !== undefined) {
      cur = { eq: cur.eq, held: key };
      continue;
    }
    if (cls !== BPF_JMP && cls !== BPF_JMP32) {
      if (i.dst === R0 || cls === BPF_LD) cur = { eq: cur.eq, held: null };
      continue;
    }
    if (endsFlow(i) && !isGoto(i)) {
      cur = undefined; // exit
      continue;
    }
    const op = BPF_OP(i.code);
    const here: Facts = cur;
    const onR0K: boolean = cls === BPF_JMP32 && BPF_SRC(i.code) !== BPF_X && i.dst === R0 && here.held !== null;
    const withEq = (v: number): Facts => (here.eq.get(here.held!) === v >>> 0 ? here : { eq: new Map(here.eq).set(here.held!, v >>> 0), held: here.held });
    const taken: Facts = onR0K && op === BPF_JEQ ? withEq(i.imm) : here;
    const fall: Facts = onR0K && op === BPF_JNE ? withEq(i.imm) : here;
    const from = landing(labelPos[it.target!]!);
    const to = resolve(from, taken);
    if (to !== from) {
      items[k] = { ...it, target: labelFor(to) };
      moved = true;
    }
    incoming.set(to, intersect(incoming.get(to), taken));
    if (isGoto(i)) {
      cur = undefined;
      continue;
    }
    // the fall-through edge too: if where it falls is decided, jump past it
    const next = landing(k + 1);
    const nextItem = items[next];
    const fallTo = nextItem && nextItem.label < 0 && isGoto(nextItem.insn) ? next : resolve(next, fall);
    if (fallTo !== next) {
      after.set(k, insnItem(GOTO, labelFor(fallTo)));
      incoming.set(fallTo, intersect(incoming.get(fallTo), fall));
      moved = true;
      cur = undefined;
    } else cur = fall;
  }
  if (!moved) return undefined;
  const out: Item[] = [];
  items.forEach((it, k) => {
    const l = inserts.get(k);
    if (l !== undefined) out.push(labelItem(l));
    out.push(it);
    const a = after.get(k);
    if (a) out.push(a);
  });
  return out;
}

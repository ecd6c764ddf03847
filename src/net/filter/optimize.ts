// Peephole passes over the emitted code, in the spirit of libpcap's optimizer but much smaller:
// jumps to the next instruction and unreachable code go (the verifier rejects unreachable
// instructions), jumps whose outcome a path already knows are threaded past the test, and packet
// loads that reload what r0 (or r9, the IPv4 header length) already holds are dropped.
import { Builder, imm, type JmpCond } from '../../isa/builder.js';
import { insn, type Instruction } from '../../isa/instruction.js';
import { BPF_ABS, BPF_EXIT, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_LD, BPF_STX, BPF_X } from '../../isa/opcodes.js';

export type Label = number;
/** `ihl` marks the first of the `ihlLen` instructions that compute r9 = 4 * IHL (see codegen's load()). */
export type Item = { insn: Instruction; target?: Label; ihl?: string; ihlLen?: number } | { label: Label };

const R0 = 0, R8 = 8, R9 = 9, FP = 10;
const INVERSE: Record<number, number> = { [BPF_JEQ]: BPF_JNE, [BPF_JNE]: BPF_JEQ, [BPF_JGT]: BPF_JLE, [BPF_JLE]: BPF_JGT, [BPF_JGE]: BPF_JLT, [BPF_JLT]: BPF_JGE };
const COND: Record<number, JmpCond> = { [BPF_JEQ]: '==', [BPF_JNE]: '!=', [BPF_JGT]: '>', [BPF_JGE]: '>=', [BPF_JLT]: '<', [BPF_JLE]: '<=', [BPF_JSET]: '&' };

/**
 * Drop jumps to the next instruction and code nothing jumps or falls to (the verifier rejects
 * unreachable instructions), then let the builder resolve the labels.
 */
export function link(emitted: Item[], newLabel: () => Label): Instruction[] {
  let items = emitted;
  for (let changed = true; changed; ) {
    changed = false;
    // jumps to the very next instruction; `if c goto X; goto Y; X:` becomes `if !c goto Y; X:`
    const next: Item[] = [];
    const labelsAt = (j: number): Set<Label> => {
      const here = new Set<Label>();
      while (j < items.length && 'label' in items[j]!) here.add((items[j++] as { label: Label }).label);
      return here;
    };
    for (let k = 0; k < items.length; k++) {
      const it = items[k]!;
      const after = items[k + 1];
      if ('insn' in it && it.target !== undefined && it.insn.code !== (BPF_JMP | BPF_JA) && INVERSE[it.insn.code & 0xf0] !== undefined &&
        after && 'insn' in after && after.insn.code === (BPF_JMP | BPF_JA) && after.target !== undefined && labelsAt(k + 2).has(it.target)) {
        next.push({ insn: { ...it.insn, code: (it.insn.code & ~0xf0) | INVERSE[it.insn.code & 0xf0]! }, target: after.target });
        k++;
        changed = true;
        continue;
      }
      if ('insn' in it && it.insn.code === (BPF_JMP | BPF_JA) && it.target !== undefined) {
        let j = k + 1;
        const here = new Set<Label>();
        while (j < items.length && 'label' in items[j]!) here.add((items[j++] as { label: Label }).label);
        if (here.has(it.target)) {
          changed = true;
          continue;
        }
      }
      next.push(it);
    }
    // unreachable instructions
    const index = new Map<Label, number>();
    next.forEach((it, k) => 'label' in it && index.set(it.label, k));
    const live = new Set<number>();
    const work = [0];
    while (work.length) {
      const k = work.pop()!;
      if (k >= next.length || live.has(k)) continue;
      live.add(k);
      const it = next[k]!;
      if ('label' in it) {
        work.push(k + 1);
        continue;
      }
      if (it.target !== undefined) work.push(index.get(it.target)!);
      const code = it.insn.code;
      const ends = code === (BPF_JMP | BPF_EXIT) || code === (BPF_JMP | BPF_JA);
      if (!ends) work.push(k + 1);
    }
    items = next.filter((it, k) => live.has(k) || 'label' in it);
    if (items.length !== next.length) changed = true;
    const threaded = threadJumps(items, newLabel);
    if (threaded) {
      items = threaded;
      changed = true;
    }
  }
  items = dropReloads(items);
  // labels → offsets: the ISA builder resolves them
  const b = new Builder();
  for (const it of items) {
    if ('label' in it) b.label(`L${it.label}`);
    else if (it.target === undefined) b.raw(it.insn);
    else if (it.insn.code === (BPF_JMP | BPF_JA)) b.ja(`L${it.target}`);
    else {
      const i = it.insn;
      const src = (i.code & BPF_X) === BPF_X ? i.src : imm(i.imm);
      b.jmp32(COND[i.code & 0xf0]!, i.dst, src, `L${it.target}`);
    }
  }
  return b.build().insns;
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
    if ('label' in it) {
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
    const cls = i.code & 0x07;
    if (cls === BPF_LD && (i.code & 0xe0) === BPF_ABS) {
      const key = `${i.code}:${i.imm}`;
      if (reachable && held === key) continue;
      held = key;
    } else if (cls === BPF_JMP || cls === BPF_JMP32) {
      if (it.target !== undefined) {
        const j = atLabel.get(it.target);
        atLabel.set(it.target, [merge(j?.[0], held), merge(j?.[1], ihl)]);
      }
      if (i.code === (BPF_JMP | BPF_JA) || i.code === (BPF_JMP | BPF_EXIT)) reachable = false;
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
  eq: Map<string, number>;
  held: string | null;
}

const absKey = (i: Instruction): string | undefined => ((i.code & 0x07) === BPF_LD && (i.code & 0xe0) === BPF_ABS ? `${i.code}:${i.imm}` : undefined);

function intersect(a: Facts | undefined, b: Facts): Facts {
  if (!a) return b;
  const eq = new Map<string, number>();
  for (const [k, v] of a.eq) if (b.eq.get(k) === v) eq.set(k, v);
  return { eq, held: a.held === b.held ? a.held : null };
}

function decide(op: number, a: number, b: number): boolean {
  a >>>= 0;
  b >>>= 0;
  switch (op) {
    case BPF_JEQ: return a === b;
    case BPF_JNE: return a !== b;
    case BPF_JGT: return a > b;
    case BPF_JGE: return a >= b;
    case BPF_JLT: return a < b;
    case BPF_JLE: return a <= b;
    default: return (a & b) !== 0; // BPF_JSET
  }
}

/**
 * Jump threading (what libpcap's optimizer does with what it knows about A): a path that has
 * established `ether[12:2] == 0x86dd` and jumps to a block testing `ether[12:2] == 0x800` is sent
 * straight to where that test leads. Facts come from equality tests on BPF_ABS loads, which stay
 * true along a path since the packet does not change. Returns the new items, or undefined if no
 * jump moved. Jumps only go forward, so one pass in order meets every edge into a point first.
 */
function threadJumps(items: Item[], newLabel: () => Label): Item[] | undefined {
  const labelPos = new Map<Label, number>();
  items.forEach((it, k) => 'label' in it && labelPos.set(it.label, k));
  const landing = (p: number): number => {
    while (p < items.length && 'label' in items[p]!) p++;
    return p;
  };
  const inserts = new Map<number, Label>(); // new labels to place before these positions
  const after = new Map<number, Item>(); // jumps to place right after these positions
  const labelFor = (pos: number): Label => {
    const before = items[pos - 1];
    if (before && 'label' in before) return before.label;
    let l = inserts.get(pos);
    if (l === undefined) inserts.set(pos, (l = newLabel()));
    return l;
  };
  /** Follow known outcomes from landing position p; returns where the path really goes. */
  const resolve = (p: number, f: Facts): number => {
    for (let hops = 0; hops < 64; hops++) {
      const it = items[p];
      if (!it || 'label' in it) return p;
      if (it.insn.code === (BPF_JMP | BPF_JA) && it.target !== undefined) {
        p = landing(labelPos.get(it.target)!);
        continue;
      }
      const key = absKey(it.insn);
      const jc = items[p + 1];
      if (key === undefined || !f.eq.has(key) || !jc || 'label' in jc || jc.target === undefined) return p;
      const j = jc.insn;
      if ((j.code & 0x07) !== BPF_JMP32 || (j.code & BPF_X) || j.dst !== R0 || COND[j.code & 0xf0] === undefined) return p;
      p = decide(j.code & 0xf0, f.eq.get(key)!, j.imm) ? landing(labelPos.get(jc.target)!) : landing(p + 2);
    }
    return p;
  };
  const incoming = new Map<number, Facts>();
  let moved = false;
  let cur: Facts | undefined = { eq: new Map(), held: null };
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if ('label' in it) continue;
    const pending = incoming.get(k);
    cur = cur ? (pending ? intersect(pending, cur) : cur) : pending;
    if (!cur) continue; // unreachable (DCE removes it)
    const i = it.insn;
    const cls = i.code & 0x07;
    const key = absKey(i);
    if (key !== undefined) {
      cur = { eq: cur.eq, held: key };
      continue;
    }
    if (cls !== BPF_JMP && cls !== BPF_JMP32) {
      if (i.dst === R0 || cls === BPF_LD) cur = { eq: cur.eq, held: null };
      continue;
    }
    if (i.code === (BPF_JMP | BPF_EXIT)) {
      cur = undefined;
      continue;
    }
    const op = i.code & 0xf0;
    const here: Facts = cur;
    const onR0K: boolean = cls === BPF_JMP32 && !(i.code & BPF_X) && i.dst === R0 && here.held !== null;
    const withEq = (v: number): Facts => ({ eq: new Map(here.eq).set(here.held!, v >>> 0), held: here.held });
    const taken: Facts = onR0K && op === BPF_JEQ ? withEq(i.imm) : here;
    const fall: Facts = onR0K && op === BPF_JNE ? withEq(i.imm) : here;
    const from = landing(labelPos.get(it.target!)!);
    const to = resolve(from, taken);
    if (to !== from) {
      items[k] = { ...it, target: labelFor(to) };
      moved = true;
    }
    incoming.set(to, intersect(incoming.get(to), taken));
    if (i.code === (BPF_JMP | BPF_JA)) {
      cur = undefined;
      continue;
    }
    // the fall-through edge too: if where it falls is decided, jump past it
    const next = landing(k + 1);
    const nextItem = items[next];
    const fallTo = nextItem && 'insn' in nextItem && nextItem.insn.code === (BPF_JMP | BPF_JA) ? next : resolve(next, fall);
    if (fallTo !== next) {
      after.set(k, { insn: insn(BPF_JMP | BPF_JA), target: labelFor(fallTo) });
      incoming.set(fallTo, intersect(incoming.get(fallTo), fall));
      moved = true;
      cur = undefined;
    } else cur = fall;
  }
  if (!moved) return undefined;
  const out: Item[] = [];
  items.forEach((it, k) => {
    const l = inserts.get(k);
    if (l !== undefined) out.push({ label: l });
    out.push(it);
    const a = after.get(k);
    if (a) out.push(a);
  });
  return out;
}

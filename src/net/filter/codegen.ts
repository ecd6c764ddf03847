// Predicates → an eBPF BPF_PROG_TYPE_SOCKET_FILTER program. Packet bytes are read with the legacy
// BPF_LD|BPF_ABS/IND loads: they take offsets from the start of the frame, convert from network
// byte order, and end the program with 0 (drop) when the packet is too short — exactly classic
// BPF's behaviour, which is what tcpdump's filters mean. All arithmetic is 32-bit and comparisons
// are unsigned 32-bit (BPF_ALU / BPF_JMP32), again as in classic BPF.
//
// Registers: r6 = ctx (__sk_buff, required by LD_ABS/IND), r7 = offset register for LD_IND,
// r9 = 4 * IPv4 IHL, r0-r5 scratch. The stack holds the predicate's run-time variables (slot i at
// fp - 8(i+1), zeroed on entry), then spilled intermediate values.
// Predicates and values are emitted with explicit work stacks: a 10,000-term or-chain is a tree
// 10,000 deep.
import { insn, type Instruction } from '../../isa/instruction.js';
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_B, BPF_DIV, BPF_DW, BPF_EXIT, BPF_H, BPF_IND, BPF_JA,
  BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_K, BPF_LD, BPF_LDX,
  BPF_LSH, BPF_MEM, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_STX, BPF_SUB, BPF_W, BPF_X, BPF_XOR,
} from '../../isa/opcodes.js';
import type { BinOp, CmpOp, MetaField, Pred, Val } from './ir.js';
import { INVERSE, insnItem, labelItem, link, type Item, type Label } from './optimize.js';

/** struct __sk_buff field offsets a filter reads. */
export const SKB_LEN = 0;
export const SKB_PKT_TYPE = 4;
export const SKB_VLAN_PRESENT = 20;
export const SKB_VLAN_TCI = 24;
export const SKB_IFINDEX = 40;
const META: Readonly<Record<MetaField, number>> = { pkttype: SKB_PKT_TYPE, vlan_present: SKB_VLAN_PRESENT, vlan_tci: SKB_VLAN_TCI, ifindex: SKB_IFINDEX };

export const DEFAULT_SNAPLEN = 262144;

export interface CodegenOptions {
  /** value returned for an accepted packet: how many bytes to keep */
  snaplen?: number;
  /** run-time variables the predicate uses */
  vars?: number;
}

const R0 = 0, R1 = 1, R6 = 6, R7 = 7, R9 = 9, FP = 10;
const SIZE = { 1: BPF_B, 2: BPF_H, 4: BPF_W } as const;
const ALU_OP: Record<BinOp, number> = {
  '+': BPF_ADD, '-': BPF_SUB, '*': BPF_MUL, '/': BPF_DIV, '%': BPF_MOD, '&': BPF_AND, '|': BPF_OR, '^': BPF_XOR, '<<': BPF_LSH, '>>': BPF_RSH,
};
const JMP_OP: Record<CmpOp, number> = { eq: BPF_JEQ, ne: BPF_JNE, gt: BPF_JGT, ge: BPF_JGE, lt: BPF_JLT, le: BPF_JLE, set: BPF_JSET };
const MAX_SLOTS = 512 / 8;

export function codegen(pred: Pred, o: CodegenOptions = {}): Instruction[] {
  return new Codegen(o).program(pred);
}

type PredWork = { p: Pred; t: Label; f: Label } | { place: Label };
/** a value to compute into r0; `stage` counts the steps already done for it, `slot` a spill */
type ValWork = { v: Val; stage: number; slot?: number };

class Codegen {
  private items: Item[] = [];
  private labels = 0;
  /** spilled values live on the stack */
  private depth = 0;
  private readonly vars: number;
  private readonly accept: Label;
  private readonly reject: Label;

  constructor(private readonly o: CodegenOptions) {
    this.vars = o.vars ?? 0;
    this.accept = this.label();
    this.reject = this.label();
  }

  program(p: Pred): Instruction[] {
    this.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, R6, R1));
    if (this.vars) {
      this.emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0));
      for (let v = 0; v < this.vars; v++) this.emit(insn(BPF_STX | BPF_MEM | BPF_DW, FP, R0, varSlot(v)));
    }
    this.pred(p, this.accept, this.reject);
    const exits = [
      { label: this.reject, insns: [insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0), insn(BPF_JMP | BPF_EXIT)] },
      { label: this.accept, insns: [insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, this.o.snaplen ?? DEFAULT_SNAPLEN), insn(BPF_JMP | BPF_EXIT)] },
    ];
    for (const e of exits) {
      this.place(e.label);
      for (const i of e.insns) this.emit(i);
    }
    return link(this.items, () => this.label(), exits);
  }

  // ---- predicates: jump to t when true, to f when false ----

  private pred(root: Pred, t: Label, f: Label): void {
    const work: PredWork[] = [{ p: root, t, f }];
    while (work.length) {
      const w = work.pop()!;
      if ('place' in w) {
        this.place(w.place);
        continue;
      }
      const p = w.p;
      const top = work[work.length - 1];
      /** jump to `l`, unless `l` is placed right here */
      const goTo = (l: Label): void => {
        if (!(top && 'place' in top && top.place === l)) this.jump(l);
      };
      switch (p.k) {
        case 'true':
          goTo(w.t);
          break;
        case 'false':
          goTo(w.f);
          break;
        case 'not':
          work.push({ p: p.a, t: w.f, f: w.t });
          break;
        case 'and':
        case 'or': {
          const mid = this.label();
          work.push({ p: p.b, t: w.t, f: w.f }, { place: mid }, p.k === 'and' ? { p: p.a, t: mid, f: w.f } : { p: p.a, t: w.t, f: mid });
          break;
        }
        case 'cmp': {
          this.val(p.a);
          // the label placed right after this test (if any) needs no jump: fall into it
          const next = top && 'place' in top ? top.place : undefined;
          let op = JMP_OP[p.op];
          let to = w.t;
          let other: Label | undefined = w.f;
          if (next === w.f) other = undefined;
          else if (next === w.t && INVERSE[op] !== undefined) {
            op = INVERSE[op]!;
            to = w.f;
            other = undefined;
          }
          if (p.b.k === 'const') {
            this.emit(insn(BPF_JMP32 | op | BPF_K, R0, 0, 0, p.b.v | 0), to);
          } else {
            const slot = this.spill();
            this.val(p.b);
            this.unspill(R1, slot);
            this.emit(insn(BPF_JMP32 | op | BPF_X, R1, R0), to);
          }
          if (other !== undefined) this.jump(other);
          break;
        }
        case 'set':
          this.val(p.v);
          this.emit(insn(BPF_STX | BPF_MEM | BPF_DW, FP, R0, varSlot(p.id)));
          goTo(w.t);
          break;
      }
    }
  }

  // ---- values: result in r0 (zero-extended 32 bits) ----

  private val(root: Val): void {
    const work: ValWork[] = [{ v: root, stage: 0 }];
    while (work.length) {
      const w = work[work.length - 1]!;
      const v = w.v;
      switch (v.k) {
        case 'const':
          this.emit(insn(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, v.v | 0));
          break;
        case 'len':
          this.emit(insn(BPF_LDX | BPF_MEM | BPF_W, R0, R6, SKB_LEN));
          break;
        case 'meta':
          this.emit(insn(BPF_LDX | BPF_MEM | BPF_W, R0, R6, META[v.field]));
          break;
        case 'var':
          this.emit(insn(BPF_LDX | BPF_MEM | BPF_DW, R0, FP, varSlot(v.id)));
          break;
        case 'ihl':
          this.ihl(v.off);
          this.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, R0, R9));
          break;
        case 'neg':
          if (w.stage++ === 0) {
            work.push({ v: v.a, stage: 0 });
            continue;
          }
          this.emit(insn(BPF_ALU | BPF_NEG, R0));
          break;
        case 'bin': {
          const op = ALU_OP[v.op];
          if (w.stage === 0) {
            w.stage = 1;
            work.push({ v: v.a, stage: 0 });
            continue;
          }
          if (v.b.k === 'const') {
            this.emit(insn(BPF_ALU | op | BPF_K, R0, 0, 0, v.b.v | 0));
            break;
          }
          if (w.stage === 1) {
            w.stage = 2;
            w.slot = this.spill();
            work.push({ v: v.b, stage: 0 });
            continue;
          }
          this.unspill(R1, w.slot!);
          if (v.op === '/' || v.op === '%') this.emit(insn(BPF_JMP32 | BPF_JEQ | BPF_K, R0, 0, 0, 0), this.reject); // classic BPF: x/0 drops
          this.emit(insn(BPF_ALU | op | BPF_X, R1, R0));
          this.emit(insn(BPF_ALU | BPF_MOV | BPF_X, R0, R1));
          break;
        }
        case 'load': {
          const off = splitOffset(v.off);
          const size = SIZE[v.size];
          if (off.rest === undefined) {
            if (off.ihl === undefined) this.emit(insn(BPF_LD | BPF_ABS | size, 0, 0, 0, off.c));
            else {
              this.ihl(off.ihl);
              this.emit(insn(BPF_LD | BPF_IND | size, 0, R9, 0, off.c));
            }
            break;
          }
          if (w.stage++ === 0) {
            work.push({ v: off.rest, stage: 0 });
            continue;
          }
          this.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, R7, R0));
          if (off.ihl !== undefined) {
            this.ihl(off.ihl);
            this.emit(insn(BPF_ALU64 | BPF_ADD | BPF_X, R7, R9));
          }
          this.emit(insn(BPF_LD | BPF_IND | size, 0, R7, 0, off.c));
          break;
        }
      }
      work.pop();
    }
  }

  /**
   * r9 = 4 * IHL of the IPv4 header at `at` (a constant or a variable plus a constant), marked so
   * that optimize.ts drops the computation where every path already has it in r9.
   */
  private ihl(at: Val): void {
    const o = splitOffset(at);
    const unit: Instruction[] = [];
    let key: string;
    if (o.rest === undefined && o.ihl === undefined) {
      unit.push(insn(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, o.c));
      key = `c${o.c}`;
    } else if (o.rest?.k === 'var' && o.ihl === undefined) {
      // r1, not r7: a load at a computed offset may already hold its offset in r7
      unit.push(insn(BPF_LDX | BPF_MEM | BPF_DW, R1, FP, varSlot(o.rest.id)), insn(BPF_LD | BPF_IND | BPF_B, 0, R1, 0, o.c));
      key = `v${o.rest.id}+${o.c}`;
    } else throw new Error('codegen: an IPv4 header length at an offset that is not a variable plus a constant');
    unit.push(insn(BPF_ALU | BPF_AND | BPF_K, R0, 0, 0, 0xf), insn(BPF_ALU | BPF_LSH | BPF_K, R0, 0, 0, 2), insn(BPF_ALU64 | BPF_MOV | BPF_X, R9, R0));
    unit.forEach((u, k) => this.items.push(k === 0 ? insnItem(u, -1, key, unit.length) : insnItem(u)));
  }

  /** Push r0 to a fresh stack slot; returns the slot's frame offset. */
  private spill(): number {
    if (this.vars + this.depth >= MAX_SLOTS) throw new Error('filter expression nests too deeply');
    const off = varSlot(this.vars + this.depth++);
    this.emit(insn(BPF_STX | BPF_MEM | BPF_DW, FP, R0, off));
    return off;
  }

  private unspill(reg: number, slot: number): void {
    this.emit(insn(BPF_LDX | BPF_MEM | BPF_DW, reg, FP, slot));
    this.depth--;
  }

  // ---- labels ----

  private label(): Label {
    return this.labels++;
  }

  private place(l: Label): void {
    this.items.push(labelItem(l));
  }

  private emit(i: Instruction, target?: Label): void {
    this.items.push(insnItem(i, target));
  }

  private jump(l: Label): void {
    this.emit(insn(BPF_JMP | BPF_JA), l);
  }
}

const varSlot = (i: number): number => -8 * (i + 1);

/**
 * An offset as `c + ihl + rest`: the constant part goes in the load's immediate, an IPv4 header
 * length in r9, anything else is computed into r7.
 */
function splitOffset(off: Val): { c: number; ihl?: Val; rest?: Val } {
  let c = 0;
  let ihl: Val | undefined;
  const rest: Val[] = [];
  const work = [off];
  while (work.length) {
    const v = work.pop()!;
    if (v.k === 'bin' && v.op === '+') work.push(v.b, v.a);
    else if (v.k === 'const') c = (c + v.v) | 0;
    else if (v.k === 'ihl' && ihl === undefined) ihl = v.off;
    else rest.push(v);
  }
  const sum = rest.length ? rest.reduce((a, b) => ({ k: 'bin', op: '+', a, b })) : undefined;
  return { c, ihl, rest: sum };
}

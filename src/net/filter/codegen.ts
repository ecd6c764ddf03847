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
import { Builder, FP, R0, R1, R6, R7, R9, imm, type JmpCond } from '../../isa/builder.js';
import type { AluOp, JmpOp } from '../../isa/form.js';
import { negatedCondition } from '../../isa/code.js';
import type { Instruction } from '../../isa/instruction.js';
import type { BinOp, CmpOp, MetaField, Pred, Val } from './ir.js';
import { link, type IhlMark } from './optimize.js';

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

const TYPE = { 1: 'u8', 2: 'u16', 4: 'u32' } as const;
const ALU_OP: Readonly<Record<BinOp, AluOp>> = {
  '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '&': 'and', '|': 'or', '^': 'xor', '<<': 'lsh', '>>': 'rsh',
};
const JMP_OP: Readonly<Record<CmpOp, JmpOp>> = { eq: 'jeq', ne: 'jne', gt: 'jgt', ge: 'jge', lt: 'jlt', le: 'jle', set: 'jset' };
const MAX_SLOTS = 512 / 8;

export function codegen(pred: Pred, o: CodegenOptions = {}): Instruction[] {
  return new Codegen(o).program(pred);
}

type Label = string;
type PredWork = { p: Pred; t: Label; f: Label } | { place: Label };
/** a value to compute into r0; `stage` counts the steps already done for it, `slot` a spill */
type ValWork = { v: Val; stage: number; slot?: number };

class Codegen {
  private readonly b = new Builder();
  /** where codegen's ihl() computations are, for optimize.ts */
  private readonly ihls: IhlMark[] = [];
  /** spilled values live on the stack */
  private depth = 0;
  private readonly vars: number;
  private readonly accept: Label;
  private readonly reject: Label;

  constructor(private readonly o: CodegenOptions) {
    this.vars = o.vars ?? 0;
    this.accept = this.b.newLabel('accept');
    this.reject = this.b.newLabel('reject');
  }

  program(p: Pred): Instruction[] {
    const b = this.b;
    b.mov64(R6, R1);
    if (this.vars) {
      b.mov64(R0, imm(0));
      for (let v = 0; v < this.vars; v++) b.stx('u64', FP, R0, varSlot(v));
    }
    this.pred(p, this.accept, this.reject);
    const exits = [
      { label: this.reject, insns: new Builder().mov64(R0, imm(0)).exit().build().insns },
      { label: this.accept, insns: new Builder().mov64(R0, imm(this.o.snaplen ?? DEFAULT_SNAPLEN)).exit().build().insns },
    ];
    for (const e of exits) b.label(e.label).raw(...e.insns);
    let next = b.labelCount;
    return link(b.items(), this.ihls, () => next++, exits.map((e) => ({ label: b.labelOf(e.label), insns: e.insns })));
  }

  // ---- predicates: jump to t when true, to f when false ----

  private pred(root: Pred, t: Label, f: Label): void {
    const b = this.b;
    const work: PredWork[] = [{ p: root, t, f }];
    while (work.length) {
      const w = work.pop()!;
      if ('place' in w) {
        b.label(w.place);
        continue;
      }
      const p = w.p;
      const top = work[work.length - 1];
      /** jump to `l`, unless `l` is placed right here */
      const goTo = (l: Label): void => {
        if (!(top && 'place' in top && top.place === l)) b.ja(l);
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
          const mid = b.newLabel();
          work.push({ p: p.b, t: w.t, f: w.f }, { place: mid }, p.k === 'and' ? { p: p.a, t: mid, f: w.f } : { p: p.a, t: w.t, f: mid });
          break;
        }
        case 'cmp': {
          this.val(p.a);
          // the label placed right after this test (if any) needs no jump: fall into it
          const next = top && 'place' in top ? top.place : undefined;
          let op: JmpCond = JMP_OP[p.op];
          let to = w.t;
          let other: Label | undefined = w.f;
          const negated = negatedCondition(JMP_OP[p.op]);
          if (next === w.f) other = undefined;
          else if (next === w.t && negated !== undefined) {
            op = negated;
            to = w.f;
            other = undefined;
          }
          if (p.b.k === 'const') b.jmp32(op, R0, imm(p.b.v | 0), to);
          else {
            const slot = this.spill();
            this.val(p.b);
            this.unspill(R1, slot);
            b.jmp32(op, R1, R0, to);
          }
          if (other !== undefined) b.ja(other);
          break;
        }
        case 'set':
          this.val(p.v);
          b.stx('u64', FP, R0, varSlot(p.id));
          goTo(w.t);
          break;
      }
    }
  }

  // ---- values: result in r0 (zero-extended 32 bits) ----

  private val(root: Val): void {
    const b = this.b;
    const work: ValWork[] = [{ v: root, stage: 0 }];
    while (work.length) {
      const w = work[work.length - 1]!;
      const v = w.v;
      switch (v.k) {
        case 'const':
          b.mov32(R0, imm(v.v | 0));
          break;
        case 'len':
          b.ldx('u32', R0, R6, SKB_LEN);
          break;
        case 'meta':
          b.ldx('u32', R0, R6, META[v.field]);
          break;
        case 'var':
          b.ldx('u64', R0, FP, varSlot(v.id));
          break;
        case 'ihl':
          this.ihl(v.off);
          b.mov64(R0, R9);
          break;
        case 'neg':
          if (w.stage++ === 0) {
            work.push({ v: v.a, stage: 0 });
            continue;
          }
          b.neg32(R0);
          break;
        case 'bin': {
          const op = ALU_OP[v.op];
          if (w.stage === 0) {
            w.stage = 1;
            work.push({ v: v.a, stage: 0 });
            continue;
          }
          if (v.b.k === 'const') {
            b.alu32(op, R0, imm(v.b.v | 0));
            break;
          }
          if (w.stage === 1) {
            w.stage = 2;
            w.slot = this.spill();
            work.push({ v: v.b, stage: 0 });
            continue;
          }
          this.unspill(R1, w.slot!);
          if (v.op === '/' || v.op === '%') b.jmp32('==', R0, imm(0), this.reject); // classic BPF: x/0 drops
          b.alu32(op, R1, R0).mov32(R0, R1);
          break;
        }
        case 'load': {
          const off = splitOffset(v.off);
          const type = TYPE[v.size];
          if (off.rest === undefined) {
            if (off.ihl === undefined) b.ldAbs(type, off.c);
            else {
              this.ihl(off.ihl);
              b.ldInd(type, R9, off.c);
            }
            break;
          }
          if (w.stage++ === 0) {
            work.push({ v: off.rest, stage: 0 });
            continue;
          }
          b.mov64(R7, R0);
          if (off.ihl !== undefined) {
            this.ihl(off.ihl);
            b.add64(R7, R9);
          }
          b.ldInd(type, R7, off.c);
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
    const b = this.b;
    const o = splitOffset(at);
    const first = b.items().length;
    let key: string;
    if (o.rest === undefined && o.ihl === undefined) {
      b.ldAbs('u8', o.c);
      key = `c${o.c}`;
    } else if (o.rest?.k === 'var' && o.ihl === undefined) {
      // r1, not r7: a load at a computed offset may already hold its offset in r7
      b.ldx('u64', R1, FP, varSlot(o.rest.id)).ldInd('u8', R1, o.c);
      key = `v${o.rest.id}+${o.c}`;
    } else throw new Error('codegen: an IPv4 header length at an offset that is not a variable plus a constant');
    b.and32(R0, imm(0xf)).lsh32(R0, imm(2)).mov64(R9, R0);
    this.ihls.push({ at: first, key, length: b.items().length - first });
  }

  /** Push r0 to a fresh stack slot; returns the slot's frame offset. */
  private spill(): number {
    if (this.vars + this.depth >= MAX_SLOTS) throw new Error('filter expression nests too deeply');
    const off = varSlot(this.vars + this.depth++);
    this.b.stx('u64', FP, R0, off);
    return off;
  }

  private unspill(reg: number, slot: number): void {
    this.b.ldx('u64', reg, FP, slot);
    this.depth--;
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

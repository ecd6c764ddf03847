// Labelled code: instruction slots interleaved with labels, jumps naming their target label instead of
// an offset, each slot with the source span it came from. What code generators emit (through the
// builder), what optimisers rewrite, and what resolveLabels turns into a program: the one place where
// labels become offsets (and a `goto` too far for 16 bits becomes `gotol`).
import { BPF_CALL, BPF_CLASS, BPF_EXIT, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K, BPF_OP, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_X } from './opcodes.js';
import { JMP_OPS, type JmpOp } from './form.js';
import { insn, LDDW, type Instruction } from './instruction.js';

/** Where generated code came from: 1-based line and column of its start, byte offsets [start, end). */
export interface SourceSpan {
  line: number;
  col: number;
  start: number;
  end: number;
}

/** A label: a small number, dense from 0. */
export type Label = number;

/**
 * A label placed here (label >= 0), or an instruction slot (label -1) with the label it jumps to
 * (target, -1 for none). One object shape for both, so passes over hundreds of thousands of them
 * stay monomorphic.
 */
export interface CodeItem {
  label: Label;
  insn: Instruction;
  target: Label;
  span: SourceSpan | undefined;
}

const NO_INSN: Instruction = insn(0);
export const labelItem = (label: Label): CodeItem => ({ label, insn: NO_INSN, target: -1, span: undefined });
export const insnItem = (i: Instruction, target: Label = -1, span?: SourceSpan): CodeItem => ({ label: -1, insn: i, target, span });

/** A jump whose label cannot be resolved: never placed, or too far for a 16-bit offset. */
export class LabelError extends Error {
  constructor(
    message: string,
    readonly why: 'undefined' | 'far',
    /** the jump: its item (with its span) and slot */
    readonly item: CodeItem,
    readonly slot: number,
    /** the distance in slots ('far') */
    readonly delta = 0,
  ) {
    super(message);
  }
}

export interface ResolveOptions {
  /** let a `goto` whose target is beyond 16 bits become `gotol` (cpu v4); default true */
  longJumps?: boolean;
  /** a label's name for messages (default `L<n>`) */
  labelName?: (l: Label) => string;
  /** a label may be placed after the last instruction (text that is not a whole program yet) */
  labelAtEnd?: boolean;
}

export interface ResolvedCode {
  insns: Instruction[];
  /** the source span of each slot */
  spans: (SourceSpan | undefined)[];
  /** the slot of each label (-1 where a label was never placed) */
  at: Int32Array;
}

/**
 * Where a jump's pc-relative distance goes: the 32-bit imm for gotol, bpf-to-bpf calls and lddw of a
 * function's address (BPF_PSEUDO_FUNC); the 16-bit off for every other jump (goto, conditional
 * jumps, may_goto).
 */
function inImm(i: Instruction): boolean {
  return i.code === (BPF_JMP32 | BPF_JA) || (i.code === (BPF_JMP | BPF_CALL) && i.src === BPF_PSEUDO_CALL) || (i.code === LDDW && i.src === BPF_PSEUDO_FUNC);
}

/** Labels → offsets. Throws LabelError for a label never placed, or a conditional jump out of 16-bit reach. */
export function resolveLabels(items: readonly CodeItem[], o: ResolveOptions = {}): ResolvedCode {
  let max = -1;
  for (const it of items) {
    if (it.label > max) max = it.label;
    if (it.target > max) max = it.target;
  }
  const at = new Int32Array(max + 1).fill(-1);
  let pc = 0;
  for (const it of items) {
    if (it.label >= 0) at[it.label] = pc;
    else pc++;
  }
  const name = o.labelName ?? ((l: Label) => `L${l}`);
  const insns: Instruction[] = new Array(pc);
  const spans: (SourceSpan | undefined)[] = new Array(pc);
  let slot = 0;
  for (const it of items) {
    if (it.label >= 0) continue;
    spans[slot] = it.span;
    if (it.target < 0) {
      insns[slot++] = it.insn;
      continue;
    }
    const target = at[it.target]!;
    if (target < 0) throw new LabelError(`undefined label '${name(it.target)}' (used at slot ${slot})`, 'undefined', it, slot);
    if (target >= pc && !o.labelAtEnd) throw new LabelError(`label '${name(it.target)}' (used at slot ${slot}) is past the last instruction`, 'undefined', it, slot);
    const delta = target - (slot + 1);
    const i = it.insn;
    if (inImm(i)) insns[slot] = { ...i, imm: delta };
    else if (delta >= -0x8000 && delta <= 0x7fff) insns[slot] = { ...i, off: delta };
    else if (i.code === (BPF_JMP | BPF_JA) && o.longJumps !== false) insns[slot] = { ...i, code: BPF_JMP32 | BPF_JA, off: 0, imm: delta };
    else {
      const ja = i.code === (BPF_JMP | BPF_JA);
      throw new LabelError(
        `jump at slot ${slot} to '${name(it.target)}' spans ${delta} slots, beyond a 16-bit offset` +
          (ja ? ' (gotol disabled by longJumps: false)' : ' (invert the condition and use ja/gotol)'),
        'far', it, slot, delta,
      );
    }
    slot++;
  }
  return { insns, spans, at };
}

/** Is this a goto (16-bit `ja` or 32-bit `gotol`)? */
export const isGoto = (i: Instruction): boolean => i.code === (BPF_JMP | BPF_JA) || i.code === (BPF_JMP32 | BPF_JA);
/** Does control never continue past this instruction (a goto or exit)? */
export const endsFlow = (i: Instruction): boolean => isGoto(i) || i.code === (BPF_JMP | BPF_EXIT);

const NEGATED: Partial<Record<JmpOp, JmpOp>> = {
  jeq: 'jne', jne: 'jeq', jgt: 'jle', jle: 'jgt', jge: 'jlt', jlt: 'jge', jsgt: 'jsle', jsle: 'jsgt', jsge: 'jslt', jslt: 'jsge',
};
const NEGATED_OP = new Map(Object.entries(NEGATED).map(([a, b]) => [JMP_OPS[a as JmpOp], JMP_OPS[b]]));

/** A condition's negation (jeq ↔ jne, jgt ↔ jle, ...); undefined for jset, which has none. */
export const negatedCondition = (op: JmpOp): JmpOp | undefined => NEGATED[op];

/** The conditional jump with its condition negated (`if r0 == 1` → `if r0 != 1`); undefined for jset and what is no conditional jump. */
export function negateJump(i: Instruction): Instruction | undefined {
  const cls = BPF_CLASS(i.code);
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return undefined;
  const op = NEGATED_OP.get(BPF_OP(i.code));
  return op === undefined ? undefined : { ...i, code: cls | op | (i.code & BPF_X ? BPF_X : BPF_K) };
}

// Operators on scalars (arithmetic, comparison, logic) and string equality.
import { FP, R0, R1, imm, type JmpCond } from '../../isa/builder.js';
import type { AluOp } from '../../isa/form.js';
import type { Expr } from '../ast.js';
import type { GenContext } from '../builtins/context.js';
import { compareBytes } from '../builtins/strings.js';
import { isScalar, sizeOf } from '../types.js';

const ALU: Readonly<Record<string, AluOp>> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '&': 'and', '|': 'or', '^': 'xor', '<<': 'lsh', '>>': 'rsh' };
const COMPARE: Readonly<Record<string, JmpCond>> = { '==': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const SIGNED_COMPARE: Readonly<Record<string, JmpCond>> = { '==': '==', '!=': '!=', '<': 's<', '<=': 's<=', '>': 's>', '>=': 's>=' };

/** r0 = r0 op r1 (comparisons give 0 or 1). */
export function binop(g: GenContext, op: string, signed: boolean): void {
  const b = g.b;
  const alu = op === '>>' && signed ? 'arsh' : ALU[op];
  if (alu) {
    b.alu64(alu, R0, R1);
    return;
  }
  const yes = b.newLabel('true');
  const end = b.newLabel('cmp_end');
  b.jmp((signed ? SIGNED_COMPARE : COMPARE)[op]!, R0, R1, yes).mov64(R0, imm(0)).ja(end).label(yes).mov64(R0, imm(1)).label(end);
}

/** r0 = 1 if r0 is 0, else 0. */
export function not(g: GenContext): void {
  const z = g.b.newLabel('zero');
  const end = g.b.newLabel('not_end');
  g.b.jmp('==', R0, imm(0), z).mov64(R0, imm(0)).ja(end).label(z).mov64(R0, imm(1)).label(end);
}

/** r0 = left op right. */
export function binary(g: GenContext, x: Extract<Expr, { kind: 'binary' }>): void {
  const b = g.b;
  const lt = g.type(x.left);
  const rt = g.type(x.right);
  if (x.op === '&&' || x.op === '||') {
    // short-circuit: the first operand that decides jumps to `short`
    const and = x.op === '&&';
    const short = b.newLabel('short');
    const end = b.newLabel('logic_end');
    g.scalar(x.left);
    b.jmp(and ? '==' : '!=', R0, imm(0), short);
    g.scalar(x.right);
    b.jmp(and ? '==' : '!=', R0, imm(0), short).mov64(R0, imm(and ? 1 : 0)).ja(end).label(short).mov64(R0, imm(and ? 0 : 1)).label(end);
    return;
  }
  if (!isScalar(lt) || !isScalar(rt)) return strCompare(g, x);
  const m = g.mark();
  const tmp = g.alloc(8, x.pos);
  g.scalar(x.left);
  b.stx('u64', FP, R0, tmp);
  g.scalar(x.right);
  b.mov64(R1, R0).ldx('u64', R0, FP, tmp);
  g.release(m);
  binop(g, x.op, lt.k === 'int' && lt.signed && rt.k === 'int' && rt.signed);
}

/** r0 = string equality (== / !=), byte by byte up to the first NUL. */
function strCompare(g: GenContext, x: Extract<Expr, { kind: 'binary' }>): void {
  const b = g.b;
  const lt = g.type(x.left);
  const rt = g.type(x.right);
  const m = g.mark();
  const a = g.alloc(sizeOf(lt), x.pos);
  g.into(x.left, a, lt);
  const equal = x.op === '==' ? 1 : 0;
  if (x.right.kind === 'str') {
    // against a literal: compare with immediates, the NUL included
    const ne = b.newLabel('ne');
    const end = b.newLabel('cmp_end');
    const bytes = [...new TextEncoder().encode(x.right.value), 0];
    if (bytes.length > sizeOf(lt)) b.mov64(R0, imm(1 - equal)); // longer than the string can be
    else {
      for (let i = 0; i < bytes.length; i++) b.ldx('u8', R1, FP, a + i).jmp('!=', R1, imm(bytes[i]!), ne);
      b.mov64(R0, imm(equal)).ja(end).label(ne).mov64(R0, imm(1 - equal)).label(end);
    }
  } else if (lt.k === 'buf' && rt.k === 'buf') {
    // buffers: the lengths, then every byte (NULs included)
    const c = g.alloc(sizeOf(rt), x.pos);
    g.into(x.right, c, rt);
    const ne = b.newLabel('ne');
    const end = b.newLabel('cmp_end');
    b.ldx('u64', R0, FP, a).ldx('u64', R1, FP, c).jmp('!=', R0, R1, ne);
    for (let i = 8; i < Math.min(sizeOf(lt), sizeOf(rt)); i++) b.ldx('u8', R0, FP, a + i).ldx('u8', R1, FP, c + i).jmp('!=', R0, R1, ne);
    b.mov64(R0, imm(equal)).ja(end).label(ne).mov64(R0, imm(1 - equal)).label(end);
  } else {
    const c = g.alloc(sizeOf(rt), x.pos);
    g.into(x.right, c, rt);
    compareBytes(g, a, c, Math.min(sizeOf(lt), sizeOf(rt)), equal);
  }
  g.release(m);
}

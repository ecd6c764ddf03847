// Strings and buffers: str() reads a NUL-terminated string from an address, buf() bytes of a given
// length (printed hex-escaped), strncmp() compares two strings up to a length.
import { FP, R0, R1, R2, R3, imm } from '../../isa/builder.js';
import type { CallExpr, Expr } from '../ast.js';
import { STRLEN, UINT64, align8, sizeOf, typeName, type SType } from '../types.js';
import { checkArgCount, type BuiltinFunction, type GenContext } from './context.js';

/** r0 = whether the strings at fp+a and fp+b differ in their first `count` bytes (up to a NUL). */
export function compareBytes(g: GenContext, a: number, b: number, count: number, equal: 0 | 1): void {
  const x = g.b;
  const ne = x.newLabel('ne');
  const eq = x.newLabel('eq');
  const end = x.newLabel('cmp_end');
  for (let i = 0; i < count; i++) x.ldx('u8', R1, FP, a + i).ldx('u8', R2, FP, b + i).jmp('!=', R1, R2, ne).jmp('==', R1, imm(0), eq);
  x.label(eq).mov64(R0, imm(equal)).ja(end);
  x.label(ne).mov64(R0, imm(1 - equal));
  x.label(end);
}

export const FUNCTIONS_OF_STRINGS: BuiltinFunction[] = [
  {
    name: 'str', signature: 'str(ptr[, len])',
    check: (c, e) => {
      checkArgCount(c, e, 1, 2);
      const t = c.expr(e.args[0]!);
      if (t.k === 'str') return t;
      if (t.k !== 'ptr' && t.k !== 'int' && t.k !== 'array') throw c.err(`str() expects a pointer or an integer (${typeName(t)} provided)`, e.args[0]!.pos);
      let size = STRLEN;
      const n = e.args[1];
      if (n) {
        c.expr(n);
        if (n.kind === 'int') size = Math.min(STRLEN, Number(n.value) + 1);
        else if (n.kind !== 'var' && n.kind !== 'builtin' && n.kind !== 'binary') throw c.err('str(): length must be an integer', n.pos);
      }
      return { k: 'str', size: Math.max(1, size) };
    },
    into: (g, e, off, t) => {
      const a = e.args[0]!;
      const at = g.type(a);
      if (at.k === 'str' || at.k === 'array') return g.into(a, off, t);
      const size = align8(sizeOf(t));
      const n = Math.min(sizeOf(g.type(e)), sizeOf(t));
      g.zero(off, size);
      const len = e.args[1];
      if (!len) {
        g.scalar(a);
        return g.readInto(off, n, size, true);
      }
      // a run-time length (plus the NUL), clamped to the buffer; 0 reads nothing
      const b = g.b;
      const ok = b.newLabel('len_ok');
      const skip = b.newLabel('skip');
      g.scalar(len);
      b.add64(R0, imm(1)).jmp('<=', R0, imm(n), ok).mov64(R0, imm(n)).label(ok);
      const tmp = g.alloc(8, e.pos);
      b.stx('u64', FP, R0, tmp);
      g.scalar(a);
      b.mov64(R3, R0).ldx('u64', R2, FP, tmp).jmp('==', R2, imm(0), skip).mov64(R1, FP).add64(R1, imm(off)).call('probe_read_str').label(skip);
    },
  },
  {
    name: 'buf', signature: 'buf(ptr, len)',
    check: (c, e) => {
      checkArgCount(c, e, 1, 2);
      const t = c.expr(e.args[0]!);
      let size = t.k === 'array' ? t.len * (t.elem.k === 'int' ? t.elem.size : 8) : 0;
      const n = e.args[1];
      if (n) {
        const lt = c.expr(n);
        if (lt.k !== 'int') throw c.err('buf(): length must be an integer', n.pos);
        // a run-time length is bounded by the buffer of the default string size
        size = n.kind === 'int' ? Number(n.value) : STRLEN;
      }
      if (!size) throw c.err('buf(): the length is needed for a pointer', e.pos);
      return { k: 'buf', size: Math.min(size, STRLEN) };
    },
    into: (g, e, off, t) => buf(g, e, off, align8(sizeOf(t))),
  },
  {
    name: 'strncmp', signature: 'strncmp(a, b, n)',
    check: (c, e) => {
      checkArgCount(c, e, 3);
      const [a, b, n] = e.args as [Expr, Expr, Expr];
      const x = c.expr(a);
      const y = c.expr(b);
      if (x.k !== 'str' || y.k !== 'str' || n.kind !== 'int') throw c.err('strncmp(string, string, integer literal)', e.pos);
      c.expr(n);
      return UINT64;
    },
    scalar: (g, e) => {
      const m = g.mark();
      const [a, b, n] = e.args as [Expr, Expr, Extract<Expr, { kind: 'int' }>];
      const at = g.type(a);
      const bt = g.type(b);
      const pa = g.alloc(sizeOf(at), e.pos);
      g.into(a, pa, at);
      const pb = g.alloc(sizeOf(bt), e.pos);
      g.into(b, pb, bt);
      compareBytes(g, pa, pb, Math.min(Number(n.value), sizeOf(at), sizeOf(bt)), 0);
      g.release(m);
    },
  },
];

/** buf(): [u64 length][bytes], from a tracepoint array, a string, or memory at an address. */
function buf(g: GenContext, e: CallExpr, off: number, size: number): void {
  const b = g.b;
  const bt = g.type(e) as Extract<SType, { k: 'buf' }>;
  g.zero(off, size);
  b.mov64(R0, imm(bt.size)).stx('u64', FP, R0, off);
  const a = e.args[0]!;
  const at = g.type(a);
  const field = g.u.argFields.get(a);
  if (at.k === 'array' && field) return g.ctxCopy(field.offset, off + 8, bt.size);
  if (at.k === 'str') {
    const tmp = g.alloc(sizeOf(at), e.pos);
    g.into(a, tmp, at);
    for (let i = 0; i < Math.min(bt.size, sizeOf(at)); i++) b.ldx('u8', R1, FP, tmp + i).stx('u8', FP, R1, off + 8 + i);
    return;
  }
  const len = e.args[1];
  if (len && len.kind !== 'int') {
    // run-time length, clamped to the buffer
    const tmp = g.alloc(8, e.pos);
    const ok = b.newLabel('len_ok');
    g.scalar(a);
    b.stx('u64', FP, R0, tmp);
    g.scalar(len);
    b.jmp('<=', R0, imm(bt.size), ok).mov64(R0, imm(bt.size)).label(ok);
    b.stx('u64', FP, R0, off).mov64(R2, R0).ldx('u64', R3, FP, tmp).mov64(R1, FP).add64(R1, imm(off + 8)).call('probe_read');
    return;
  }
  g.scalar(a);
  b.mov64(R3, R0).mov64(R1, FP).add64(R1, imm(off + 8)).mov64(R2, imm(bt.size)).call('probe_read');
}

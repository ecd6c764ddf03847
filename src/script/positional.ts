// Positional parameters are literals in bpftrace: `$1` is the number or the string given on the
// command line wherever it is written, `$#` their count. Replacing them in the tree before the
// checker lets them stand everywhere a literal may: unroll($1), i:ms:$1, print(@, $1),
// str($1 + 1) (the string from its second character), kaddr(str($1)).
import type { AttachPoint, Expr, Program } from './ast.js';

const INTEGER = /^-?(0x[0-9a-f]+|\d+)$/i;

/** A number as C writes it: 0x hex, a leading 0 octal, else decimal. */
function integer(v: string): bigint {
  const neg = v.startsWith('-');
  const d = neg ? v.slice(1) : v;
  const n = /^0[0-7]+$/.test(d) ? BigInt(`0o${d.slice(1)}`) : BigInt(d);
  return neg ? -n : n;
}

export function substitutePositionals(program: Program, params: string[]): void {
  const value = (n: number): string => params[n - 1] ?? '';
  const literal = (x: Extract<Expr, { kind: 'positional' }>): Expr => {
    if (x.n === 0) return { kind: 'int', value: BigInt(params.length), pos: x.pos };
    const v = value(x.n);
    if (v === '') return { kind: 'int', value: 0n, pos: x.pos };
    if (INTEGER.test(v)) return { kind: 'int', value: integer(v), pos: x.pos };
    return { kind: 'str', value: v, pos: x.pos };
  };
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = visit(node[i]);
      return node;
    }
    if (!node || typeof node !== 'object') return node;
    const o = node as Record<string, unknown>;
    if (o.kind === 'positional') return literal(o as unknown as Extract<Expr, { kind: 'positional' }>);
    // str($1) is the parameter's text, a number's digits too (bpftrace: `str($1)` with 1 prints "1")
    if (o.kind === 'call' && o.name === 'str' && (o.args as Expr[]).length === 1 && (o.args as Expr[])[0]!.kind === 'positional') {
      const p = (o.args as Extract<Expr, { kind: 'positional' }>[])[0]!;
      if (p.n > 0) return { kind: 'str', value: value(p.n), pos: p.pos };
    }
    for (const k of Object.keys(o)) if (k !== 'pos' && k !== 'opPos') o[k] = visit(o[k]);
    // str("literal" + n): the literal from its n-th byte (bpftrace's str($1 + 1))
    if (o.kind === 'call' && o.name === 'str') {
      const a = (o.args as Expr[])[0];
      if (a?.kind === 'binary' && a.op === '+' && a.left.kind === 'str' && a.right.kind === 'int') {
        (o.args as Expr[])[0] = { kind: 'str', value: a.left.value.slice(Number(a.right.value)), pos: a.pos };
      }
      const b = (o.args as Expr[])[0];
      if (b?.kind === 'str' && (o.args as Expr[]).length === 1) return b;
    }
    return o;
  };
  for (const p of program.probes) {
    for (const ap of p.attachPoints) substituteAttachPoint(ap, value);
    visit(p);
  }
}

function substituteAttachPoint(ap: AttachPoint, value: (n: number) => string): void {
  const sub = (s: string): string => s.replace(/\$(\d+)/g, (_, n: string) => value(Number(n)));
  ap.raw = sub(ap.raw);
  ap.parts = ap.parts.map(sub);
}

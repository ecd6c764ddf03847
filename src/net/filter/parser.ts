// Recursive-descent parser for pcap-filter expressions, following libpcap's grammar: `and` and
// `or` have EQUAL precedence and associate left to right; `not` binds tightest; an id written
// without qualifiers repeats the most recent ones (`host a or b` = `host a or host b`).
import type { Arith, ArithOp, DirQual, Expr, Id, ProtoName, Qualifiers, RelOp, TypeQual } from './ast.js';
import { FilterSyntaxError } from './error.js';
import { CONSTANTS } from './names.js';
import { tokenize, type Token } from './lexer.js';

const PROTOS: ReadonlySet<string> = new Set<ProtoName>(['ether', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp', 'pim', 'vrrp', 'ah', 'esp']);
const TYPES: ReadonlySet<string> = new Set<TypeQual>(['host', 'net', 'port', 'portrange', 'proto', 'gateway']);
const KEYWORDS: ReadonlySet<string> = new Set([
  ...PROTOS, ...TYPES, 'link', 'src', 'dst', 'and', 'or', 'not', 'mask', 'less', 'greater', 'broadcast',
  'multicast', 'vlan', 'len', 'protochain', 'inbound', 'outbound',
]);
const REL_OPS: ReadonlySet<string> = new Set(['>', '<', '>=', '<=', '=', '==', '!=']);
const ARITH_OPS: ReadonlySet<string> = new Set(['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>']);

/** Binary operator precedence (higher binds tighter); `^` is special-cased as libpcap's grammar does. */
const PRECEDENCE: Readonly<Record<string, number>> = { '|': 1, '&': 2, '<<': 3, '>>': 3, '+': 4, '-': 4, '*': 5, '/': 5, '%': 5 };

/** Parse a filter expression. An empty (or all-blank) expression gives undefined: accept everything. */
export function parseFilter(source: string): Expr | undefined {
  return new Parser(source).program();
}

interface Parsed {
  expr: Expr;
  /** qualifiers a following bare id repeats; undefined where libpcap would reject a bare id */
  quals?: Qualifiers;
}

class Parser {
  private readonly toks: Token[];
  private i = 0;

  constructor(private readonly src: string) {
    this.toks = tokenize(src);
  }

  program(): Expr | undefined {
    if (this.peek().kind === 'eof') return undefined;
    const { expr } = this.expr(undefined);
    const t = this.peek();
    if (t.kind !== 'eof') throw this.error(t.text === ')' ? "unbalanced ')'" : `unexpected '${t.text}'`, t);
    return expr;
  }

  // ---- boolean level ----

  private expr(ctx: Qualifiers | undefined): Parsed {
    let left = this.term(ctx);
    for (;;) {
      const t = this.peek();
      const op = this.isWord(t, 'and') || t.text === '&&' ? 'and' : this.isWord(t, 'or') || t.text === '||' ? 'or' : undefined;
      if (!op || t.kind === 'eof') return left;
      this.i++;
      const right = this.term(left.quals);
      left = { expr: { kind: op, left: left.expr, right: right.expr }, quals: right.quals };
    }
  }

  private term(ctx: Qualifiers | undefined): Parsed {
    const t = this.peek();
    if (this.isWord(t, 'not') || t.text === '!') {
      this.i++;
      const inner = this.term(ctx);
      return { expr: { kind: 'not', operand: inner.expr }, quals: inner.quals };
    }
    return this.rterm(ctx);
  }

  private rterm(ctx: Qualifiers | undefined): Parsed {
    const t = this.peek();
    if (t.kind === 'eof') throw this.error('expression ends too early', t);
    if (t.text === '(' && t.kind === 'op') {
      // '(' starts either an arithmetic relation or a parenthesised expression; try the relation
      // first, and on failure report whichever attempt got further.
      const start = this.i;
      let relErr: FilterSyntaxError | undefined;
      try {
        return { expr: this.relation() };
      } catch (e) {
        if (!(e instanceof FilterSyntaxError)) throw e;
        relErr = e;
      }
      this.i = start + 1;
      try {
        const inner = this.expr(ctx);
        this.expect(')', 'missing )');
        return { expr: inner.expr, quals: ctx };
      } catch (e) {
        if (e instanceof FilterSyntaxError && relErr.column > e.column) throw relErr;
        throw e;
      }
    }
    if (this.startsArith(t)) return { expr: this.relation() };
    if (t.kind === 'name' && !t.escaped) {
      const w = t.text;
      if (w === 'less' || w === 'greater') {
        this.i++;
        const n = this.expectNum();
        return { expr: { kind: 'length', op: w === 'less' ? '<=' : '>=', value: n, pos: t.pos } };
      }
      if (w === 'vlan') {
        this.i++;
        const n = this.peek();
        if (n.kind === 'num') {
          this.i++;
          if (n.value! > 4095) throw this.error('VLAN id must be 0-4095', n);
          return { expr: { kind: 'vlan', id: n.value!, pos: t.pos } };
        }
        return { expr: { kind: 'vlan', pos: t.pos } };
      }
      if (w === 'broadcast' || w === 'multicast') {
        this.i++;
        return { expr: { kind: w, pos: t.pos } };
      }
      if (w === 'inbound' || w === 'outbound') {
        this.i++;
        return { expr: { kind: 'direction', outbound: w === 'outbound', pos: t.pos } };
      }
      if (w === 'protochain') throw this.error(`'${w}' is not supported by tsbpf`, t);
      if (PROTOS.has(w) || w === 'link' || this.isDir(t) || TYPES.has(w)) return this.qualified();
    }
    // a bare id: repeats the qualifiers in effect
    if (this.isIdStart(t)) {
      if (!ctx) throw this.error(`'${t.text}' needs a qualifier here (host, net, port, ...)`, t);
      const quals = { ...ctx, pos: t.pos };
      return { expr: { kind: 'primitive', qual: quals, id: this.id() }, quals };
    }
    throw this.error(t.text === ')' ? "unbalanced ')'" : `unexpected '${t.text}'`, t);
  }

  /** [proto] [dir] [type] id, or proto alone, or proto broadcast/multicast. */
  private qualified(): Parsed {
    const first = this.peek();
    const quals: Qualifiers = { pos: first.pos };
    let t = this.peek();
    if (t.kind === 'name' && !t.escaped && (PROTOS.has(t.text) || t.text === 'link')) {
      quals.proto = t.text === 'link' ? 'ether' : (t.text as ProtoName);
      this.i++;
      t = this.peek();
      if (t.kind === 'op' && t.text === '[') {
        this.i--;
        return { expr: this.relation() };
      }
      if (this.isWord(t, 'broadcast') || this.isWord(t, 'multicast')) {
        this.i++;
        return { expr: { kind: t.text as 'broadcast' | 'multicast', proto: quals.proto, pos: first.pos } };
      }
      if (!this.isDir(t) && !(t.kind === 'name' && !t.escaped && TYPES.has(t.text))) {
        return { expr: { kind: 'proto', proto: quals.proto, pos: first.pos } };
      }
    }
    if (this.isDir(t)) {
      this.i++;
      let dir: DirQual = t.text as 'src' | 'dst';
      const a = this.peek();
      const b = this.toks[this.i + 1]!;
      if ((this.isWord(a, 'or') || this.isWord(a, 'and')) && this.isWord(b, t.text === 'src' ? 'dst' : 'src')) {
        dir = a.text === 'or' ? 'src or dst' : 'src and dst';
        this.i += 2;
      }
      quals.dir = dir;
      t = this.peek();
    }
    if (t.kind === 'name' && !t.escaped && TYPES.has(t.text)) {
      quals.type = t.text as TypeQual;
      if (quals.type === 'gateway') throw this.error("'gateway' is not supported by tsbpf", t);
      this.i++;
    }
    if (!this.isIdStart(this.peek())) {
      const n = this.peek();
      throw this.error(n.kind === 'eof' ? `expected an address, number or name after '${this.src.slice(first.pos, n.pos).trim()}'` : `unexpected '${n.text}'`, n);
    }
    return { expr: { kind: 'primitive', qual: quals, id: this.id() }, quals };
  }

  private id(): Id {
    const t = this.next();
    switch (t.kind) {
      case 'num':
        return { kind: 'num', value: t.value!, pos: t.pos, text: t.text };
      case 'addr4': {
        const id: Id = { kind: 'addr4', text: t.text, pos: t.pos };
        if (this.peek().text === '/' && this.peek().kind === 'op') {
          this.i++;
          id.prefix = this.expectNum();
        } else if (this.isWord(this.peek(), 'mask')) {
          this.i++;
          const m = this.next();
          if (m.kind !== 'addr4') throw this.error('expected a netmask like 255.255.0.0 after mask', m);
          id.mask = m.text;
        }
        return id;
      }
      case 'addr6': {
        const id: Id = { kind: 'addr6', text: t.text, pos: t.pos };
        if (this.peek().text === '/' && this.peek().kind === 'op') {
          this.i++;
          id.prefix = this.expectNum();
        }
        return id;
      }
      case 'mac':
        return { kind: 'mac', text: t.text, pos: t.pos };
      case 'name':
        return { kind: 'name', text: t.text, pos: t.pos };
      default:
        throw this.error(`expected an address, number or name, found '${t.text}'`, t);
    }
  }

  // ---- arithmetic level ----

  private relation(): Expr {
    const start = this.peek();
    const left = this.arith(0);
    const t = this.peek();
    if (!(t.kind === 'op' && REL_OPS.has(t.text))) {
      throw this.error(t.kind === 'eof' ? 'expected a comparison (=, !=, <, >, ...)' : `expected a comparison (=, !=, <, >, ...), found '${t.text}'`, t);
    }
    this.i++;
    const right = this.arith(0);
    const op = (t.text === '==' ? '=' : t.text) as RelOp;
    return { kind: 'relation', op, left, right, pos: start.pos };
  }

  private arith(minPrec: number): Arith {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') return left;
      if (t.text === '^') {
        // libpcap gives '^' no precedence: yacc shifts, so it takes everything to its right
        this.i++;
        left = { kind: 'binary', op: '^', left, right: this.arith(0), pos: t.pos };
        continue;
      }
      const p = PRECEDENCE[t.text];
      if (p === undefined || p <= minPrec) return left;
      this.i++;
      left = { kind: 'binary', op: t.text as ArithOp, left, right: this.arith(p), pos: t.pos };
    }
  }

  private unary(): Arith {
    const t = this.next();
    if (t.kind === 'op' && t.text === '-') return { kind: 'negate', operand: this.unary(), pos: t.pos };
    if (t.kind === 'op' && t.text === '(') {
      const inner = this.arith(0);
      this.expect(')', 'missing )');
      return inner;
    }
    if (t.kind === 'num') return { kind: 'const', value: t.value!, pos: t.pos };
    if (t.kind === 'name') {
      if (!t.escaped && t.text === 'len') return { kind: 'len', pos: t.pos };
      if (!t.escaped && (PROTOS.has(t.text) || t.text === 'link')) {
        const proto = (t.text === 'link' ? 'ether' : t.text) as ProtoName;
        this.expect('[', `expected '[' after '${t.text}' in an expression`);
        const index = this.arith(0);
        let size: 1 | 2 | 4 = 1;
        if (this.peek().text === ':' && this.peek().kind === 'op') {
          this.i++;
          const s = this.next();
          if (s.kind !== 'num' || ![1, 2, 4].includes(s.value!)) throw this.error('data size must be 1, 2, or 4', s);
          size = s.value as 1 | 2 | 4;
        }
        this.expect(']', 'missing ]');
        return { kind: 'load', proto, index, size, pos: t.pos };
      }
      const c = CONSTANTS[t.text];
      if (c !== undefined) return { kind: 'const', value: c, pos: t.pos };
      throw this.error(`unknown name '${t.text}' in an expression`, t);
    }
    throw this.error(t.kind === 'eof' ? 'expression ends too early' : `unexpected '${t.text}'`, t);
  }

  // ---- helpers ----

  private startsArith(t: Token): boolean {
    if (t.kind === 'op') return t.text === '-' ;
    if (t.kind === 'name' && !t.escaped) {
      if (t.text === 'len') return true;
      if (CONSTANTS[t.text] !== undefined) return true;
      if (PROTOS.has(t.text) || t.text === 'link') return this.toks[this.i + 1]!.text === '[';
    }
    if (t.kind === 'num') {
      const n = this.toks[this.i + 1]!;
      return n.kind === 'op' && (REL_OPS.has(n.text) || ARITH_OPS.has(n.text));
    }
    return false;
  }

  private isIdStart(t: Token): boolean {
    if (t.kind === 'num' || t.kind === 'addr4' || t.kind === 'addr6' || t.kind === 'mac') return true;
    return t.kind === 'name' && (t.escaped === true || !KEYWORDS.has(t.text));
  }

  private isDir(t: Token): boolean {
    return this.isWord(t, 'src') || this.isWord(t, 'dst');
  }

  private isWord(t: Token, w: string): boolean {
    return t.kind === 'name' && !t.escaped && t.text === w;
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }

  private next(): Token {
    const t = this.toks[this.i]!;
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private expect(text: string, message: string): void {
    const t = this.peek();
    if (t.kind !== 'op' || t.text !== text) throw this.error(t.kind === 'eof' ? message : `${message}, found '${t.text}'`, t);
    this.i++;
  }

  private expectNum(): number {
    const t = this.next();
    if (t.kind !== 'num') throw this.error(`expected a number, found '${t.text || 'end of expression'}'`, t);
    return t.value!;
  }

  private error(reason: string, t: Token): FilterSyntaxError {
    return new FilterSyntaxError(reason, this.src, t.pos, Math.max(1, t.text.length));
  }
}

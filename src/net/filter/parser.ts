// Parser for pcap-filter expressions, following libpcap's grammar (grammar.y): `and` and `or` have
// EQUAL precedence and associate left to right; `not` binds tighter; an id written without
// qualifiers repeats the most recent ones (`host a or b` = `host a or host b`).
//
// It is an operator-precedence parser with explicit stacks (no recursion), so 10,000-term chains
// and thousands of nested parentheses cost memory, not call-stack depth. Boolean terms and
// arithmetic share the stacks; a bare number stays undecided ('pnum', as in libpcap's grammar)
// until what consumes it shows whether it is an id (`port 80 or (443)`) or a value (`(80) + 1 = 81`).
import type { Arith, ArithOp, DirQual, EncapKind, Expr, ProtoName, Qualifiers, RelOp, TypeQual } from './ast.js';
import { FilterSyntaxError } from './error.js';
import { tokenize, type Token } from './lexer.js';
import { idFromTokens } from './parse-id.js';

/** Protocol qualifiers, with libpcap's other spellings of the link layer. */
const PROTO_WORDS: Readonly<Record<string, ProtoName>> = Object.fromEntries([
  ...(['ether', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp', 'ah', 'esp',
    'atalk', 'aarp', 'decnet', 'lat', 'sca', 'moprc', 'mopdl', 'iso', 'esis', 'isis', 'clnp', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp',
    'stp', 'ipx', 'netbeui', 'radio'] as const).map((p) => [p, p]),
  ...['link', 'fddi', 'tr', 'wlan', 'ppp', 'slip'].map((p) => [p, 'ether']),
]);
const TYPES: ReadonlySet<string> = new Set<TypeQual>(['host', 'net', 'port', 'portrange', 'proto', 'protochain', 'gateway']);
const ENCAPS: ReadonlySet<string> = new Set<EncapKind>(['vlan', 'mpls', 'pppoes', 'pppoed', 'geneve']);
const ENCAP_MAX: Readonly<Record<string, [number, string]>> = {
  vlan: [4095, 'VLAN tag'], mpls: [1048575, 'MPLS label'], pppoes: [65535, 'PPPoE session number'], geneve: [16777215, 'Geneve VNI'],
};
/** libpcap keywords for link types tsbpf does not read (802.11, ATM, SS7, pflog): a clear error, not "unexpected". */
const FOREIGN: ReadonlySet<string> = new Set([
  'type', 'subtype', 'dir', 'ra', 'ta', 'addr1', 'addr2', 'addr3', 'addr4', 'address1', 'address2', 'address3', 'address4',
  'lane', 'metac', 'bcc', 'oam', 'oamf4', 'oamf4ec', 'oamf4sc', 'sc', 'ilmic', 'connectmsg', 'metaconnect', 'vpi', 'vci',
  'fisu', 'lssu', 'msu', 'hfisu', 'hlssu', 'hmsu', 'sio', 'opc', 'dpc', 'sls', 'hsio', 'hopc', 'hdpc', 'hsls',
  'on', 'ifname', 'rnr', 'rulenum', 'reason', 'rset', 'ruleset', 'srnr', 'subrulenum', 'action',
]);
const KEYWORDS: ReadonlySet<string> = new Set([
  ...Object.keys(PROTO_WORDS), ...TYPES, ...ENCAPS, ...FOREIGN, 'src', 'dst', 'and', 'or', 'not', 'mask', 'less', 'greater',
  'broadcast', 'multicast', 'len', 'inbound', 'outbound', 'llc', 'byte', 'ifindex',
]);
const REL_OPS: ReadonlySet<string> = new Set(['>', '<', '>=', '<=', '=', '==', '!=']);
/** Precedence of operators on the stack (higher binds tighter); `^` has none in libpcap's grammar (see operator()). */
const ARITH_PREC: Readonly<Record<string, number>> = { '|': 3, '&': 4, '<<': 5, '>>': 5, '+': 6, '-': 6, '*': 7, '/': 7, '%': 7, '^': 2.5 };
const PREC_BOOL = 1;
const PREC_NOT = 1.5;
const PREC_REL = 2;
const PREC_NEG = 8;

/** Parse a filter expression. An empty (or all-blank) expression gives undefined: accept everything. */
export function parseFilter(source: string): Expr | undefined {
  return new Parser(source).program();
}

type Operand =
  | { t: 'bool'; e: Expr; q?: Qualifiers }
  | { t: 'arith'; a: Arith }
  /** a number that is an id or a value, depending on what uses it; `ctx` are the qualifiers it would take */
  | { t: 'pnum'; tok: Token; ctx?: Qualifiers };

type Frame =
  | { o: '('; tok: Token; ctx?: Qualifiers; idGroup: boolean }
  | { o: '['; tok: Token; proto: ProtoName; size: 1 | 2 | 4 }
  | { o: 'not'; tok: Token }
  | { o: 'neg'; tok: Token }
  | { o: 'bin'; op: 'and' | 'or' | RelOp | ArithOp; tok: Token; prec: number };

class Parser {
  private readonly toks: Token[];
  private i = 0;
  private readonly operands: Operand[] = [];
  private readonly frames: Frame[] = [];
  /** indices in `frames` of the open '(' and '[' */
  private readonly openers: number[] = [];
  /** qualifiers a bare id takes here (undefined where libpcap would reject one) */
  private ctx: Qualifiers | undefined;
  /** the next operand must be an id (it follows `host`, `src`, `ip proto`, ...) */
  private requireId = false;

  constructor(private readonly src: string) {
    this.toks = tokenize(src);
  }

  program(): Expr | undefined {
    if (this.peek().kind === 'eof') return undefined;
    let expectOperand = true;
    for (;;) {
      const t = this.peek();
      if (expectOperand) {
        expectOperand = this.operand(t);
        continue;
      }
      if (t.kind === 'eof') break;
      expectOperand = this.operator(t);
    }
    const end = this.peek();
    this.reduceTo(0, end);
    if (this.openers.length) {
      const f = this.frames[this.openers[this.openers.length - 1]!]!;
      throw this.error(f.o === '(' ? 'missing )' : 'missing ]', end);
    }
    return this.toBool(this.operands.pop()!, end).e;
  }

  // ---- operand position: returns whether an operand is still expected ----

  private operand(t: Token): boolean {
    if (t.kind === 'eof') throw this.error('expression ends too early', t);
    const idMode = this.requireId || this.inIdGroup();
    if (t.kind === 'op') {
      if (t.text === '(') {
        this.i++;
        this.openers.push(this.frames.length);
        this.frames.push({ o: '(', tok: t, ctx: this.ctx, idGroup: idMode });
        this.requireId = false;
        return true;
      }
      if (t.text === '!') {
        this.i++;
        this.frames.push({ o: 'not', tok: t });
        return true;
      }
      if (t.text === '-' && !idMode) {
        this.i++;
        this.frames.push({ o: 'neg', tok: t });
        return true;
      }
      throw this.error(t.text === ')' ? "expected an expression before ')'" : `unexpected '${t.text}'`, t);
    }
    if (this.isWord(t, 'not')) {
      this.i++;
      this.frames.push({ o: 'not', tok: t });
      return true;
    }
    if (idMode) {
      if (!this.isIdStart(t)) throw this.error(`expected an address, number or name, found '${t.text}'`, t);
      this.bareId(t, this.requireId);
      this.requireId = false;
      return false;
    }
    if (t.kind === 'num') {
      this.i++;
      this.operands.push({ t: 'pnum', tok: t, ctx: this.ctx });
      return false;
    }
    if (t.kind === 'name' && !t.escaped && KEYWORDS.has(t.text)) return this.keyword(t);
    if (!this.isIdStart(t)) throw this.error(`unexpected '${t.text}'`, t);
    if (t.kind === 'name' && this.inArithmetic()) throw this.error(`unknown name '${t.text}' in an expression`, t);
    this.bareId(t, false);
    return false;
  }

  /** A primitive that starts with a keyword; returns whether an operand is still expected. */
  private keyword(t: Token): boolean {
    const w = t.text;
    const next = this.toks[this.i + 1]!;
    const proto = PROTO_WORDS[w];
    if (proto !== undefined && next.kind === 'op' && next.text === '[') {
      this.i += 2;
      this.openers.push(this.frames.length);
      this.frames.push({ o: '[', tok: t, proto, size: 1 });
      return true;
    }
    if (w === 'len') {
      this.i++;
      this.operands.push({ t: 'arith', a: { kind: 'len', pos: t.pos } });
      return false;
    }
    if (proto !== undefined || w === 'src' || w === 'dst' || TYPES.has(w)) return this.qualified(t);
    this.i++;
    const bool = (e: Expr): false => {
      this.operands.push({ t: 'bool', e });
      return false;
    };
    switch (w) {
      case 'less':
      case 'greater':
        return bool({ kind: 'length', op: w === 'less' ? '<=' : '>=', value: this.expectNum(), pos: t.pos });
      case 'broadcast':
      case 'multicast':
        return bool({ kind: w, pos: t.pos });
      case 'inbound':
      case 'outbound':
        return bool({ kind: 'direction', outbound: w === 'outbound', pos: t.pos });
      case 'ifindex':
        return bool({ kind: 'ifindex', value: this.expectNum(), pos: t.pos });
      case 'byte': {
        const index = this.expectNum();
        const op = this.next();
        if (op.kind !== 'op' || !['=', '<', '>', '&', '|'].includes(op.text)) throw this.error(`expected one of = < > & | after 'byte ${index}'`, op);
        return bool({ kind: 'byte', index, op: op.text as '=' | '<' | '>' | '&' | '|', value: this.expectNum(), pos: t.pos });
      }
      case 'llc': {
        const s = this.peek();
        if (s.kind === 'name' && (s.escaped || !KEYWORDS.has(s.text) || s.text === 'rnr')) {
          this.i++;
          return bool({ kind: 'llc', subtype: s.text, pos: t.pos, subPos: s.pos });
        }
        return bool({ kind: 'llc', pos: t.pos });
      }
    }
    if (ENCAPS.has(w)) {
      const encap = w as EncapKind;
      const n = encap === 'pppoed' ? undefined : this.optionalNum();
      if (n === undefined) return bool({ kind: 'encap', encap, pos: t.pos });
      const [max, what] = ENCAP_MAX[encap]!;
      if (n.value! > max) throw this.error(`${what} ${n.value} greater than maximum ${max}`, n);
      return bool({ kind: 'encap', encap, id: n.value!, pos: t.pos, idPos: n.pos });
    }
    if (FOREIGN.has(w)) throw this.error(`'${w}' is not supported for the link types tsbpf reads (Ethernet, Linux cooked, raw IP, loopback)`, t);
    throw this.error(`unexpected '${w}'`, t);
  }

  /**
   * `[proto] [dir] [type]` followed by an id, or a protocol alone (`tcp`), or `proto broadcast`.
   * For the id form it sets the qualifiers and leaves the id to the operand loop (it may be
   * `not id` or a parenthesised group of ids, as in libpcap).
   */
  private qualified(first: Token): boolean {
    const quals: Qualifiers = { pos: first.pos };
    let t = first;
    const proto = t.kind === 'name' && !t.escaped ? PROTO_WORDS[t.text] : undefined;
    if (proto !== undefined) {
      quals.proto = proto;
      this.i++;
      t = this.peek();
      if (this.isWord(t, 'broadcast') || this.isWord(t, 'multicast')) {
        this.i++;
        this.operands.push({ t: 'bool', e: { kind: t.text as 'broadcast' | 'multicast', proto, pos: first.pos } });
        return false;
      }
      if (!this.isDir(t) && !(t.kind === 'name' && !t.escaped && TYPES.has(t.text))) {
        this.operands.push({ t: 'bool', e: { kind: 'proto', proto, pos: first.pos } });
        return false;
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
      if (quals.type === 'gateway') throw this.error("'gateway' is not supported (it needs host name lookups; libpcap: not supported in this configuration)", t);
      this.i++;
    }
    const n = this.peek();
    if (n.kind === 'eof') throw this.error(`expected an address, number or name after '${this.src.slice(first.pos, n.pos).trim()}'`, n);
    this.ctx = quals;
    this.requireId = true;
    return true;
  }

  /**
   * An id that takes the qualifiers in effect: right after them (errors about them then point at
   * the qualifiers), or repeating the last ones.
   */
  private bareId(t: Token, afterHead: boolean): void {
    if (!this.ctx) throw this.error(`'${t.text}' needs a qualifier here (host, net, port, ...)`, t);
    const quals = afterHead ? this.ctx : { ...this.ctx, pos: t.pos };
    const { id, next } = idFromTokens(this.toks, this.i, this.src);
    this.i = next;
    this.operands.push({ t: 'bool', e: { kind: 'primitive', qual: quals, id }, q: this.ctx });
  }

  // ---- operator position: returns whether an operand is expected next ----

  private operator(t: Token): boolean {
    const andOr = this.isWord(t, 'and') || t.text === '&&' ? 'and' : this.isWord(t, 'or') || t.text === '||' ? 'or' : undefined;
    if ((andOr || REL_OPS.has(t.text)) && t.kind !== 'eof' && this.innermost() === '[') throw this.error(`missing ], found '${t.text}'`, t);
    if (andOr && (t.kind === 'name' || t.kind === 'op')) {
      this.i++;
      this.reduceWhile(PREC_BOOL, t);
      const left = this.toBool(this.operands.pop()!, t);
      this.operands.push(left);
      this.ctx = left.q;
      this.frames.push({ o: 'bin', op: andOr, tok: t, prec: PREC_BOOL });
      return true;
    }
    if (t.kind !== 'op') throw this.error(`unexpected '${t.text}'`, t);
    if (REL_OPS.has(t.text)) {
      this.i++;
      this.reduceWhile(PREC_REL, t);
      this.frames.push({ o: 'bin', op: (t.text === '==' ? '=' : t.text) as RelOp, tok: t, prec: PREC_REL });
      return true;
    }
    const p = ARITH_PREC[t.text];
    if (p !== undefined) {
      this.i++;
      // libpcap's grammar gives '^' no precedence, so yacc always shifts it: it reduces nothing
      // before it, and what follows it (up to a comparison) is its right operand
      if (t.text !== '^') this.reduceWhile(p, t);
      this.frames.push({ o: 'bin', op: t.text as ArithOp, tok: t, prec: p });
      return true;
    }
    if (t.text === ')') return this.closeParen(t);
    if (t.text === ':' || t.text === ']') return this.closeBracket(t);
    throw this.error(`unexpected '${t.text}'`, t);
  }

  private closeParen(t: Token): false {
    const open = this.openers[this.openers.length - 1];
    if (open === undefined) throw this.error("unbalanced ')'", t);
    const f = this.frames[open]!;
    if (f.o !== '(') throw this.error('missing ]', t);
    this.i++;
    this.reduceTo(open + 1, t);
    this.frames.pop();
    this.openers.pop();
    const inner = this.operands.pop()!;
    if (inner.t === 'bool' || f.idGroup) {
      // libpcap: `( expr )` takes the qualifiers in effect before the '('
      this.operands.push({ ...this.toBool(inner, t), q: f.ctx });
      this.ctx = f.ctx;
    } else this.operands.push(inner);
    return false;
  }

  private closeBracket(t: Token): boolean {
    const open = this.openers[this.openers.length - 1];
    const f = open === undefined ? undefined : this.frames[open]!;
    if (!f || f.o !== '[') throw this.error(`unexpected '${t.text}'`, t);
    this.i++;
    this.reduceTo(open! + 1, t);
    if (t.text === ':') {
      const s = this.next();
      if (s.kind !== 'num' || ![1, 2, 4].includes(s.value!)) throw this.error('data size must be 1, 2, or 4', s);
      f.size = s.value as 1 | 2 | 4;
      const close = this.peek();
      if (close.kind !== 'op' || close.text !== ']') throw this.error(close.kind === 'eof' ? 'missing ]' : `missing ], found '${close.text}'`, close);
      this.i++;
    }
    this.frames.pop();
    this.openers.pop();
    const index = this.toArith(this.operands.pop()!, t);
    this.operands.push({ t: 'arith', a: { kind: 'load', proto: f.proto, index, size: f.size, pos: f.tok.pos } });
    return false;
  }

  // ---- reductions ----

  /** Apply stacked operators of precedence >= `prec` down to the innermost open bracket. */
  private reduceWhile(prec: number, at: Token): void {
    for (;;) {
      const f = this.frames[this.frames.length - 1];
      if (!f || f.o === '(' || f.o === '[') return;
      const p = f.o === 'not' ? PREC_NOT : f.o === 'neg' ? PREC_NEG : f.prec;
      if (p < prec) return;
      this.reduceOne(at);
    }
  }

  /** Apply every stacked operator above frame index `base`. */
  private reduceTo(base: number, at: Token): void {
    while (this.frames.length > base) {
      const f = this.frames[this.frames.length - 1]!;
      if (f.o === '(' || f.o === '[') return;
      this.reduceOne(at);
    }
  }

  private reduceOne(at: Token): void {
    const f = this.frames.pop()!;
    if (f.o === 'not') {
      const inner = this.toBool(this.popOperand(at), at);
      this.operands.push({ t: 'bool', e: { kind: 'not', operand: inner.e }, q: inner.q });
      return;
    }
    if (f.o === 'neg') {
      this.operands.push({ t: 'arith', a: { kind: 'negate', operand: this.toArith(this.popOperand(at), at), pos: f.tok.pos } });
      return;
    }
    if (f.o !== 'bin') return;
    const right = this.popOperand(at);
    const left = this.popOperand(at);
    if (f.op === 'and' || f.op === 'or') {
      const r = this.toBool(right, at);
      this.operands.push({ t: 'bool', e: { kind: f.op, left: this.toBool(left, f.tok).e, right: r.e }, q: r.q });
    } else if (f.prec === PREC_REL) {
      const l = this.toArith(left, f.tok);
      this.operands.push({ t: 'bool', e: { kind: 'relation', op: f.op as RelOp, left: l, right: this.toArith(right, at), pos: l.pos } });
    } else {
      this.operands.push({ t: 'arith', a: { kind: 'binary', op: f.op as ArithOp, left: this.toArith(left, f.tok), right: this.toArith(right, at), pos: f.tok.pos } });
    }
  }

  private popOperand(at: Token): Operand {
    const o = this.operands.pop();
    if (!o) throw this.error(at.kind === 'eof' ? 'expression ends too early' : `unexpected '${at.text}'`, at);
    return o;
  }

  private toBool(o: Operand, at: Token): { t: 'bool'; e: Expr; q?: Qualifiers } {
    if (o.t === 'bool') return o;
    if (o.t === 'pnum') {
      if (!o.ctx) throw this.error(`'${o.tok.text}' needs a qualifier here (host, net, port, ...)`, o.tok);
      const id = { kind: 'num' as const, value: o.tok.value!, pos: o.tok.pos, text: o.tok.text };
      return { t: 'bool', e: { kind: 'primitive', qual: { ...o.ctx, pos: o.tok.pos }, id }, q: o.ctx };
    }
    throw this.error(at.kind === 'eof' ? 'expected a comparison (=, !=, <, >, ...)' : `expected a comparison (=, !=, <, >, ...), found '${at.text}'`, at);
  }

  private toArith(o: Operand, at: Token): Arith {
    if (o.t === 'arith') return o.a;
    if (o.t === 'pnum') return { kind: 'const', value: o.tok.value!, pos: o.tok.pos };
    throw this.error(`a comparison cannot be used as a value here ('${at.text || 'end of expression'}')`, at);
  }

  // ---- helpers ----

  /** Is the operand being read part of an arithmetic expression (after `+`, `=`, `[`, unary `-`)? */
  private inArithmetic(): boolean {
    const f = this.frames[this.frames.length - 1];
    return f !== undefined && (f.o === '[' || f.o === 'neg' || (f.o === 'bin' && f.prec >= PREC_REL));
  }

  private innermost(): '(' | '[' | undefined {
    const open = this.openers[this.openers.length - 1];
    return open === undefined ? undefined : (this.frames[open]!.o as '(' | '[');
  }

  private inIdGroup(): boolean {
    const open = this.openers[this.openers.length - 1];
    if (open === undefined) return false;
    const f = this.frames[open]!;
    return f.o === '(' && f.idGroup;
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

  private expectNum(): number {
    const t = this.next();
    if (t.kind !== 'num') throw this.error(`expected a number, found '${t.text || 'end of expression'}'`, t);
    return t.value!;
  }

  /** A number, possibly in parentheses (libpcap's pnum), if one comes next. */
  private optionalNum(): Token | undefined {
    let k = this.i;
    let open = 0;
    while (this.toks[k]!.kind === 'op' && this.toks[k]!.text === '(') {
      open++;
      k++;
    }
    const n = this.toks[k]!;
    if (n.kind !== 'num') return undefined;
    for (let c = 1; c <= open; c++) {
      const close = this.toks[k + c]!;
      if (close.kind !== 'op' || close.text !== ')') return undefined;
    }
    this.i = k + 1 + open;
    return n;
  }

  private error(reason: string, t: Token): FilterSyntaxError {
    return new FilterSyntaxError(reason, this.src, t.pos, Math.max(1, t.text.length));
  }
}

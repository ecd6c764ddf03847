// Recursive-descent parser for bpftrace's language: preamble (#include, struct definitions), probes
// (attach points, /predicate/, { action }), statements and C-precedence expressions.
import type {
  AssignOp, AttachPoint, BinaryOp, Expr, MapExpr, Pos, Probe, Program, Stmt, TypeName, VarExpr,
} from './ast.js';
import { BUILTIN_VARIABLES as BUILTINS } from './builtins/registry.js';
import { Lexer, type Token } from './lexer.js';

/** Parse a whole script. Throws ScriptError (with line, column and underline) on the first error. */
export function parse(source: string, fileName = 'stdin'): Program {
  return new Parser(source, fileName).program();
}

/** Parse one expression (for tests and the -e shortcuts of tools). */
export function parseExpression(source: string): Expr {
  const p = new Parser(source, 'stdin');
  const e = p.expression();
  p.expectEof();
  return e;
}

// Binary operators by precedence level, loosest first.
const LEVELS: BinaryOp[][] = [
  ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
];
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=']);
const TYPE_WORDS = new Set([
  'struct', 'union', 'enum', 'unsigned', 'signed', 'const', 'volatile',
  'void', 'char', 'short', 'int', 'long', 'bool', '_Bool',
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
  'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', '__u8', '__u16', '__u32', '__u64', '__s8', '__s16', '__s32', '__s64',
  'int8_t', 'int16_t', 'int32_t', 'int64_t', 'uint8_t', 'uint16_t', 'uint32_t', 'uint64_t', 'size_t', 'ssize_t', 'pid_t',
  'uid_t', 'gid_t', 'loff_t', 'umode_t', 'dev_t', 'sector_t', 'gfp_t', 'inet', 'string',
]);
const KEYWORDS = new Set(['if', 'else', 'while', 'unroll', 'return', 'break', 'continue']);
/**
 * Deepest nesting of expressions and blocks: the parser, checker and code generator recurse once
 * per level (a dozen frames per parenthesis here), so a script of 500 '(' would overflow the
 * stack; past this depth it is a syntax error pointing at the level too many.
 */
export const MAX_NESTING = 100;

class Parser {
  private readonly lx: Lexer;
  private readonly buf: Token[] = [];
  /** > 0 while parsing a predicate outside parentheses: a '/' there ends the predicate. */
  private predicateDepth = -1;
  /** expressions and blocks open around the current token (MAX_NESTING) */
  private nesting = 0;

  constructor(readonly source: string, readonly fileName: string) {
    this.lx = new Lexer(source, fileName);
  }

  // ---- token plumbing ----
  private peek(k = 0): Token {
    while (this.buf.length <= k) this.buf.push(this.lx.next());
    return this.buf[k]!;
  }
  private take(): Token {
    const t = this.peek();
    this.buf.shift();
    return t;
  }
  private is(text: string, k = 0): boolean {
    const t = this.peek(k);
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  }
  private accept(text: string): Token | undefined {
    return this.is(text) ? this.take() : undefined;
  }
  private expect(text: string, expecting = text): Token {
    if (this.is(text)) return this.take();
    throw this.unexpected(this.peek(), expecting);
  }
  expectEof(): void {
    if (this.peek().kind !== 'eof') throw this.unexpected(this.peek(), 'end of input');
  }
  private unexpected(t: Token, expecting?: string): Error {
    const what = t.kind === 'eof' ? 'end of file' : t.kind === 'str' ? 'string' : t.kind === 'int' ? 'integer' : t.kind === 'map' ? 'map' : t.kind === 'var' ? 'variable' : t.text;
    const pos = t.kind === 'eof' ? this.lx.span(Math.max(0, t.pos.start - 1), t.pos.start) : t.pos;
    return this.lx.error(`syntax error, unexpected ${what}${expecting ? `, expecting ${expecting}` : ''}`, pos.start, pos.end);
  }
  private join(a: Pos, b: Pos): Pos {
    return { line: a.line, col: a.col, start: a.start, end: b.end };
  }
  /** Parse one more level of nesting with `f`, refusing past MAX_NESTING (at the token that opens it). */
  private nested<T>(f: () => T): T {
    if (++this.nesting > MAX_NESTING) {
      const t = this.peek();
      throw this.lx.error(`too deeply nested: more than ${MAX_NESTING} levels of expressions and blocks`, t.pos.start, t.pos.end);
    }
    try {
      return f();
    } finally {
      this.nesting--;
    }
  }

  // ---- top level ----
  program(): Program {
    const prog: Program = { probes: [], includes: [], structs: [] };
    const s = this.source;
    for (;;) {
      this.lx.skipSpace();
      const at = this.lx.position;
      if (at >= s.length) break;
      if (s[at] === '#') {
        prog.includes.push(this.lx.restOfLine().trim());
        continue;
      }
      const def = /^(struct|union|enum)\s+([A-Za-z_]\w*)\s*\{/.exec(s.slice(at, at + 200));
      if (def) {
        const text = this.lx.balancedBraces();
        this.lx.skipSpace();
        if (s[this.lx.position] === ';') this.lx.next();
        prog.structs.push({ name: `${def[1]} ${def[2]}`, text, pos: this.lx.span(at, at + def[0].length - 1) });
        continue;
      }
      prog.probes.push(this.probe());
    }
    if (prog.probes.length === 0) throw this.lx.error('syntax error, unexpected end of file, expecting a probe', Math.max(0, s.length - 1), Math.max(1, s.length));
    return prog;
  }

  private probe(): Probe {
    const attachPoints: AttachPoint[] = [];
    const start = this.lx.position;
    for (;;) {
      const t = this.lx.attachPoint();
      if (!t) throw this.unexpected(this.lx.next(), 'attach point');
      attachPoints.push({ raw: t.text, parts: splitAttachPoint(t.text), pos: t.pos });
      this.lx.skipSpace();
      if (this.source[this.lx.position] === ',') {
        this.lx.next();
        continue;
      }
      break;
    }
    let predicate: Expr | undefined;
    if (this.source[this.lx.position] === '/') {
      this.take(); // '/'
      this.predicateDepth = 0;
      predicate = this.expression();
      this.predicateDepth = -1;
      this.expect('/');
    }
    const body = this.block();
    if (this.buf.length) throw new Error('parser: token lookahead crossed a probe boundary');
    return { attachPoints, predicate, body, pos: this.lx.span(start, this.lx.position) };
  }

  private block(): Stmt[] {
    return this.nested(() => this.blockBody());
  }

  private blockBody(): Stmt[] {
    this.expect('{');
    const out: Stmt[] = [];
    for (;;) {
      if (this.accept('}')) return out;
      if (this.accept(';')) continue;
      const st = this.statement();
      out.push(st);
      if (st.kind === 'if' || st.kind === 'while' || st.kind === 'unroll') continue;
      if (this.accept(';')) continue;
      if (this.is('}')) continue;
      throw this.unexpected(this.peek(), '; or }');
    }
  }

  private statement(): Stmt {
    const t = this.peek();
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'if': return this.ifStatement();
        case 'while': return { kind: 'while', cond: this.keywordHead(), body: this.block(), pos: t.pos };
        case 'unroll': return { kind: 'unroll', count: this.keywordHead(), body: this.block(), pos: t.pos };
        case 'return': case 'break': case 'continue':
          this.take();
          return { kind: t.text, pos: t.pos };
      }
    }
    const e = this.expression();
    const op = this.peek();
    if (op.kind === 'punct' && ASSIGN_OPS.has(op.text)) {
      if (e.kind !== 'map' && e.kind !== 'var') throw this.lx.error('syntax error: can only assign to a map (@name) or a variable ($name)', op.pos.start, op.pos.end);
      this.take();
      const value = this.expression();
      return { kind: 'assign', target: e, op: op.text as AssignOp, value, pos: this.join(e.pos, value.pos), opPos: op.pos };
    }
    // `cond ? printf(...) : exit()` standing as a statement is an if/else (bpftrace allows it)
    if (e.kind === 'ternary') {
      return { kind: 'if', cond: e.cond, then: [{ kind: 'expr', expr: e.then, pos: e.then.pos }], else: [{ kind: 'expr', expr: e.else, pos: e.else.pos }], pos: e.pos };
    }
    return { kind: 'expr', expr: e, pos: e.pos };
  }

  /** `if (e)`, `while (e)`, `unroll (e)`: takes the keyword and the parentheses, returns e. */
  private keywordHead(): Expr {
    this.take();
    this.expect('(');
    const e = this.expression();
    this.expect(')');
    return e;
  }

  private ifStatement(): Stmt {
    const t = this.peek();
    const cond = this.keywordHead();
    const then = this.block();
    let els: Stmt[] | undefined;
    if (this.accept('else')) els = this.is('if') ? [this.ifStatement()] : this.block();
    return { kind: 'if', cond, then, else: els, pos: t.pos };
  }

  // ---- expressions ----
  expression(): Expr {
    return this.nested(() => this.conditional());
  }

  private conditional(): Expr {
    const cond = this.binary(0);
    if (!this.is('?')) return cond;
    this.take();
    const then = this.expression();
    this.expect(':');
    const els = this.expression();
    return { kind: 'ternary', cond, then, else: els, pos: this.join(cond.pos, els.pos) };
  }

  private binary(level: number): Expr {
    if (level === LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'punct' || !LEVELS[level]!.includes(t.text as BinaryOp)) return left;
      if (t.text === '/' && this.predicateDepth === 0) return left;
      this.take();
      const right = this.binary(level + 1);
      left = { kind: 'binary', op: t.text as BinaryOp, left, right, pos: this.join(left.pos, right.pos) };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'punct') {
      if (t.text === '-' || t.text === '!' || t.text === '~' || t.text === '*' || t.text === '&') {
        this.take();
        const operand = this.nested(() => this.unary());
        // Fold negative literals so that -1 is one integer, as in C.
        if (t.text === '-' && operand.kind === 'int') return { kind: 'int', value: -operand.value, pos: this.join(t.pos, operand.pos) };
        return { kind: 'unary', op: t.text, operand, pos: this.join(t.pos, operand.pos) };
      }
      if (t.text === '++' || t.text === '--') {
        this.take();
        const target = this.nested(() => this.unary());
        if (target.kind !== 'map' && target.kind !== 'var') throw this.lx.error(`syntax error: '${t.text}' needs a map or a variable`, target.pos.start, target.pos.end);
        return { kind: 'incdec', op: t.text, prefix: true, target, pos: this.join(t.pos, target.pos) };
      }
      if (t.text === '(' && this.looksLikeCast()) {
        this.take();
        const type = this.typeName();
        this.expect(')');
        const operand = this.nested(() => this.unary());
        return { kind: 'cast', type, operand, pos: this.join(t.pos, operand.pos) };
      }
    }
    return this.postfix(this.primary());
  }

  /** After '(': a type name followed by ')' (and optional '*'s) makes a cast. */
  private looksLikeCast(): boolean {
    const a = this.peek(1);
    if (a.kind !== 'ident') return false;
    if (a.text === 'struct' || a.text === 'union' || a.text === 'enum' || a.text === 'unsigned' || a.text === 'signed' || a.text === 'const') return true;
    if (TYPE_WORDS.has(a.text)) {
      const b = this.peek(2);
      return b.kind === 'punct' && (b.text === ')' || b.text === '*' || b.text === '[');
    }
    if (BUILTINS.has(a.text) || KEYWORDS.has(a.text)) return false;
    // A typedef name: `(pid_t)x`, `(sock_t *)arg0`.
    let k = 2;
    while (this.is('*', k)) k++;
    return this.is(')', k) && (k > 2 || this.peek(k + 1).kind !== 'punct' || ['(', '-', '*', '&', '!', '~'].includes(this.peek(k + 1).text));
  }

  private typeName(): TypeName {
    const first = this.peek();
    const words: string[] = [];
    let end = first.pos;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'ident') break;
      if (t.text === 'const' || t.text === 'volatile') {
        end = this.take().pos;
        continue;
      }
      // After a complete name, only more C base-type words may follow (`unsigned long long`).
      if (words.length && !/^(unsigned|signed|long|short|int|char|struct|union|enum)$/.test(words[words.length - 1]!)) break;
      words.push(t.text);
      end = this.take().pos;
      if (t.text === 'struct' || t.text === 'union' || t.text === 'enum') {
        const n = this.take();
        if (n.kind !== 'ident') throw this.unexpected(n, 'identifier');
        words.push(n.text);
        end = n.pos;
        break;
      }
    }
    if (!words.length) throw this.unexpected(first, 'type name');
    let pointers = 0;
    while (this.is('*')) {
      end = this.take().pos;
      pointers++;
    }
    let base = words.join(' ');
    if (this.is('[')) {
      this.take();
      const n = this.take();
      if (n.kind !== 'int') throw this.unexpected(n, 'integer');
      end = this.expect(']').pos;
      base += `[${n.value}]`;
    }
    return { base, pointers, pos: this.join(first.pos, end) };
  }

  private primary(): Expr {
    const t = this.take();
    switch (t.kind) {
      case 'int': return { kind: 'int', value: t.value as bigint, pos: t.pos };
      case 'str': return { kind: 'str', value: t.value as string, pos: t.pos };
      case 'positional': return { kind: 'positional', n: t.value as number, pos: t.pos };
      case 'var': return { kind: 'var', name: t.text, pos: t.pos };
      case 'map': {
        if (this.is('[')) {
          this.take();
          const keys = this.args(']');
          const close = this.take();
          if (keys.length === 0) throw this.lx.error('syntax error: empty map key', close.pos.start - 1, close.pos.end);
          return { kind: 'map', name: t.text, keys, pos: this.join(t.pos, close.pos) } satisfies MapExpr;
        }
        return { kind: 'map', name: t.text, keys: [], pos: t.pos };
      }
      case 'ident': {
        if (this.is('(')) {
          if (t.text === 'sizeof') {
            this.take();
            const a = this.peek();
            const isType = a.kind === 'ident' && (TYPE_WORDS.has(a.text) || !BUILTINS.has(a.text));
            const r = isType ? { type: this.typeName() } : { operand: this.expression() };
            const close = this.expect(')');
            return { kind: 'sizeof', ...r, pos: this.join(t.pos, close.pos) };
          }
          this.take();
          const args = this.args(')');
          const close = this.take();
          return { kind: 'call', name: t.text, args, pos: this.join(t.pos, close.pos) };
        }
        if (KEYWORDS.has(t.text)) throw this.unexpected(t);
        if (BUILTINS.has(t.text)) return { kind: 'builtin', name: t.text, pos: t.pos };
        return { kind: 'ident', name: t.text, pos: t.pos };
      }
      case 'punct':
        if (t.text === '(') {
          const saved = this.predicateDepth;
          if (this.predicateDepth >= 0) this.predicateDepth++;
          const first = this.expression();
          let e: Expr = first;
          if (this.is(',')) {
            const elems = [first];
            while (this.accept(',')) elems.push(this.expression());
            e = { kind: 'tuple', elems, pos: this.join(t.pos, this.peek().pos) };
          }
          this.expect(')', elems_expect(e));
          this.predicateDepth = saved;
          return e;
        }
        throw this.unexpected(t);
      default:
        throw this.unexpected(t);
    }
  }

  /** Comma-separated expressions up to (not consuming) `close`. */
  private args(close: string): Expr[] {
    const out: Expr[] = [];
    const saved = this.predicateDepth;
    if (this.predicateDepth >= 0) this.predicateDepth++;
    if (!this.is(close)) {
      for (;;) {
        out.push(this.expression());
        if (this.is(close)) break;
        if (!this.accept(',')) throw this.unexpected(this.peek(), `${close} or ","`);
      }
    }
    this.predicateDepth = saved;
    return out;
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'punct') return e;
      if (t.text === '->' || t.text === '.') {
        this.take();
        const f = this.take();
        if (f.kind !== 'ident' && f.kind !== 'int') throw this.unexpected(f, 'field name');
        e = { kind: 'field', object: e, field: f.text, arrow: t.text === '->', pos: this.join(e.pos, f.pos) };
      } else if (t.text === '[') {
        this.take();
        const index = this.expression();
        const close = this.expect(']');
        e = { kind: 'index', object: e, index, pos: this.join(e.pos, close.pos) };
      } else if (t.text === '++' || t.text === '--') {
        if (e.kind !== 'map' && e.kind !== 'var') return e;
        this.take();
        e = { kind: 'incdec', op: t.text, prefix: false, target: e as MapExpr | VarExpr, pos: this.join(e.pos, t.pos) };
      } else return e;
    }
  }
}

function elems_expect(e: Expr): string {
  return e.kind === 'tuple' ? ') or ","' : ')';
}

/** `uprobe:/bin/bash:readline` → ['uprobe', '/bin/bash', 'readline']; quotes removed. */
export function splitAttachPoint(raw: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"') {
      const e = raw.indexOf('"', i + 1);
      cur += raw.slice(i + 1, e);
      i = e;
    } else if (c === ':') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

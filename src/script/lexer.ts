// Tokens of bpftrace's language. The parser drives the lexer: inside action blocks and predicates
// it asks for ordinary tokens; at the top level it asks for raw attach points (`uprobe:/bin/bash:readline`,
// `tracepoint:syscalls:sys_enter_*`), whose slashes and stars are not operators.
import type { Pos } from './ast.js';
import { ScriptError } from './error.js';

export type TokenKind = 'ident' | 'int' | 'str' | 'map' | 'var' | 'positional' | 'punct' | 'attach' | 'eof';

export interface Token {
  kind: TokenKind;
  /** the token's text: identifier, operator, map/var name without sigil, raw attach point */
  text: string;
  /** integer value (int), decoded string (str), parameter number (positional; 0 for `$#`) */
  value?: bigint | string | number;
  pos: Pos;
}

// Longest first, so that `<<=` wins over `<<` and `<`.
const PUNCT = [
  '<<=', '>>=', '...',
  '->', '++', '--', '==', '!=', '<=', '>=', '&&', '||', '<<', '>>', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=',
  '{', '}', '(', ')', '[', ']', ';', ',', ':', '?', '.', '+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '<', '>', '=', '#',
];

const isIdentStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const isIdent = (c: string): boolean => /[A-Za-z0-9_]/.test(c);

export class Lexer {
  private offset = 0;
  private readonly lineStarts: number[] = [0];

  constructor(readonly source: string, readonly fileName = 'stdin') {
    for (let i = 0; i < source.length; i++) if (source[i] === '\n') this.lineStarts.push(i + 1);
  }

  get position(): number {
    return this.offset;
  }

  /** A span [start, end) with its 1-based line and column. */
  span(start: number, end: number): Pos {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: start - this.lineStarts[lo]! + 1, start, end };
  }

  error(reason: string, start: number, end = start + 1): ScriptError {
    return new ScriptError(reason, this.span(start, end), this.source, this.fileName);
  }

  /** Skip blanks and comments. */
  skipSpace(): void {
    const s = this.source;
    for (;;) {
      const c = s[this.offset];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.offset++;
      else if (c === '/' && s[this.offset + 1] === '/') {
        const e = s.indexOf('\n', this.offset);
        this.offset = e < 0 ? s.length : e + 1;
      } else if (c === '/' && s[this.offset + 1] === '*') {
        const e = s.indexOf('*/', this.offset + 2);
        if (e < 0) throw this.error('unterminated comment', this.offset, this.offset + 2);
        this.offset = e + 2;
      } else return;
    }
  }

  /** The rest of the current line (for `#include`), consumed. */
  restOfLine(): string {
    const e = this.source.indexOf('\n', this.offset);
    const end = e < 0 ? this.source.length : e;
    const text = this.source.slice(this.offset, end);
    this.offset = end;
    return text;
  }

  /** Raw text up to and including the brace that balances the next `{` (for preamble struct definitions). */
  balancedBraces(): string {
    const start = this.offset;
    const open = this.source.indexOf('{', start);
    if (open < 0) throw this.error("expected '{'", start);
    let depth = 0;
    for (let i = open; i < this.source.length; i++) {
      if (this.source[i] === '{') depth++;
      else if (this.source[i] === '}' && --depth === 0) {
        this.offset = i + 1;
        return this.source.slice(start, i + 1);
      }
    }
    throw this.error("unterminated '{'", open);
  }

  /**
   * One attach point, raw: up to a blank, ',', '{', or a '/' that starts a predicate. A segment that
   * begins with '/' is a path and keeps its slashes; `"quoted"` segments keep anything.
   */
  attachPoint(): Token | null {
    this.skipSpace();
    const s = this.source;
    const start = this.offset;
    let i = start;
    let segStart = start;
    let inPath = false;
    while (i < s.length) {
      const c = s[i]!;
      if (c === '"') {
        const e = s.indexOf('"', i + 1);
        if (e < 0) throw this.error('unterminated string', i);
        i = e + 1;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === '{') break;
      if (c === ':') {
        segStart = i + 1;
        inPath = false;
      } else if (c === '/') {
        const seg = s.slice(segStart, i);
        // a path segment: `/abs/path`, or relative `./prog`, `../lib/x.so`
        if (i === segStart || seg === '.' || seg === '..') inPath = true;
        else if (!inPath) break;
      }
      i++;
    }
    if (i === start) return null;
    this.offset = i;
    const raw = s.slice(start, i);
    return { kind: 'attach', text: raw, pos: this.span(start, i) };
  }

  /** The next ordinary token. */
  next(): Token {
    this.skipSpace();
    const s = this.source;
    const start = this.offset;
    if (start >= s.length) return { kind: 'eof', text: '', pos: this.span(start, start) };
    const c = s[start]!;
    if (isIdentStart(c)) {
      let i = start + 1;
      while (i < s.length && isIdent(s[i]!)) i++;
      this.offset = i;
      return { kind: 'ident', text: s.slice(start, i), pos: this.span(start, i) };
    }
    if (c >= '0' && c <= '9') return this.number(start);
    if (c === '"') return this.string(start);
    if (c === '@' || c === '$') {
      let i = start + 1;
      if (c === '$' && s[i] === '#') {
        this.offset = i + 1;
        return { kind: 'positional', text: '#', value: 0, pos: this.span(start, i + 1) };
      }
      if (c === '$' && /[0-9]/.test(s[i] ?? '')) {
        while (i < s.length && /[0-9]/.test(s[i]!)) i++;
        this.offset = i;
        return { kind: 'positional', text: s.slice(start + 1, i), value: Number(s.slice(start + 1, i)), pos: this.span(start, i) };
      }
      while (i < s.length && isIdent(s[i]!)) i++;
      if (c === '$' && i === start + 1) throw this.error("expected a variable name after '$'", start);
      this.offset = i;
      return { kind: c === '@' ? 'map' : 'var', text: s.slice(start + 1, i), pos: this.span(start, i) };
    }
    if (c === "'") {
      // A character literal is an integer.
      const m = /^'(\\.|[^'\\])'/.exec(s.slice(start, start + 4));
      if (!m) throw this.error('bad character literal', start);
      this.offset = start + m[0].length;
      const ch = m[1]!.length === 2 ? unescapeChar(m[1]![1]!) : m[1]!;
      return { kind: 'int', text: m[0], value: BigInt(ch.charCodeAt(0)), pos: this.span(start, this.offset) };
    }
    for (const p of PUNCT) {
      if (s.startsWith(p, start)) {
        this.offset = start + p.length;
        return { kind: 'punct', text: p, pos: this.span(start, this.offset) };
      }
    }
    throw this.error(`invalid character '${c}'`, start);
  }

  private number(start: number): Token {
    const s = this.source;
    const m = /^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*)([eE][0-9]+)?/.exec(s.slice(start, start + 80))!;
    let end = start + m[0].length;
    // bpftrace accepts integer suffixes (u, l, ul, ll, ull ...) and duration-free plain numbers.
    const suffix = /^([uU]?[lL]{0,2}|[lL]{1,2}[uU]?)/.exec(s.slice(end, end + 3))![0];
    end += suffix.length;
    if (end < s.length && isIdent(s[end]!)) throw this.error(`invalid number '${s.slice(start, end + 1)}'`, start, end + 1);
    const digits = m[1]!.replace(/_/g, '');
    let value: bigint;
    if (/^0[bB]/.test(digits)) value = BigInt(digits);
    else if (/^0[0-7]+$/.test(digits)) value = BigInt('0o' + digits.slice(1));
    else value = BigInt(digits);
    if (m[2]) value *= 10n ** BigInt(m[2].slice(1));
    if (value > 0xffffffffffffffffn) throw this.error('integer literal does not fit in 64 bits', start, end);
    this.offset = end;
    return { kind: 'int', text: s.slice(start, end), value, pos: this.span(start, end) };
  }

  private string(start: number): Token {
    const s = this.source;
    let out = '';
    let i = start + 1;
    for (;;) {
      if (i >= s.length || s[i] === '\n') throw this.error('unterminated string', start, i);
      const c = s[i]!;
      if (c === '"') break;
      if (c === '\\') {
        const n = s[i + 1];
        if (n === undefined) throw this.error('unterminated string', start, i);
        if (n === 'x') {
          const hex = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4));
          if (!hex) throw this.error('bad \\x escape', i, i + 2);
          out += String.fromCharCode(parseInt(hex[0], 16));
          i += 2 + hex[0].length;
          continue;
        }
        if (/[0-7]/.test(n)) {
          const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4))![0];
          out += String.fromCharCode(parseInt(oct, 8) & 0xff);
          i += 1 + oct.length;
          continue;
        }
        const u = unescapeChar(n);
        if (u === undefined) throw this.error(`invalid escape '\\${n}'`, i, i + 2);
        out += u;
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    this.offset = i + 1;
    return { kind: 'str', text: s.slice(start, i + 1), value: out, pos: this.span(start, i + 1) };
  }
}

function unescapeChar(c: string): string {
  switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '0': return '\0';
    case '\\': return '\\';
    case '"': return '"';
    case "'": return "'";
    case 'a': return '\x07';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'v': return '\v';
    case 'e': return '\x1b';
    default: return undefined as unknown as string;
  }
}

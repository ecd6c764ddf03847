// The assembler's tokens: a lexer for one line and a cursor over its tokens with positioned errors.

export type Tok =
  | { t: 'reg'; col: number; text: string; n: number; wide: boolean }
  | { t: 'num'; col: number; text: string; v: bigint }
  | { t: 'id'; col: number; text: string }
  | { t: 'op'; col: number; text: string };

const OPERATORS = [
  's>>=', '<<=', '>>=', 's/=', 's%=', 's<=', 's>=', '+=', '-=', '*=', '/=', '|=', '&=', '%=', '^=', '==', '!=', '>=', '<=', 's>', 's<',
  '<', '>', '=', '(', ')', '[', ']', '*', '+', '-', ',', '&', ':', '#',
];

/** Error inside one line: column (1-based) and message; turned into AsmError by the caller. */
export class LineError extends Error {
  constructor(readonly col: number, message: string) {
    super(message);
  }
}

// Sticky (y) patterns matched in place at lastIndex: no slicing of the rest of the line per token.
const NUM = /(0[xX][0-9a-fA-F]+|[0-9]+)(?![\w.$])/y;
// an identifier may hold '-' between letters: the kernel's `kernel-function#id`
const IDENT = /[A-Za-z_.$][\w.$]*(?:-[A-Za-z_][\w.$]*)*/y;
const REG = /^([rw])([0-9]{1,2})$/;

export function lex(src: string, start: number): Tok[] {
  const toks: Tok[] = [];
  let p = start;
  const at = (re: RegExp): string | undefined => {
    re.lastIndex = p;
    return re.exec(src)?.[0];
  };
  while (p < src.length) {
    const c = src[p]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      p++;
      continue;
    }
    const col = p + 1;
    const num = at(NUM);
    if (num !== undefined) {
      toks.push({ t: 'num', col, text: num, v: BigInt(num) });
      p += num.length;
      continue;
    }
    const id = at(IDENT);
    // `s` before <, >, / or % is the signed half of an operator (s<, s>>=, s/=, s%=), not a name
    if (id !== undefined && !(id === 's' && '<>/%'.includes(src[p + 1] ?? ''))) {
      const reg = REG.exec(id);
      if (reg) {
        const n = Number(reg[2]);
        if (n > 11) throw new LineError(col, `no register ${id} (there are r0-r10, and the kernel's r11)`);
        toks.push({ t: 'reg', col, text: id, n, wide: reg[1] === 'r' });
      } else {
        toks.push({ t: 'id', col, text: id });
      }
      p += id.length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, p));
    if (!op) throw new LineError(col, `unexpected character '${c}'`);
    toks.push({ t: 'op', col, text: op });
    p += op.length;
  }
  return toks;
}

/** Parser state for one line. */
export class Line {
  private i = 0;
  constructor(private readonly toks: Tok[], private readonly endCol: number) {}

  get done(): boolean {
    return this.i >= this.toks.length;
  }
  peek(k = 0): Tok | undefined {
    return this.toks[this.i + k];
  }
  next(what: string): Tok {
    const t = this.toks[this.i];
    if (!t) throw new LineError(this.endCol, `expected ${what}, found end of line`);
    this.i++;
    return t;
  }
  fail(t: Tok | undefined, what: string): never {
    if (!t) throw new LineError(this.endCol, `expected ${what}, found end of line`);
    throw new LineError(t.col, `expected ${what}, found '${t.text}'`);
  }
  isOp(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.t === 'op' && t.text === text;
  }
  isId(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.t === 'id' && t.text === text;
  }
  op(text: string): Tok {
    const t = this.peek();
    if (t?.t !== 'op' || t.text !== text) this.fail(t, `'${text}'`);
    this.i++;
    return t;
  }
  id(what: string): Tok & { t: 'id' } {
    const t = this.peek();
    if (t?.t !== 'id') this.fail(t, what);
    this.i++;
    return t;
  }
  reg(what = 'a register'): Tok & { t: 'reg' } {
    const t = this.peek();
    if (t?.t !== 'reg') this.fail(t, what);
    this.i++;
    return t;
  }
  /** [+|-] number, as a bigint */
  signed(what = 'a number'): bigint {
    let neg = false;
    if (this.isOp('-') || this.isOp('+')) neg = this.next(what).text === '-';
    const t = this.peek();
    if (t?.t !== 'num') this.fail(t, what);
    this.i++;
    return neg ? -t.v : t.v;
  }
  end(): void {
    if (!this.done) this.fail(this.peek(), 'end of instruction');
  }
}

export const fits = (v: bigint, lo: bigint, hi: bigint): boolean => v >= lo && v <= hi;
export function imm32(v: bigint, col: number, what = 'immediate'): number {
  if (!fits(v, -(1n << 31n), (1n << 32n) - 1n)) throw new LineError(col, `${what} ${v} does not fit in 32 bits`);
  return Number(BigInt.asIntN(32, v));
}
export function off16(v: bigint, col: number, what = 'offset'): number {
  if (!fits(v, -0x8000n, 0x7fffn)) throw new LineError(col, `${what} ${v} does not fit in 16 signed bits`);
  return Number(v);
}

// printf-style formats: parsing the conversions of a format string and rendering them with values,
// the way bpftrace (which hands them to C's printf) prints them.

export interface Conversion {
  /** text of the whole specifier, `%-10s` */
  spec: string;
  flags: string;
  width?: number;
  precision?: number;
  /** length modifier: h, hh, l, ll, z, j */
  length: string;
  conv: string;
}

/** The format as literal text pieces and conversions, alternating: text, conv, text, ... text. */
export interface ParsedFormat {
  texts: string[];
  convs: Conversion[];
}

const SPEC_RE = /%([-+ #0]*)(\d+)?(?:\.(\d+))?(hh|h|ll|l|z|j|t)?(rx|[diouxXcspfeEgGr%])/y;

export class FormatError extends Error {}

export function parseFormat(fmt: string): ParsedFormat {
  const texts: string[] = [];
  const convs: Conversion[] = [];
  let cur = '';
  for (let i = 0; i < fmt.length; ) {
    if (fmt[i] !== '%') {
      cur += fmt[i++];
      continue;
    }
    SPEC_RE.lastIndex = i;
    const m = SPEC_RE.exec(fmt);
    if (!m) throw new FormatError(`invalid format specifier at '${fmt.slice(i, i + 4)}'`);
    i += m[0].length;
    if (m[5] === '%') {
      cur += '%';
      continue;
    }
    texts.push(cur);
    cur = '';
    convs.push({
      spec: m[0], flags: m[1] ?? '', width: m[2] ? Number(m[2]) : undefined,
      precision: m[3] !== undefined ? Number(m[3]) : undefined, length: m[4] ?? '', conv: m[5]!,
    });
  }
  texts.push(cur);
  return { texts, convs };
}

/** A value ready for one conversion: an integer (bigint) or text. */
export type FormatValue = bigint | string;

/** Render one conversion like C's printf (integers as 64-bit, narrowed by the length modifier). */
export function renderConversion(c: Conversion, v: FormatValue): string {
  let body: string;
  const left = c.flags.includes('-');
  const zero = c.flags.includes('0') && !left;
  let sign = '';
  if (typeof v === 'string') {
    // %r is bpftrace's conversion for buf() values, which arrive already escaped
    body = c.conv === 'c' ? v.slice(0, 1) : c.precision !== undefined ? v.slice(0, c.precision) : v;
  } else {
    // as C's printf: no length modifier is an int (32 bits), l/ll/z/j are 64 bits
    const bits = c.length === 'hh' ? 8 : c.length === 'h' ? 16 : c.length === '' ? 32 : 64;
    switch (c.conv) {
      case 'd': case 'i': {
        let n = BigInt.asIntN(bits, v);
        if (n < 0n) {
          sign = '-';
          n = -n;
        } else if (c.flags.includes('+')) sign = '+';
        else if (c.flags.includes(' ')) sign = ' ';
        body = n.toString();
        break;
      }
      case 'u': body = BigInt.asUintN(bits, v).toString(); break;
      case 'x': body = BigInt.asUintN(bits, v).toString(16); if (c.flags.includes('#') && v !== 0n) sign = '0x'; break;
      case 'X': body = BigInt.asUintN(bits, v).toString(16).toUpperCase(); if (c.flags.includes('#') && v !== 0n) sign = '0X'; break;
      case 'o': body = BigInt.asUintN(bits, v).toString(8); if (c.flags.includes('#')) sign = '0'; break;
      case 'c': body = String.fromCharCode(Number(BigInt.asUintN(8, v))); break;
      case 'p': body = '0x' + BigInt.asUintN(64, v).toString(16); break;
      case 's': body = v.toString(); break;
      default: body = Number(v).toString();
    }
    if (c.precision !== undefined && 'diouxX'.includes(c.conv)) body = body.padStart(c.precision, '0');
  }
  const w = c.width ?? 0;
  const len = sign.length + body.length;
  if (len >= w) return sign + body;
  if (left) return sign + body + ' '.repeat(w - len);
  if (zero && typeof v !== 'string') return sign + '0'.repeat(w - len) + body;
  return ' '.repeat(w - len) + sign + body;
}

export function renderFormat(f: ParsedFormat, values: FormatValue[]): string {
  let out = f.texts[0]!;
  f.convs.forEach((c, i) => {
    out += renderConversion(c, values[i] ?? '') + f.texts[i + 1]!;
  });
  return out;
}

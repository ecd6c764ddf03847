// Tokens of the pcap-filter language (tcpdump's expression syntax). Numbers are decimal, 0x hex or
// 0-prefixed octal; dotted quads, IPv6 and MAC addresses are tokens of their own, as in libpcap's
// scanner, so `10.0.0.0/8` lexes as ADDR4 '/' NUM. A backslash makes a keyword a plain name
// (`proto \tcp`).
import { FilterSyntaxError } from './error.js';

export type TokenKind =
  | 'num' // 80, 0x50, 0120
  | 'addr4' // 10.0.0.1, or a partial net 10.1
  | 'addr6' // fe80::1
  | 'mac' // 00:11:22:33:44:55
  | 'name' // identifiers and keywords (keyword-ness is decided by the parser, see `escaped`)
  | 'op' // punctuation and operators
  | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based column of the first character */
  pos: number;
  /** numeric value of 'num' tokens */
  value?: number;
  /** a name written with a leading backslash: never a keyword */
  escaped?: boolean;
}

const OPS = ['&&', '||', '<<', '>>', '>=', '<=', '==', '!=', '(', ')', '[', ']', ':', '!', '&', '|', '^', '+', '-', '*', '/', '%', '>', '<', '='];

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isNameChar = (c: string): boolean => /[A-Za-z0-9_.\-]/.test(c);

/** Parse a libpcap number: 0x hex, leading-0 octal, else decimal. Unsigned 32-bit. */
export function parseNumber(text: string): number | undefined {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^0[0-7]+$/.test(text)) v = parseInt(text.slice(1), 8);
  else if (/^[0-9]+$/.test(text)) v = parseInt(text, 10);
  else return undefined;
  return v <= 0xffffffff ? v : undefined;
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === '\\') {
      let j = i + 1;
      while (j < src.length && isNameChar(src[j]!)) j++;
      const word = src.slice(i + 1, j);
      if (!/^[A-Za-z_][A-Za-z0-9_\-]*$/.test(word)) throw new FilterSyntaxError('a backslash must be followed by a name', src, start);
      out.push({ kind: 'name', text: word, pos: start, escaped: true });
      i = j;
      continue;
    }
    if ((isNameChar(c) && c !== '.' && c !== '-') || (c === ':' && src[i + 1] === ':')) {
      // Take the longest run of name/address characters, then classify it; if it is not an
      // address, a ':' ends it (ether[0:4]) and what is left is a number or a name.
      let j = i;
      while (j < src.length && (isNameChar(src[j]!) || src[j] === ':')) j++;
      let word = src.slice(i, j);
      let kind = classify(word);
      if (!kind && word.includes(':')) {
        word = word.slice(0, word.indexOf(':'));
        if (word === '') {
          out.push({ kind: 'op', text: ':', pos: start });
          i++;
          continue;
        }
        kind = classify(word);
      }
      if (kind) {
        const tok: Token = { kind, text: word, pos: start };
        if (kind === 'num') {
          tok.value = parseNumber(word);
          if (tok.value === undefined) throw new FilterSyntaxError(`number '${word}' is out of range`, src, start, word.length);
        }
        out.push(tok);
        i += word.length;
        continue;
      }
      // a name; a trailing '.' or '-' is not part of it
      while (word.length > 1 && (word.endsWith('.') || word.endsWith('-'))) word = word.slice(0, -1);
      if (isDigit(c) && !/^[0-9]+-[0-9]+$/.test(word)) {
        throw new FilterSyntaxError(`malformed number or address '${word}'`, src, start, word.length);
      }
      out.push({ kind: 'name', text: word, pos: start });
      i += word.length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new FilterSyntaxError(`unexpected character '${c}'`, src, start);
    out.push({ kind: 'op', text: op, pos: start });
    i += op.length;
  }
  out.push({ kind: 'eof', text: '', pos: src.length });
  return out;
}

/** What an address-ish word is, or undefined if it is not a number or address (then it is a name). */
function classify(w: string): TokenKind | undefined {
  if (/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(w)) return 'num';
  if (/^[0-9]+(\.[0-9]+){1,3}$/.test(w)) return 'addr4';
  if (/^[0-9a-fA-F]{1,2}([:.\-][0-9a-fA-F]{1,2}){5}$/.test(w)) return 'mac';
  if (w.includes(':') && /^[0-9a-fA-F:.]+$/.test(w) && parseIPv6(w) !== undefined) return 'addr6';
  return undefined;
}

/** IPv4 dotted quad (all four parts) → 32-bit number. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255) return undefined;
    v = v * 256 + Number(p);
  }
  return v;
}

/** IPv6 text (with ::, optional trailing dotted quad) → 16 bytes. */
export function parseIPv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      if (k === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, k) => {
    bytes[2 * k] = g >> 8;
    bytes[2 * k + 1] = g & 0xff;
  });
  return bytes;
}

/** MAC address aa:bb:cc:dd:ee:ff (or with '-' or '.') → 6 bytes. */
export function parseMAC(text: string): Uint8Array | undefined {
  const parts = text.split(/[:.\-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return undefined;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

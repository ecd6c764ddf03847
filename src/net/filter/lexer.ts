// Tokens of the pcap-filter language, cut as libpcap's scanner (scanner.l) cuts them: at each point
// the longest of the token patterns wins, and on a tie the one libpcap lists first (an Ethernet
// address before a number or a name, a number or dotted address before a name). So `10.1` is a
// dotted address, `abcdef000003` and `1.2.3.4.5.6` are Ethernet addresses, `80-90` and `len-14` are
// names, and the flag names (`tcp-syn`, `icmptype`, ...) are numbers wherever they appear.
// A backslash makes the rest of a word a plain name (`proto \tcp`).
import { parseIPv4, parseIPv6 } from '../../output/inet.js';
import { FilterSyntaxError } from './error.js';
import { CONSTANTS } from './names.js';

export type TokenKind =
  | 'num' // 80, 0x50, 0120, tcp-syn
  | 'addr4' // a dotted address of 2 to 4 parts: 10.0.0.1, 10.1 (libpcap's HID)
  | 'addr6' // fe80::1
  | 'mac' // 00:11:22:33:44:55, 0011.2233.4455, 001122334455, ...
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

// libpcap's patterns (B: 1-2 hex digits, B2: exactly 4, N: decimal or 0x hex)
const B = '[0-9A-Fa-f]{1,2}';
const B2 = '[0-9A-Fa-f]{4}';
const N = '(?:0[xX][0-9A-Fa-f]+|[0-9]+)';
const MAC_RE = new RegExp(`(?:${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|[0-9A-Fa-f]{12})`, 'y');
const HID_RE = new RegExp(`${N}\\.${N}(?:\\.${N}(?:\\.${N})?)?`, 'y');
const NUM_RE = new RegExp(N, 'y');
const ID_RE = /[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/y;
/** what libpcap reports as "bogus ethernet address": colon-separated groups that are nothing else */
const BOGUS_RE = new RegExp(`${B}:+(?:${B}:+)+`, 'y');
const V6_RUN = /[0-9A-Fa-f:.]+/y;

const longest = (re: RegExp, src: string, at: number): number => {
  re.lastIndex = at;
  const m = re.exec(src);
  return m ? m[0].length : 0;
};

/** Parse a libpcap number: 0x hex, leading-0 octal, else decimal; undefined if malformed or over 32 bits. */
export function parseNumber(text: string): number | undefined {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^0[0-7]+$/.test(text)) v = parseInt(text.slice(1), 8);
  else if (/^(0|[1-9][0-9]*)$/.test(text)) v = parseInt(text, 10);
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
      // libpcap: a backslash takes everything up to a blank, '!' or a parenthesis
      let j = i + 1;
      while (j < src.length && !' \t\n!()'.includes(src[j]!)) j++;
      if (j === i + 1) throw new FilterSyntaxError('a backslash must be followed by a name', src, start);
      out.push({ kind: 'name', text: src.slice(i + 1, j), pos: start, escaped: true });
      i = j;
      continue;
    }
    if (/[A-Za-z0-9:]/.test(c)) {
      const tok = word(src, i);
      if (tok) {
        out.push(tok);
        i += tok.text.length;
        continue;
      }
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new FilterSyntaxError(`unexpected character '${c}'`, src, start);
    out.push({ kind: 'op', text: op, pos: start });
    i += op.length;
  }
  out.push({ kind: 'eof', text: '', pos: src.length });
  return out;
}

/** The longest token starting at `i` that is an address, a number or a name; undefined for ':' alone. */
function word(src: string, i: number): Token | undefined {
  const mac = longest(MAC_RE, src, i);
  const hid = longest(HID_RE, src, i);
  const num = longest(NUM_RE, src, i);
  const id = longest(ID_RE, src, i);
  const v6 = ipv6Length(src, i);
  const bogus = longest(BOGUS_RE, src, i);
  const best = Math.max(mac, hid, num, id, v6);
  if (best === 0 && bogus === 0) return undefined;
  if (bogus > best) throw new FilterSyntaxError(`bogus ethernet address ${src.slice(i, i + bogus)}`, src, i, bogus);
  const text = src.slice(i, i + best);
  // ties go to the pattern libpcap lists first
  if (mac === best) return { kind: 'mac', text, pos: i };
  if (num === best) {
    const value = parseNumber(text);
    if (value === undefined) {
      const why = /^0[0-9]+$/.test(text) ? 'contains non-octal digit' : 'overflows 32 bits';
      throw new FilterSyntaxError(`number ${text} ${why}`, src, i, text.length);
    }
    return { kind: 'num', text, pos: i, value };
  }
  if (hid === best) return { kind: 'addr4', text, pos: i };
  if (v6 === best) return { kind: 'addr6', text, pos: i };
  const constant = CONSTANTS[text];
  if (constant !== undefined) return { kind: 'num', text, pos: i, value: constant };
  return { kind: 'name', text, pos: i };
}

/** Length of the IPv6 address at `i` (the longest run of address characters that parses), or 0. */
function ipv6Length(src: string, i: number): number {
  let n = longest(V6_RUN, src, i);
  // a trailing ':' or '.' may belong to what follows (`ip6[fe80::1:...`)
  for (let k = 0; k < 2 && n > 0; k++) {
    const t = src.slice(i, i + n);
    if (t.includes(':') && parseIPv6(t)) return n;
    if (!/[:.]$/.test(t)) return 0;
    n--;
  }
  return 0;
}

/**
 * A dotted address of 1 to 4 decimal parts as libpcap's __pcap_atoin reads it: the value of the
 * parts given (`10.1` → 0x0a01) and how many bits they make (16). Undefined if a part is over 255
 * or not decimal.
 */
export function parsePartialIPv4(text: string): { value: number; bits: number } | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p) || Number(p) > 255) return undefined;
    v = v * 256 + Number(p);
  }
  return { value: v >>> 0, bits: 8 * parts.length };
}

/**
 * MAC address in any of libpcap's spellings → 6 bytes: aa:bb:cc:dd:ee:ff (or with '-' or '.'
 * between bytes), aabb.ccdd.eeff, aabbccddeeff.
 */
export function parseMAC(text: string): Uint8Array | undefined {
  let parts: string[];
  if (/^[0-9a-fA-F]{12}$/.test(text)) parts = text.match(/../g)!;
  else if (/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(text)) parts = text.replace(/\./g, '').match(/../g)!;
  else parts = text.split(/[:.\-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return undefined;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

// CIDR prefixes (IPv4 and IPv6) as LPM-trie keys: parse, normalise (host bits cleared), print.
// Pure: no Node built-ins.
import { formatIPv4, formatIPv6 } from '../../output/inet.js';

export interface Cidr {
  family: 4 | 6;
  /** network address, host bits zero (4 or 16 bytes, network order) */
  addr: Uint8Array;
  prefixLen: number;
}

export class CidrError extends TypeError {
  constructor(readonly input: string, reason: string) {
    super(`invalid CIDR "${input}": ${reason}`);
    this.name = 'CidrError';
  }
}

function parseIpv4(s: string, input: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  parts.forEach((p, i) => {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new CidrError(input, `"${p}" is not a number 0..255`);
    out[i] = Number(p);
  });
  return out;
}

function parseIpv6(s: string, input: string): Uint8Array {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) throw new CidrError(input, 'not an IPv4 or IPv6 address');
  const halves = s.split('::');
  if (halves.length > 2) throw new CidrError(input, '"::" more than once');
  const groups = (h: string): number[] => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    parts.forEach((p, i) => {
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p, input);
        if (!v4) throw new CidrError(input, `bad embedded IPv4 "${p}"`);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        return;
      }
      if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) throw new CidrError(input, `bad group "${p}"`);
      out.push(parseInt(p, 16));
    });
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) throw new CidrError(input, 'wrong number of groups');
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** "10.0.0.0/8", "192.0.2.1" (= /32), "2001:db8::/32", "::1" (= /128). */
export function parseCidr(input: string): Cidr {
  const s = input.trim();
  if (!s) throw new CidrError(input, 'empty');
  const slash = s.indexOf('/');
  const host = slash < 0 ? s : s.slice(0, slash);
  const v4 = host.includes(':') ? undefined : parseIpv4(host, input);
  if (!v4 && !host.includes(':')) throw new CidrError(input, 'not an IPv4 or IPv6 address');
  const addr = v4 ?? parseIpv6(host, input);
  const bits = addr.length * 8;
  let prefixLen = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) throw new CidrError(input, `prefix length must be 0..${bits}`);
    prefixLen = Number(p);
  }
  for (let i = 0; i < addr.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLen - i * 8));
    addr[i]! &= (0xff00 >> keep) & 0xff;
  }
  return { family: v4 ? 4 : 6, addr, prefixLen };
}

/** Canonical text: dotted quad or RFC 5952 IPv6, with /len. */
export function formatCidr(c: Cidr): string {
  return `${formatAddr(c.addr)}/${c.prefixLen}`;
}

export function formatAddr(a: Uint8Array): string {
  return a.length === 4 ? formatIPv4(a) : formatIPv6(a);
}

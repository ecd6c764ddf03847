// Addresses as inet_ntop prints them (and tcpdump, bpftrace, libbpf-tools with it): dotted quad for
// IPv4, RFC 5952 text for IPv6 (lower case, the longest run of two or more zero groups as "::", an
// IPv4-mapped address as ::ffff:a.b.c.d), and that text read back (inet_pton's forms). One
// implementation for the tools, the script language's ntop()/pton(), the filter language and the
// packet printer.

import { AF_INET, AF_INET6 } from '../uapi/socket.js';

/** The address families records name (linux/socket.h). */
export { AF_INET, AF_INET6 };

/** The IPv4 address of the 4 bytes at `o`. */
export function formatIPv4(b: Uint8Array | readonly number[], o = 0): string {
  return `${b[o] ?? 0}.${b[o + 1] ?? 0}.${b[o + 2] ?? 0}.${b[o + 3] ?? 0}`;
}

/** The IPv6 address of the 16 bytes at `o`. */
export function formatIPv6(b: Uint8Array | readonly number[], o = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((((b[o + 2 * i] ?? 0) << 8) | (b[o + 2 * i + 1] ?? 0)) >>> 0);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${formatIPv4(b, o + 12)}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** An address of family `af` from a 16-byte field (IPv4 in its first 4 bytes). */
export function formatInet(af: number, b: Uint8Array | readonly number[]): string {
  return af === AF_INET ? formatIPv4(b) : formatIPv6(b);
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

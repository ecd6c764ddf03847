// Addresses as inet_ntop prints them (and tcpdump, bpftrace, libbpf-tools with it): dotted quad for
// IPv4, RFC 5952 text for IPv6 (lower case, the longest run of two or more zero groups as "::", an
// IPv4-mapped address as ::ffff:a.b.c.d). One implementation for the tools, the script language's
// ntop() and the packet printer.

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

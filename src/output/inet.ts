// Addresses as inet_ntop prints them: dotted quad for IPv4, RFC 5952 text for IPv6 (lowercase,
// longest run of two or more zero groups as "::", v4-mapped as ::ffff:a.b.c.d).

export const AF_INET = 2;
export const AF_INET6 = 10;

export function ipv4String(b: Uint8Array | readonly number[]): string {
  return `${b[0] ?? 0}.${b[1] ?? 0}.${b[2] ?? 0}.${b[3] ?? 0}`;
}

export function ipv6String(b: Uint8Array | readonly number[]): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0)) >>> 0);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${ipv4String([b[12] ?? 0, b[13] ?? 0, b[14] ?? 0, b[15] ?? 0])}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Address of family af (2 or 10) from the tools' 16-byte fields (IPv4 in the first 4 bytes). */
export function inetString(af: number, b: Uint8Array | readonly number[]): string {
  return af === AF_INET ? ipv4String(b) : ipv6String(b);
}

// Random Ethernet frames for the execution oracle: IPv4 UDP/TCP/ICMP, ARP, IPv6 and junk, with
// random addresses, ports, TTLs, header lengths and payload sizes.
import { Rng } from './random-program.js';

function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[off + i]! << 8) | b[off + i + 1]!;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export function randomPacket(g: Rng): Uint8Array {
  const kind = g.int(10);
  const payload = g.int(5) === 0 ? g.int(1200) : g.int(80);
  const l4 = kind < 4 ? 8 : kind < 7 ? 20 : 8;
  const ihl = g.int(8) === 0 ? 6 : 5;
  const len = kind === 9 ? 14 + g.int(40) : 14 + ihl * 4 + l4 + payload;
  const p = Uint8Array.from({ length: len }, () => g.int(256));
  const v = new DataView(p.buffer);
  // Destination MAC: mostly unicast.
  if (g.int(6) !== 0) p[0] = p[0]! & 0xfe;
  if (kind === 8) {
    v.setUint16(12, g.int(2) ? 0x0806 : 0x86dd);
    return p;
  }
  if (kind === 9) return p;
  v.setUint16(12, 0x0800);
  const ip = 14;
  p[ip] = 0x40 | ihl;
  v.setUint16(ip + 2, len - 14);
  v.setUint16(ip + 6, g.int(8) === 0 ? 0x2001 : 0x4000);
  p[ip + 8] = g.pick([0, 1, 2, 64, 255]);
  p[ip + 9] = kind < 4 ? 17 : kind < 7 ? 6 : 1;
  v.setUint16(ip + 10, 0);
  v.setUint16(ip + 10, ipChecksum(p, ip, ihl * 4));
  const t = ip + ihl * 4;
  if (kind < 7 && g.int(3) === 0) v.setUint16(t + 2, g.pick([22, 53, 80, 443]));
  return p;
}

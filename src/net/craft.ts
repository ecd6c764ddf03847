// Frame builders: Ethernet, 802.1Q, IPv4 (with options and fragments), IPv6 (with a fragment
// header), TCP, UDP, ICMP, ICMPv6, SCTP and ARP, with correct lengths and checksums. Used by the
// tests and benchmarks to make varied captures, and by anyone who needs a packet for test runs.
import { parseIPv4, parseIPv6 } from '../output/inet.js';
import { parseMAC } from './filter/lexer.js';
import { concat } from './pcap.js';

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_ARP = 0x0806;
export const ETH_P_RARP = 0x8035;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const IPPROTO = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132, FRAGMENT: 44, ESP: 50 } as const;
export const TCP_FLAGS = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128 } as const;

export { concat };

const mac = (m: string): Uint8Array => {
  const b = parseMAC(m);
  if (!b) throw new Error(`bad MAC address '${m}'`);
  return b;
};
const ip4 = (a: string): Uint8Array => {
  const v = parseIPv4(a);
  if (v === undefined) throw new Error(`bad IPv4 address '${a}'`);
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
};
const ip6 = (a: string): Uint8Array => {
  const v = parseIPv6(a);
  if (!v) throw new Error(`bad IPv6 address '${a}'`);
  return v;
};

/** The Internet checksum (RFC 1071) of the concatenation of `parts`. */
export function inetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = -1;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      if (odd >= 0) {
        sum += (odd << 8) | p[i]!;
        odd = -1;
      } else if (i + 1 < p.length) {
        sum += (p[i]! << 8) | p[i + 1]!;
        i++;
      } else odd = p[i]!;
    }
  }
  if (odd >= 0) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ether(o: { dst: string; src: string; type: number; vlans?: { id: number; tpid?: number; pcp?: number }[] }, payload: Uint8Array): Uint8Array {
  const head = [mac(o.dst), mac(o.src)];
  for (const v of o.vlans ?? []) head.push(Uint8Array.of((v.tpid ?? ETH_P_8021Q) >> 8, (v.tpid ?? ETH_P_8021Q) & 0xff, ((v.pcp ?? 0) << 5) | (v.id >> 8), v.id & 0xff));
  head.push(Uint8Array.of(o.type >> 8, o.type & 0xff));
  return concat(...head, payload);
}

export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  ttl?: number;
  id?: number;
  tos?: number;
  /** raw IP options, padded to a multiple of 4 */
  options?: Uint8Array;
  /** fragment offset in 8-byte units */
  fragOffset?: number;
  moreFragments?: boolean;
  dontFragment?: boolean;
}

export function ipv4(o: Ipv4Options, payload: Uint8Array): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  const h = new Uint8Array(20 + optLen);
  h.set(opts, 20);
  const v = new DataView(h.buffer);
  h[0] = 0x40 | ((20 + optLen) / 4);
  h[1] = o.tos ?? 0;
  v.setUint16(2, h.length + payload.length);
  v.setUint16(4, o.id ?? 0);
  v.setUint16(6, (o.dontFragment ? 0x4000 : 0) | (o.moreFragments ? 0x2000 : 0) | (o.fragOffset ?? 0));
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  h.set(ip4(o.src), 12);
  h.set(ip4(o.dst), 16);
  v.setUint16(10, inetChecksum(h));
  return concat(h, payload);
}

export function ipv6(o: { src: string; dst: string; nxt: number; hopLimit?: number; flow?: number }, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(40);
  const v = new DataView(h.buffer);
  v.setUint32(0, (6 << 28) | (o.flow ?? 0));
  v.setUint16(4, payload.length);
  h[6] = o.nxt;
  h[7] = o.hopLimit ?? 64;
  h.set(ip6(o.src), 8);
  h.set(ip6(o.dst), 24);
  return concat(h, payload);
}

/** IPv6 fragment extension header (to put before the fragment's payload). */
export function ipv6Fragment(o: { nxt: number; offset: number; more: boolean; id: number }): Uint8Array {
  const h = new Uint8Array(8);
  const v = new DataView(h.buffer);
  h[0] = o.nxt;
  v.setUint16(2, (o.offset << 3) | (o.more ? 1 : 0));
  v.setUint32(4, o.id);
  return h;
}

/** Pseudo-header for transport checksums. */
function pseudo(src: Uint8Array, dst: Uint8Array, proto: number, len: number): Uint8Array {
  if (src.length === 4) return concat(src, dst, Uint8Array.of(0, proto, len >> 8, len & 0xff));
  return concat(src, dst, Uint8Array.of(len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, 0, 0, 0, proto));
}

const addrBytes = (a: string): Uint8Array => (a.includes(':') ? ip6(a) : ip4(a));

export interface TcpOptions {
  sport: number;
  dport: number;
  flags: number;
  seq?: number;
  ack?: number;
  win?: number;
  /** raw TCP options */
  options?: Uint8Array;
  /** addresses for the checksum */
  src?: string;
  dst?: string;
}

export function tcp(o: TcpOptions, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  const h = new Uint8Array(20 + optLen);
  h.set(opts, 20);
  const v = new DataView(h.buffer);
  v.setUint16(0, o.sport);
  v.setUint16(2, o.dport);
  v.setUint32(4, o.seq ?? 0);
  v.setUint32(8, o.ack ?? 0);
  h[12] = ((20 + optLen) / 4) << 4;
  h[13] = o.flags;
  v.setUint16(14, o.win ?? 64240);
  const seg = concat(h, payload);
  if (o.src && o.dst) new DataView(seg.buffer).setUint16(16, inetChecksum(pseudo(addrBytes(o.src), addrBytes(o.dst), IPPROTO.TCP, seg.length), seg));
  return seg;
}

export function udp(o: { sport: number; dport: number; src?: string; dst?: string }, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const seg = concat(new Uint8Array(8), payload);
  const v = new DataView(seg.buffer);
  v.setUint16(0, o.sport);
  v.setUint16(2, o.dport);
  v.setUint16(4, seg.length);
  if (o.src && o.dst) v.setUint16(6, inetChecksum(pseudo(addrBytes(o.src), addrBytes(o.dst), IPPROTO.UDP, seg.length), seg) || 0xffff);
  return seg;
}

export function sctp(o: { sport: number; dport: number }, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new Uint8Array(12);
  const v = new DataView(h.buffer);
  v.setUint16(0, o.sport);
  v.setUint16(2, o.dport);
  return concat(h, payload);
}

/** ICMP (or ICMPv6 with `v6` addresses for the checksum) echo-style message. */
export function icmp(o: { type: number; code?: number; id?: number; seq?: number; v6?: { src: string; dst: string } }, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const m = concat(Uint8Array.of(o.type, o.code ?? 0, 0, 0, (o.id ?? 0) >> 8, (o.id ?? 0) & 0xff, (o.seq ?? 0) >> 8, (o.seq ?? 0) & 0xff), payload);
  const sum = o.v6 ? inetChecksum(pseudo(ip6(o.v6.src), ip6(o.v6.dst), IPPROTO.ICMPV6, m.length), m) : inetChecksum(m);
  new DataView(m.buffer).setUint16(2, sum);
  return m;
}

/** ARP (or RARP) for Ethernet/IPv4: op 1 request, 2 reply (3/4 for RARP). */
export function arp(o: { op: number; sha: string; spa: string; tha: string; tpa: string }): Uint8Array {
  return concat(Uint8Array.of(0, 1, 8, 0, 6, 4, 0, o.op), mac(o.sha), ip4(o.spa), mac(o.tha), ip4(o.tpa));
}

// ---- link-layer and tunnel encapsulations (802.3/LLC, MPLS, PPPoE, Geneve) and IPv6 extension headers ----

/** An IEEE 802.3 frame: a length instead of an EtherType (the payload starts with an LLC header). */
export function ether8023(o: { dst: string; src: string }, payload: Uint8Array): Uint8Array {
  return concat(mac(o.dst), mac(o.src), Uint8Array.of(payload.length >> 8, payload.length & 0xff), payload);
}

/** An 802.2 LLC header; a control field over 0xff (I and S frames) takes two bytes. */
export function llc(dsap: number, ssap: number, control: number): Uint8Array {
  return control > 0xff || (control & 0x03) !== 0x03 ? Uint8Array.of(dsap, ssap, control & 0xff, control >> 8) : Uint8Array.of(dsap, ssap, control);
}

/** An 802.2 SNAP header (LLC AA AA 03, then OUI and EtherType). */
export function snap(oui: number, type: number): Uint8Array {
  return Uint8Array.of(0xaa, 0xaa, 0x03, oui >> 16, (oui >> 8) & 0xff, oui & 0xff, type >> 8, type & 0xff);
}

/** An MPLS label stack (the last label has bottom-of-stack set) in front of `payload`. */
export function mpls(labels: number[], payload: Uint8Array, ttl = 64): Uint8Array {
  const out = new Uint8Array(4 * labels.length);
  const v = new DataView(out.buffer);
  labels.forEach((l, k) => v.setUint32(4 * k, ((l << 12) | (k === labels.length - 1 ? 0x100 : 0) | ttl) >>> 0));
  return concat(out, payload);
}

/** A PPPoE header (version/type 1/1); a session packet's payload starts with a PPP protocol (see ppp()). */
export function pppoe(o: { code: number; session: number }, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x11, o.code, o.session >> 8, o.session & 0xff, payload.length >> 8, payload.length & 0xff), payload);
}

export function ppp(protocol: number, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(protocol >> 8, protocol & 0xff), payload);
}

/** A Geneve header: version, VNI, protocol type (0x6558 for Ethernet), options (a multiple of 4 bytes). */
export function geneve(o: { vni: number; protocol: number; version?: number; options?: Uint8Array }, payload: Uint8Array): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const h = Uint8Array.of(((o.version ?? 0) << 6) | (opts.length / 4), 0, o.protocol >> 8, o.protocol & 0xff, o.vni >> 16, (o.vni >> 8) & 0xff, o.vni & 0xff, 0);
  return concat(h, opts, payload);
}

/** An IPv6 extension header with length field `len8` (8-byte units after the first 8), padded with zeros. */
export function ipv6Ext(nxt: number, len8: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(8 * (len8 + 1));
  h[0] = nxt;
  h[1] = len8;
  return concat(h, payload);
}

/** An IP Authentication Header (RFC 4302) with a 12-byte ICV: its length field is 4 (32-bit words, minus 2). */
export function ah(nxt: number, spi: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(24);
  const v = new DataView(h.buffer);
  h[0] = nxt;
  h[1] = 4;
  v.setUint32(4, spi);
  v.setUint32(8, 1);
  return concat(h, payload);
}

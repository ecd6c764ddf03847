// Addresses: `host`/`net` for IPv4 (with ARP/RARP), IPv6 and DECnet, Ethernet addresses, and
// `broadcast`/`multicast` (libpcap's gen_ncode, gen_mcode, gen_host, gen_ehostop, gen_dnhostop).
import type { Id, ProtoName, Qualifiers } from './ast.js';
import { TRUE, allOf, and, anyOf, bin, cmp, num, or, type Pred, type Val } from './ir.js';
import { parseIPv6 } from '../../output/inet.js';
import { parseMAC, parsePartialIPv4 } from './lexer.js';
import { ETHERTYPE } from './link.js';
import type { LowerContext } from './lower-context.js';

/** The test for one direction, or both combined as the qualifier says (`src or dst` by default). */
export function dirTest(q: Qualifiers, test: (src: boolean) => Pred): Pred {
  switch (q.dir) {
    case 'src':
      return test(true);
    case 'dst':
      return test(false);
    case 'src and dst':
      return and(test(true), test(false));
    default:
      return or(test(true), test(false));
  }
}

/** `v & mask == want`; a zero mask tests nothing (libpcap's optimizer drops the load too). */
function masked(v: Val, mask: number, want: number): Pred {
  if (mask === 0) return TRUE;
  return cmp(mask === 0xffffffff ? v : bin('&', v, num(mask)), 'eq', (want & mask) >>> 0);
}

/** `host ID`, `net ID`, or an id with no type qualifier (a host). */
export function hostOrNet(cx: LowerContext, q: Qualifiers, id: Id): Pred {
  const type = q.type ?? 'host';
  const isNet = type === 'net';
  if (id.kind === 'mac') {
    if (type !== 'host' || q.proto !== 'ether') throw cx.err('ethernet address used in non-ether expression', id.pos, id.text.length);
    return etherHost(cx, q, parseMAC(id.text)!, id.pos);
  }
  if (id.kind === 'addr6') return host6(cx, q, id);
  if (id.kind === 'name') {
    const what = q.proto === 'ether' ? 'ether host' : isNet ? 'network' : 'host';
    throw cx.err(`cannot resolve ${what} name '${id.text}' (tsbpf does not look names up; use an address)`, id.pos, id.text.length);
  }
  if (q.proto === 'decnet') {
    const a = id.kind === 'num' ? id.value & 0xffff : decnetAddr(cx, id);
    return decnetHost(cx, q, a);
  }
  if (q.proto === 'ether') throw cx.err('illegal link layer address', id.pos, id.text.length);
  let addr: number;
  let mask: number;
  if (id.kind === 'num') {
    // gen_ncode: a bare number is a whole address for `host`, and for `net` the leading non-zero
    // bytes of one (`net 10` = 10.0.0.0/8, `net 300` = 1.44.0.0/16, `net 0` = host 0.0.0.0)
    addr = id.value;
    mask = 0xffffffff;
    if (isNet) {
      while (addr !== 0 && (addr & 0xff000000) === 0) {
        addr = (addr << 8) >>> 0;
        mask = (mask << 8) >>> 0;
      }
    }
  } else {
    const a = parsePartialIPv4(id.text);
    if (!a) throw cx.err(`invalid IPv4 address '${id.text}'`, id.pos, id.text.length);
    // a dotted address with fewer than four parts is the network those parts make (`host 10.1`
    // is 10.1.0.0/16 too, as in libpcap)
    addr = shiftLeft(a.value, 32 - a.bits);
    mask = shiftLeft(0xffffffff, 32 - a.bits);
    if (id.prefix !== undefined || id.mask !== undefined) {
      if (id.mask !== undefined) {
        const m = parsePartialIPv4(id.mask);
        if (!m) throw cx.err(`invalid IPv4 address '${id.mask}'`, id.pos);
        mask = shiftLeft(m.value, 32 - m.bits);
        if ((addr & ~mask) >>> 0) throw cx.err(`non-network bits set in "${id.text} mask ${id.mask}"`, id.pos);
      } else {
        if (id.prefix! > 32) throw cx.err('mask length must be <= 32', id.pos);
        mask = id.prefix === 0 ? 0 : shiftLeft(0xffffffff, 32 - id.prefix!);
        if ((addr & ~mask) >>> 0) throw cx.err(`non-network bits set in "${id.text}/${id.prefix}"`, id.pos);
      }
      if (!isNet) throw cx.err('Mask syntax for networks only', id.pos);
    }
  }
  return host4(cx, q, addr, mask, isNet ? 'net' : 'host');
}

const shiftLeft = (v: number, by: number): number => (by >= 32 ? 0 : (v << by) >>> 0);

/** libpcap's gen_host: IPv4 in IP and, unless restricted to ip (or inside MPLS), ARP and RARP. */
function host4(cx: LowerContext, q: Qualifiers, addr: number, mask: number, what: string): Pred {
  const hostop = (type: number, src: number, dst: number): Pred =>
    and(cx.linkType(type, q.pos), dirTest(q, (s) => masked(cx.net(s ? src : dst, 4), mask, addr)));
  switch (q.proto) {
    case undefined:
      if (cx.st.labels > 0) return hostop(ETHERTYPE.IP, 12, 16);
      return or(hostop(ETHERTYPE.IP, 12, 16), or(hostop(ETHERTYPE.ARP, 14, 24), hostop(ETHERTYPE.RARP, 14, 24)));
    case 'ip':
      return hostop(ETHERTYPE.IP, 12, 16);
    case 'arp':
      return hostop(ETHERTYPE.ARP, 14, 24);
    case 'rarp':
      return hostop(ETHERTYPE.RARP, 14, 24);
    case 'ip6':
      throw cx.err(`'ip6' modifier applied to ip ${what}`, q.pos);
    default:
      throw cx.err(`'${q.proto}' modifier applied to ${what}`, q.pos);
  }
}

function host6(cx: LowerContext, q: Qualifiers, id: Extract<Id, { kind: 'addr6' }>): Pred {
  const prefix = id.prefix ?? 128;
  const what = q.type === 'net' ? 'net' : 'host';
  if (q.type !== undefined && q.type !== 'host' && q.type !== 'net') throw cx.err('invalid qualifier against IPv6 address', q.pos);
  if (prefix > 128) throw cx.err('mask length must be <= 128', id.pos);
  const bytes = parseIPv6(id.text)!;
  for (let b = 0; b < 16; b++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * b));
    if (keep < 8 && bytes[b]! & (0xff >> keep)) throw cx.err(`non-network bits set in "${id.text}/${prefix}"`, id.pos);
  }
  if (what === 'host' && prefix !== 128) throw cx.err('Mask syntax for networks only', id.pos);
  if (q.proto !== undefined && q.proto !== 'ip6') {
    throw cx.err(q.proto === 'ether' ? `link-layer modifier applied to ip6 ${what}` : `'${q.proto}' modifier applied to ip6 ${what}`, q.pos);
  }
  const view = new DataView(bytes.buffer);
  const test = (off: number): Pred =>
    allOf(
      [0, 1, 2, 3].map((w) => {
        const bits = Math.max(0, Math.min(32, prefix - 32 * w));
        const mask = bits === 0 ? 0 : bits === 32 ? 0xffffffff : shiftLeft(0xffffffff, 32 - bits);
        return masked(cx.net(off + 4 * w, 4), mask, view.getUint32(4 * w));
      }),
    );
  return and(cx.linkType(ETHERTYPE.IPV6, q.pos), dirTest(q, (src) => test(src ? 8 : 24)));
}

/**
 * A DECnet address `area.node` → its 16-bit form, as libpcap's __pcap_atodn reads it: the first two
 * numbers (`sscanf("%d.%d")`, so `10.0.0.2` is 10.0), area and node cut to 6 and 10 bits.
 */
function decnetAddr(cx: LowerContext, id: Id): number {
  const m = /^([0-9]+)\.([0-9]+)/.exec(id.text);
  if (!m) throw cx.err(`malformed decnet address '${id.text}'`, id.pos, id.text.length);
  return ((Number(m[1]) << 10) & 0xfc00) | (Number(m[2]) & 0x3ff);
}

/**
 * libpcap's gen_dnhostop: the DECnet routing header comes long or short, with or without a pad
 * byte; the address is little-endian (compared byte-swapped, as libpcap on x86 does).
 */
function decnetHost(cx: LowerContext, q: Qualifiers, addr: number): Pred {
  const want = ((addr & 0xff) << 8) | (addr >> 8);
  const flags = (size: 1 | 2, mask: number, v: number): Pred => cmp(bin('&', cx.net(2, size), num(mask)), 'eq', v);
  const one = (src: boolean): Pred => {
    const [short, long] = src ? [3, 15] : [1, 7];
    return anyOf([
      and(flags(1, 0x07, 0x02), cmp(cx.net(2 + short, 2), 'eq', want)), // short header, no pad
      and(flags(2, 0xff07, 0x8102), cmp(cx.net(3 + short, 2), 'eq', want)), // short header, pad byte
      and(flags(1, 0x07, 0x06), cmp(cx.net(2 + long, 2), 'eq', want)), // long header, no pad
      and(flags(2, 0xff07, 0x8106), cmp(cx.net(3 + long, 2), 'eq', want)), // long header, pad byte
    ]);
  };
  return and(cx.linkType(ETHERTYPE.DN, q.pos), dirTest(q, one));
}

/** An Ethernet address as source, destination or either (libpcap's gen_ehostop). */
export function etherHost(cx: LowerContext, q: Qualifiers, mac: Uint8Array, pos: number): Pred {
  etherOnly(cx, pos, 'ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel');
  const v = new DataView(mac.buffer, mac.byteOffset, 6);
  const at = (off: number): Pred => and(cmp(cx.hdr(off + 2, 4), 'eq', v.getUint32(2)), cmp(cx.hdr(off, 2), 'eq', v.getUint16(0)));
  return withInnerEther(cx, dirTest(q, (src) => at(src ? 6 : 0)));
}

function etherOnly(cx: LowerContext, pos: number, message: string): void {
  if (cx.st.kind !== 'ether') throw cx.err(message, pos);
}

/** After `geneve`, link-layer tests need an inner Ethernet header (the payload starts after one). */
function withInnerEther(cx: LowerContext, p: Pred): Pred {
  const { hdr, pl } = cx.st;
  if (!cx.st.geneve || hdr.v === undefined || pl.v === undefined) return p;
  return and(cmp({ k: 'var', id: hdr.v }, 'ne', { k: 'var', id: pl.v }), p);
}

export function broadcast(cx: LowerContext, proto: ProtoName | undefined, pos: number): Pred {
  if (proto === undefined || proto === 'ether') {
    etherOnly(cx, pos, 'not a broadcast link');
    return etherHost(cx, { dir: 'dst', pos }, new Uint8Array(6).fill(0xff), pos);
  }
  if (proto !== 'ip') throw cx.err('only link-layer/IP broadcast filters supported', pos);
  // tcpdump reading a file compiles with netmask 0: the all-zeros and all-ones addresses
  const dst = cx.net(16, 4);
  return and(cx.linkType(ETHERTYPE.IP, pos), or(cmp(dst, 'eq', 0), cmp(dst, 'eq', 0xffffffff)));
}

export function multicast(cx: LowerContext, proto: ProtoName | undefined, pos: number): Pred {
  const linkOnly = 'link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel';
  if (proto === undefined || proto === 'ether') {
    etherOnly(cx, pos, linkOnly);
    return withInnerEther(cx, cmp(cx.hdr(0, 1), 'set', 1));
  }
  if (proto === 'ip') return and(cx.linkType(ETHERTYPE.IP, pos), cmp(cx.net(16, 1), 'ge', 224));
  if (proto === 'ip6') return and(cx.linkType(ETHERTYPE.IPV6, pos), cmp(cx.net(24, 1), 'eq', 0xff));
  throw cx.err(linkOnly, pos);
}

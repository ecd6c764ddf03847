// Protocol tests: the protocol names that stand alone (`tcp`, `isis`, `atalk`: libpcap's
// gen_proto_abbrev) and `[ip|ip6|ether|iso|isis] proto N` (gen_proto).
import type { Id, ProtoName, Qualifiers } from './ast.js';
import { and, anyOf, cmp, not, or, type Pred } from './ir.js';
import { ETHERTYPE, LLCSAP } from './link.js';
import type { LowerContext } from './lower-context.js';
import { ETHER_TYPES, LLC_SAPS } from './names.js';
import { IP_PROTOCOLS } from './services.js';

export const IPPROTO = { ICMP: 1, IGMP: 2, TCP: 6, IGRP: 9, UDP: 17, AH: 51, ESP: 50, ICMPV6: 58, PIM: 103, VRRP: 112, SCTP: 132, FRAGMENT: 44 } as const;

/** ISO NLPIDs and IS-IS PDU types. */
const NLPID = { CLNP: 0x81, ESIS: 0x82, ISIS: 0x83 } as const;
const ISIS = { L1_IIH: 15, L2_IIH: 16, PTP_IIH: 17, L1_LSP: 18, L2_LSP: 20, L1_CSNP: 24, L2_CSNP: 25, L1_PSNP: 26, L2_PSNP: 27 } as const;
const ISIS_SETS: Partial<Record<ProtoName, number[]>> = {
  l1: [ISIS.L1_IIH, ISIS.PTP_IIH, ISIS.L1_LSP, ISIS.L1_CSNP, ISIS.L1_PSNP],
  l2: [ISIS.L2_IIH, ISIS.PTP_IIH, ISIS.L2_LSP, ISIS.L2_CSNP, ISIS.L2_PSNP],
  iih: [ISIS.L1_IIH, ISIS.L2_IIH, ISIS.PTP_IIH],
  lsp: [ISIS.L1_LSP, ISIS.L2_LSP],
  snp: [ISIS.L1_CSNP, ISIS.L2_CSNP, ISIS.L1_PSNP, ISIS.L2_PSNP],
  csnp: [ISIS.L1_CSNP, ISIS.L2_CSNP],
  psnp: [ISIS.L1_PSNP, ISIS.L2_PSNP],
};

/** The link-layer protocol each of these names tests. */
const LINK_PROTOS: Partial<Record<ProtoName, number>> = {
  ip: ETHERTYPE.IP, ip6: ETHERTYPE.IPV6, arp: ETHERTYPE.ARP, rarp: ETHERTYPE.RARP, atalk: ETHERTYPE.ATALK, aarp: ETHERTYPE.AARP,
  decnet: ETHERTYPE.DN, lat: ETHERTYPE.LAT, sca: ETHERTYPE.SCA, moprc: ETHERTYPE.MOPRC, mopdl: ETHERTYPE.MOPDL,
  iso: LLCSAP.ISONS, stp: LLCSAP.STP, ipx: LLCSAP.IPX, netbeui: LLCSAP.NETBEUI,
};
/** Transport-ish names: IPv4 only, or IPv4 and IPv6 (as libpcap's gen_proto_abbrev has them). */
const IP4_ONLY: Partial<Record<ProtoName, number>> = { icmp: IPPROTO.ICMP, igmp: IPPROTO.IGMP, igrp: IPPROTO.IGRP, vrrp: IPPROTO.VRRP, carp: IPPROTO.VRRP };
const IP_ANY: Partial<Record<ProtoName, number>> = { tcp: IPPROTO.TCP, udp: IPPROTO.UDP, sctp: IPPROTO.SCTP, pim: IPPROTO.PIM, ah: IPPROTO.AH, esp: IPPROTO.ESP };

/** A protocol name standing alone. */
export function protoAbbrev(cx: LowerContext, p: ProtoName, pos: number): Pred {
  const link = LINK_PROTOS[p];
  if (link !== undefined) return cx.linkType(link, pos);
  if (IP4_ONLY[p] !== undefined) return ipProto(cx, IP4_ONLY[p]!, pos);
  if (IP_ANY[p] !== undefined) return or(ipProto(cx, IP_ANY[p]!, pos), ip6Proto(cx, IP_ANY[p]!, pos));
  switch (p) {
    case 'icmp6':
      return ip6Proto(cx, IPPROTO.ICMPV6, pos);
    case 'esis':
      return isoProto(cx, NLPID.ESIS, pos);
    case 'isis':
      return isoProto(cx, NLPID.ISIS, pos);
    case 'clnp':
      return isoProto(cx, NLPID.CLNP, pos);
    case 'ether':
      throw cx.err('link layer applied in wrong context', pos);
    case 'radio':
      throw cx.err("'radio' is not a valid protocol type", pos);
    default:
      return isisPdu(cx, ISIS_SETS[p]!, pos);
  }
}

export function ipProto(cx: LowerContext, n: number, pos: number): Pred {
  return and(cx.linkType(ETHERTYPE.IP, pos), cmp(cx.net(9, 1), 'eq', n));
}

/** IPv6 next header, or the header after one fragment header (libpcap does the same). */
export function ip6Proto(cx: LowerContext, n: number, pos: number): Pred {
  const nxt = cx.net(6, 1);
  return and(cx.linkType(ETHERTYPE.IPV6, pos), or(cmp(nxt, 'eq', n), and(cmp(nxt, 'eq', IPPROTO.FRAGMENT), cmp(cx.net(40, 1), 'eq', n))));
}

/** Fragment offset 0: the first fragment, or not fragmented. */
export function notFragment(cx: LowerContext): Pred {
  return not(cmp(cx.net(6, 2), 'set', 0x1fff));
}

/** An ISO protocol behind 802.2 (its NLPID). */
function isoProto(cx: LowerContext, nlpid: number, pos: number): Pred {
  return and(cx.linkType(LLCSAP.ISONS, pos), cmp(cx.netNosnap(0, 1), 'eq', nlpid));
}

function isisPdu(cx: LowerContext, types: number[], pos: number): Pred {
  return and(isoProto(cx, NLPID.ISIS, pos), anyOf(types.map((t) => cmp(cx.netNosnap(4, 1), 'eq', t))));
}

/** A protocol number from a number or a name, looked up as libpcap's lookup_proto does. */
export function protoNumber(cx: LowerContext, q: Qualifiers, id: Id): number {
  if (id.kind === 'num') return id.value;
  if (id.kind !== 'name') throw cx.err(`'${id.text}' is not a protocol`, id.pos, id.text.length);
  const name = id.text;
  const fail = (what: string): never => {
    throw cx.err(`unknown ${what} proto '${name}'`, id.pos, name.length);
  };
  switch (q.proto) {
    case 'ether':
      return ETHER_TYPES[name] ?? LLC_SAPS[name] ?? fail('ether');
    case 'iso':
      return ({ esis: NLPID.ESIS, isis: NLPID.ISIS, clnp: NLPID.CLNP } as Record<string, number>)[name] ?? fail('osi');
    case undefined:
    case 'ip':
    case 'ip6':
      return IP_PROTOCOLS.get(name) ?? fail('ip');
    default:
      return fail(q.proto);
  }
}

/** `[ip|ip6|ether|iso|isis] proto N`. */
export function proto(cx: LowerContext, q: Qualifiers, id: Id): Pred {
  if (q.dir) throw cx.err("direction applied to 'proto'", q.pos);
  const n = protoNumber(cx, q, id);
  switch (q.proto) {
    case undefined:
      return or(ipProto(cx, n, q.pos), ip6Proto(cx, n, q.pos));
    case 'ether':
      return cx.linkType(n, q.pos);
    case 'ip':
      return ipProto(cx, n, q.pos);
    case 'ip6':
      return ip6Proto(cx, n, q.pos);
    case 'iso':
      return isoProto(cx, n, q.pos);
    case 'isis':
      return and(isoProto(cx, NLPID.ISIS, q.pos), cmp(cx.netNosnap(4, 1), 'eq', n));
    case 'esis':
      throw cx.err("'esis proto' is bogus", q.pos);
    case 'clnp':
      throw cx.err("'clnp proto' is not supported", q.pos);
    case 'arp':
    case 'rarp':
    case 'aarp':
    case 'lat':
    case 'sca':
    case 'moprc':
    case 'mopdl':
      throw cx.err(`${q.proto} does not encapsulate another protocol`, q.pos);
    case 'atalk':
      throw cx.err('AppleTalk encapsulation is not specifiable', q.pos);
    case 'decnet':
      throw cx.err('DECNET encapsulation is not specifiable', q.pos);
    default:
      throw cx.err(`'${q.proto} proto' is bogus`, q.pos);
  }
}

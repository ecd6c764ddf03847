// Link layers a filter can be compiled for, and how each one says "this frame carries protocol P"
// (libpcap's gen_linktype). Offsets follow libpcap's init_linktype; where libpcap's choice looks
// odd (a Linux cooked frame's ISO NLPID is read right at the LLC header), tsbpf does the same, as
// matching tcpdump is the point.
import { FALSE, TRUE, and, anyOf, cmp, load, not, or, type Off, type Pred } from './ir.js';

/** A link layer tsbpf reads; 'ppp' only arises inside PPPoE (after `pppoes`). */
export type LinkKind = 'ether' | 'sll' | 'sll2' | 'raw' | 'ipv4' | 'ipv6' | 'null' | 'loop' | 'ppp';

/** pcap/pcapng LINKTYPE_ values → link layers (12 is DLT_RAW on Linux, as libpcap maps it). */
export const LINKTYPES: Readonly<Record<number, LinkKind>> = {
  0: 'null', 1: 'ether', 12: 'raw', 101: 'raw', 108: 'loop', 113: 'sll', 228: 'ipv4', 229: 'ipv6', 276: 'sll2',
};

/** libpcap's descriptions, used in its error messages. */
export const LINK_NAMES: Readonly<Record<LinkKind, string>> = {
  ether: 'Ethernet', sll: 'Linux cooked v1', sll2: 'Linux cooked v2', raw: 'Raw IP', ipv4: 'Raw IPv4', ipv6: 'Raw IPv6',
  null: 'BSD loopback', loop: 'OpenBSD loopback', ppp: 'PPP',
};

/** tcpdump's short names (`link-type EN10MB`). */
export const LINK_DLT_NAMES: Readonly<Record<LinkKind, string>> = {
  ether: 'EN10MB', sll: 'LINUX_SLL', sll2: 'LINUX_SLL2', raw: 'RAW', ipv4: 'IPV4', ipv6: 'IPV6', null: 'NULL', loop: 'LOOP', ppp: 'PPP',
};

/** Where the headers are, as filtering proceeds through encapsulations (libpcap's cstate offsets). */
export interface LinkState {
  kind: LinkKind;
  /** the link-layer header */
  hdr: Off;
  /** the link-layer type field (EtherType, SLL protocol, AF family, PPP protocol); none for raw IP */
  type?: Off;
  /** the link-layer payload (after 802.3 that is where the LLC header starts) */
  pl: Off;
  /** network-layer header relative to `pl` (grows with MPLS labels) */
  nl: number;
  /** the same for protocols without SNAP (ISO after an 802.2 LLC header) */
  nlNosnap: number;
  /** MPLS labels matched so far */
  labels: number;
  vlans: number;
  geneve: boolean;
}

export function initialState(kind: LinkKind): LinkState {
  const s = (type: number | undefined, pl: number, nlNosnap: number): LinkState => ({
    kind, hdr: { c: 0 }, type: type === undefined ? undefined : { c: type }, pl: { c: pl }, nl: 0, nlNosnap, labels: 0, vlans: 0, geneve: false,
  });
  switch (kind) {
    case 'ether':
      return s(12, 14, 3);
    case 'sll':
      return s(14, 16, 0);
    case 'sll2':
      return s(0, 20, 0);
    case 'null':
    case 'loop':
      return s(0, 4, 0);
    case 'ppp':
      return s(0, 2, 0);
    default:
      return s(undefined, 0, 0);
  }
}

export const ETHERTYPE = {
  IP: 0x0800, IPV6: 0x86dd, ARP: 0x0806, RARP: 0x8035, IPX: 0x8137, ATALK: 0x809b, AARP: 0x80f3, DN: 0x6003, LAT: 0x6004,
  SCA: 0x6007, MOPDL: 0x6001, MOPRC: 0x6002, MPLS: 0x8847, PPPOED: 0x8863, PPPOES: 0x8864, NS: 0x0600, VINES: 0x0bad,
} as const;
export const LLCSAP = { IP: 0x06, ISONS: 0xfe, NETBEUI: 0xf0, IPX: 0xe0, STP: 0x42, SNAP: 0xaa } as const;
const ETHERMTU = 1500;
const SLL_P_802_3 = 0x0001;
const SLL_P_802_2 = 0x0004;
/**
 * Address families in DLT_NULL/DLT_LOOP headers. AF_INET is 2 everywhere; AF_INET6 differs between
 * systems, and libpcap reading a file accepts the BSD values (NetBSD/OpenBSD 24, macOS 30, FreeBSD 28),
 * not Linux's 10 (those captures come from BSDs)
 */
const AF_INET = 2;
const AF_INET6_BSD = [30, 24, 28];

/** libpcap's ethertype_to_ppptype. */
const PPP_TYPES: Readonly<Record<number, number>> = {
  [ETHERTYPE.IP]: 0x21, [ETHERTYPE.IPV6]: 0x57, [ETHERTYPE.DN]: 0x27, [ETHERTYPE.ATALK]: 0x29, [ETHERTYPE.NS]: 0x25,
  [LLCSAP.IPX]: 0x2b, [LLCSAP.ISONS]: 0x23, [LLCSAP.STP]: 0x31, [ETHERTYPE.VINES]: 0x35,
};

/**
 * "The frame carries protocol `p`": an EtherType, or (at most 1500) an 802.2 LLC SAP. Throws
 * (through `unsupported`) where libpcap refuses, e.g. a non-IP protocol over MPLS.
 */
export function linkTypeTest(st: LinkState, p: number, unsupported: (why: string) => never): Pred {
  if (st.labels > 0) {
    // inside MPLS: the bottom-of-stack bit of the last label, then the IP version nibble
    if (p !== ETHERTYPE.IP && p !== ETHERTYPE.IPV6) return unsupported('unsupported protocol over mpls');
    const bos = cmp(bin1(load(st.pl, st.nl - 2, 1), 0x01), 'eq', 0x01);
    return and(bos, cmp(bin1(load(st.pl, st.nl, 1), 0xf0), 'eq', p === ETHERTYPE.IP ? 0x40 : 0x60));
  }
  const type = st.type;
  switch (st.kind) {
    case 'ether':
      return etherType(st, p);
    case 'sll':
      return sllType(st, p);
    case 'sll2':
      return cmp(load(type!, 0, 2), 'eq', p);
    case 'raw':
      if (p === ETHERTYPE.IP || p === ETHERTYPE.IPV6) return cmp(bin1(load(st.pl, 0, 1), 0xf0), 'eq', p === ETHERTYPE.IP ? 0x40 : 0x60);
      return FALSE;
    case 'ipv4':
      return p === ETHERTYPE.IP ? TRUE : FALSE;
    case 'ipv6':
      return p === ETHERTYPE.IPV6 ? TRUE : FALSE;
    case 'null':
    case 'loop': {
      if (p !== ETHERTYPE.IP && p !== ETHERTYPE.IPV6) return FALSE;
      // DLT_NULL holds the family in the capturing host's byte order; this libpcap (little-endian
      // x86) compares it byte-swapped, DLT_LOOP is in network order
      const family = load(type!, 0, 4);
      const afs = p === ETHERTYPE.IP ? [AF_INET] : AF_INET6_BSD;
      return anyOf(afs.map((af) => cmp(family, 'eq', st.kind === 'null' ? swap32(af) : af)));
    }
    case 'ppp':
      return cmp(load(type!, 0, 2), 'eq', PPP_TYPES[p] ?? p);
  }
}

/** libpcap's gen_ether_linktype: EtherType, or 802.2 LLC/SNAP in an 802.3 frame. */
function etherType(st: LinkState, p: number): Pred {
  const type = load(st.type!, 0, 2);
  const is8023 = not(cmp(type, 'gt', ETHERMTU));
  switch (p) {
    case LLCSAP.ISONS:
    case LLCSAP.IP:
    case LLCSAP.NETBEUI:
      // these always use 802.2: DSAP and SSAP both
      return and(is8023, cmp(load(st.pl, 0, 2), 'eq', (p << 8) | p));
    case LLCSAP.IPX: {
      const llc = anyOf([cmp(load(st.pl, 0, 1), 'eq', LLCSAP.IPX), cmp(load(st.pl, 0, 2), 'eq', 0xffff), snap(st, 0x000000, ETHERTYPE.IPX)]);
      return or(cmp(type, 'eq', ETHERTYPE.IPX), and(is8023, llc));
    }
    case ETHERTYPE.ATALK:
    case ETHERTYPE.AARP:
      return or(cmp(type, 'eq', p), and(is8023, snap(st, p === ETHERTYPE.ATALK ? 0x080007 : 0, p)));
    default:
      if (p <= ETHERMTU) return and(is8023, cmp(load(st.type!, 2, 1), 'eq', p));
      return cmp(type, 'eq', p);
  }
}

/** libpcap's gen_linux_sll_linktype: the SLL protocol field, with 802.2 frames marked by protocol 4. */
function sllType(st: LinkState, p: number): Pred {
  const proto = load(st.type!, 0, 2);
  const is8022 = cmp(proto, 'eq', SLL_P_802_2);
  switch (p) {
    case LLCSAP.ISONS:
    case LLCSAP.IP:
    case LLCSAP.NETBEUI:
      return and(is8022, cmp(load(st.pl, st.nl, 2), 'eq', (p << 8) | p));
    case LLCSAP.IPX: {
      const llc = or(cmp(load(st.pl, 0, 1), 'eq', LLCSAP.IPX), snap(st, 0x000000, ETHERTYPE.IPX));
      return anyOf([cmp(proto, 'eq', ETHERTYPE.IPX), cmp(proto, 'eq', SLL_P_802_3), and(is8022, llc)]);
    }
    case ETHERTYPE.ATALK:
    case ETHERTYPE.AARP:
      return or(cmp(proto, 'eq', p), and(is8022, snap(st, p === ETHERTYPE.ATALK ? 0x080007 : 0, p)));
    default:
      if (p <= ETHERMTU) return and(is8022, cmp(load(st.hdr, st.pl.c, 1), 'eq', p));
      return cmp(proto, 'eq', p);
  }
}

/** An 802.2 SNAP header (AA AA 03, OUI, type), compared as libpcap does: the second word first. */
function snap(st: LinkState, oui: number, type: number): Pred {
  const w1 = ((LLCSAP.SNAP << 24) | (LLCSAP.SNAP << 16) | (0x03 << 8) | (oui >>> 16)) >>> 0;
  const w2 = (((oui & 0xffff) << 16) | type) >>> 0;
  return and(cmp(load(st.pl, 4, 4), 'eq', w2), cmp(load(st.pl, 0, 4), 'eq', w1));
}

const bin1 = (v: ReturnType<typeof load>, mask: number) => ({ k: 'bin' as const, op: '&' as const, a: v, b: { k: 'const' as const, v: mask } });
const swap32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

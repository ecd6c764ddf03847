// Encapsulations: `vlan`, `mpls`, `pppoed`, `pppoes` and `geneve`. Each tests its header and then,
// as in libpcap, moves where every LATER primitive (in source order, whatever the and/or around
// it) looks for the headers inside: `vlan 100 and tcp` reads TCP behind the tag.
import type { EncapKind } from './ast.js';
import { allOf, and, anyOf, bin, cmp, num, or, type Pred, type Val } from './ir.js';
import { ETHERTYPE } from './link.js';
import type { LowerContext } from './lower-context.js';
import { notFragment } from './lower-proto.js';

const VLAN_TPIDS = [0x8100, 0x88a8, 0x9100];
const PPP_MPLS = 0x0281;
const GENEVE_PORT = 6081;
const TRANSPARENT_ETHERNET = 0x6558;

export function encap(cx: LowerContext, kind: EncapKind, id: number | undefined, pos: number): Pred {
  switch (kind) {
    case 'vlan':
      return vlan(cx, id, pos);
    case 'mpls':
      return mpls(cx, id, pos);
    case 'pppoed':
      return cx.linkType(ETHERTYPE.PPPOED, pos);
    case 'pppoes':
      return pppoes(cx, id, pos);
    case 'geneve':
      return geneve(cx, id, pos);
  }
}

function vlan(cx: LowerContext, id: number | undefined, pos: number): Pred {
  const st = cx.st;
  if (st.labels > 0) throw cx.err('no VLAN match after MPLS', pos);
  if (st.kind !== 'ether') throw cx.err(`no VLAN support for ${cx.linkName}`, pos);
  const tagTest = (shift: number): Pred => {
    const tpid: Val = { k: 'load', off: addConst(st.type!, shift), size: 2 };
    const tag = anyOf(VLAN_TPIDS.map((t) => cmp(tpid, 'eq', t)));
    if (id === undefined) return tag;
    return and(tag, cmp(bin('&', { k: 'load', off: addConst(st.pl, shift), size: 2 }, num(0xfff)), 'eq', id));
  };
  if (!cx.live || st.geneve || (st.pl.v !== undefined && st.pl.v !== cx.liveVlanVar)) {
    // a file: the tag is in the packet, and later offsets move past it
    const p = tagTest(0);
    st.type = { ...st.type!, c: st.type!.c + 4 };
    st.pl = { ...st.pl, c: st.pl.c + 4 };
    st.vlans++;
    return p;
  }
  // live: the kernel may have moved the first tag into skb metadata. Offsets carry a run-time
  // shift (0 while tags stay in metadata); a tag in the packet adds 4 to it before its own test,
  // which then reads 4 bytes back (as libpcap on Linux does).
  let v = cx.liveVlanVar;
  const first = v === undefined;
  if (v === undefined) {
    v = cx.liveVlanVar = cx.newVar(pos);
    st.type = { c: st.type!.c, v };
    st.pl = { c: st.pl.c, v };
  }
  const shift: Val = { k: 'var', id: v };
  const inline = and({ k: 'set', id: v, v: bin('+', shift, num(4)) }, tagTest(-4));
  st.vlans++;
  if (!first) return inline;
  const present: Val = { k: 'meta', field: 'vlan_present' };
  const meta = id === undefined ? cmp(present, 'ne', 0) : and(cmp(present, 'ne', 0), cmp(bin('&', { k: 'meta', field: 'vlan_tci' }, num(0xfff)), 'eq', id));
  return or(meta, and(cmp(present, 'eq', 0), inline));
}

const addConst = (o: { c: number; v?: number }, extra: number): Val => {
  const c = num((o.c + extra) | 0);
  return o.v === undefined ? c : bin('+', { k: 'var', id: o.v }, c);
};

function mpls(cx: LowerContext, label: number | undefined, pos: number): Pred {
  const st = cx.st;
  let p: Pred;
  if (st.labels > 0) {
    // a further label: the one before must not have been the bottom of the stack
    p = cmp(bin('&', cx.net(-2, 1), num(0x01)), 'eq', 0);
  } else if (st.kind === 'ether') {
    p = cx.linkType(ETHERTYPE.MPLS, pos);
  } else if (st.kind === 'ppp') {
    p = cx.linkType(PPP_MPLS, pos);
  } else {
    throw cx.err(`no MPLS support for ${cx.linkName}`, pos);
  }
  if (label !== undefined) p = and(p, cmp(bin('&', cx.net(0, 4), num(0xfffff000)), 'eq', (label << 12) >>> 0));
  st.nl += 4;
  st.nlNosnap += 4;
  st.labels++;
  return p;
}

function pppoes(cx: LowerContext, session: number | undefined, pos: number): Pred {
  let p = cx.linkType(ETHERTYPE.PPPOES, pos);
  if (session !== undefined) p = and(p, cmp(bin('&', cx.net(0, 4), num(0xffff)), 'eq', session));
  // from here on the link layer is the PPP header after the 6-byte PPPoE header
  const st = cx.st;
  const hdr = { c: st.pl.c + st.nl + 6, v: st.pl.v };
  cx.st = { ...st, kind: 'ppp', hdr, type: hdr, pl: { c: hdr.c + 2, v: hdr.v }, nl: 0, nlNosnap: 0 };
  return p;
}

/**
 * Geneve (UDP port 6081, version 0) over IPv4 or IPv6. The tunnel header's length is only known
 * at run time, so what follows it is found through variables: where the inner link header, its
 * EtherType (Geneve's own protocol field when the payload is not Ethernet) and its payload are.
 */
function geneve(cx: LowerContext, vni: number | undefined, pos: number): Pred {
  const g = cx.newVar(pos);
  const header = (at: (off: number, size: 1 | 2 | 4) => Val): Pred[] => [
    cmp(at(2, 2), 'eq', GENEVE_PORT),
    cmp(bin('&', at(8, 1), num(0xc0)), 'eq', 0),
    ...(vni === undefined ? [] : [cmp(bin('&', at(12, 4), num(0xffffff00)), 'eq', (vni << 8) >>> 0)]),
  ];
  const v4 = allOf([
    cx.linkType(ETHERTYPE.IP, pos),
    cmp(cx.net(9, 1), 'eq', 17),
    notFragment(cx),
    ...header((off, size) => cx.ip4Payload(off, size)),
    { k: 'set', id: g, v: cx.ip4PayloadOff(8) },
  ]);
  const v6 = allOf([
    cx.linkType(ETHERTYPE.IPV6, pos),
    cmp(cx.net(6, 1), 'eq', 17),
    ...header((off, size) => cx.ip6Payload(off, size)),
    { k: 'set', id: g, v: addConst(cx.netOff, 48) },
  ]);
  const [hdr, type, pl] = [cx.newVar(pos), cx.newVar(pos), cx.newVar(pos)];
  const vg: Val = { k: 'var', id: g };
  const vh: Val = { k: 'var', id: hdr };
  const at = (base: Val, off: number, size: 1 | 2 | 4): Val => ({ k: 'load', off: bin('+', base, num(off)), size });
  const offsets = allOf([
    { k: 'set', id: type, v: bin('+', vg, num(2)) },
    { k: 'set', id: hdr, v: bin('+', bin('+', bin('*', bin('&', at(vg, 0, 1), num(0x3f)), num(4)), num(8)), vg) },
    or(
      and(cmp(at(vg, 2, 2), 'eq', TRANSPARENT_ETHERNET), and({ k: 'set', id: type, v: bin('+', vh, num(12)) }, { k: 'set', id: pl, v: bin('+', vh, num(14)) })),
      { k: 'set', id: pl, v: vh },
    ),
  ]);
  cx.st = { ...cx.st, kind: 'ether', hdr: { c: 0, v: hdr }, type: { c: 0, v: type }, pl: { c: 0, v: pl }, nl: 0, nlNosnap: 3, geneve: true };
  return and(or(v4, v6), offsets);
}

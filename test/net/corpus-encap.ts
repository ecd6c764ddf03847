// Frames for the primitives beyond IP: 802.3 with LLC (ISO CLNP/ES-IS/IS-IS PDUs, STP, NetBEUI, IPX
// in its four framings, SNAP AppleTalk/AARP, LLC I/S/U control fields), DECnet routing headers,
// the other DEC/AppleTalk EtherTypes, MPLS stacks, PPPoE discovery and sessions, Geneve tunnels
// (IPv4/IPv6 outside, Ethernet or IP inside, options, other versions), IPv6 extension-header
// chains and IPv4 AH (for protochain). Each kind comes in matching and near-miss variants.
import {
  ETH_P_8021AD, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, IPPROTO, TCP_FLAGS as F, ah, arp, concat, ether, ether8023, geneve, icmp, ipv4, ipv6,
  ipv6Ext, ipv6Fragment, llc, mpls, ppp, pppoe, snap, tcp, udp,
} from '../../src/net/craft.js';

const A = '00:11:22:33:44:55';
const B = '66:77:88:99:aa:bb';
const BCAST = 'ff:ff:ff:ff:ff:ff';
const ISIS_MCAST = '01:80:c2:00:00:14';

const ip4tcp = (src: string, dst: string, sport: number, dport: number): Uint8Array =>
  ipv4({ src, dst, proto: IPPROTO.TCP }, tcp({ sport, dport, flags: F.SYN, src, dst }));
const ip6udp = (src: string, dst: string, sport: number, dport: number): Uint8Array =>
  ipv6({ src, dst, nxt: IPPROTO.UDP }, udp({ sport, dport, src, dst }, new Uint8Array(4)));

/** A DECnet routing header (short or long, with or without a pad byte) as libpcap's gen_dnhostop reads it. */
function decnet(o: { long: boolean; pad: boolean; dst: number; src: number }): Uint8Array {
  const le = (a: number): number[] => [a & 0xff, a >> 8];
  const hiord = [0xaa, 0x00, 0x04, 0x00];
  const body = o.long
    ? [0x06, 0, 0, ...hiord, ...le(o.dst), 0, 0, ...hiord, ...le(o.src), 0, 0, 0]
    : [0x02, ...le(o.dst), ...le(o.src), 0];
  const all = [...(o.pad ? [0x81] : []), ...body, 0, 0, 0, 0];
  return Uint8Array.from([all.length & 0xff, all.length >> 8, ...all]);
}

/** An IS-IS PDU behind LLC FE FE 03 (NLPID 0x83, then header length, version, id length, PDU type). */
const isis = (type: number): Uint8Array => concat(llc(0xfe, 0xfe, 0x03), Uint8Array.of(0x83, 27, 1, 0, type, 1, 0, 0), new Uint8Array(20));

export function encapFrames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const e2 = (type: number, payload: Uint8Array, dst = B): void => void out.push(ether({ dst, src: A, type }, payload));
  const e3 = (payload: Uint8Array, dst = B): void => void out.push(ether8023({ dst, src: A }, payload));

  // ---- 802.3 / LLC ----
  for (const t of [15, 16, 17, 18, 20, 24, 25, 26, 27, 30]) e3(isis(t), ISIS_MCAST);
  e3(concat(llc(0xfe, 0xfe, 0x03), Uint8Array.of(0x81, 20, 1, 0), new Uint8Array(24))); // CLNP
  e3(concat(llc(0xfe, 0xfe, 0x03), Uint8Array.of(0x82, 10, 1, 0), new Uint8Array(12))); // ES-IS
  e3(concat(llc(0xfe, 0xfe, 0x03), Uint8Array.of(0x01, 10, 1, 0), new Uint8Array(12))); // another NLPID
  e3(concat(llc(0xfe, 0x42, 0x03), Uint8Array.of(0x83, 27, 1, 0, 18, 0), new Uint8Array(12))); // ISO DSAP, odd SSAP
  e3(concat(llc(0x42, 0x42, 0x03), new Uint8Array(35)), '01:80:c2:00:00:00'); // STP BPDU
  e3(concat(llc(0xf0, 0xf0, 0x03), new Uint8Array(30))); // NetBEUI
  e3(concat(llc(0x06, 0x06, 0x03), new Uint8Array(20))); // IP over 802.2
  e3(concat(llc(0xe0, 0xe0, 0x03), new Uint8Array(30))); // IPX, 802.2
  e3(concat(Uint8Array.of(0xff, 0xff), new Uint8Array(30))); // IPX, Novell raw 802.3
  e3(concat(snap(0, 0x8137), new Uint8Array(30))); // IPX, SNAP
  e3(concat(snap(0x080007, 0x809b), new Uint8Array(30))); // AppleTalk, SNAP
  e3(concat(snap(0, 0x80f3), new Uint8Array(28))); // AARP, SNAP
  e3(concat(snap(0x080007, 0x80f3), new Uint8Array(28))); // wrong OUI for AARP
  e3(concat(snap(0, 0x0800), ip4tcp('10.0.0.1', '10.0.0.2', 1, 2))); // IP over SNAP
  // LLC control fields: I, S (RR, RNR, REJ), U (UI, UA, DISC, DM, SABME, TEST, XID, FRMR, with P/F)
  // (two-byte controls are written first byte | second << 8)
  for (const c of [0x0200, 0x0402, 0x0201, 0x0205, 0x0209, 0x030d, 0x03, 0x13, 0x63, 0x43, 0x0f, 0x6f, 0x7f, 0xe3, 0xf3, 0xaf, 0xbf, 0x87]) {
    e3(concat(llc(0xaa, 0xab, c), new Uint8Array(20)));
  }
  // ---- other EtherTypes ----
  e2(0x8137, new Uint8Array(30)); // IPX
  e2(0x809b, new Uint8Array(30)); // AppleTalk
  e2(0x80f3, new Uint8Array(28)); // AARP
  for (const t of [0x6001, 0x6002, 0x6004, 0x6007, 0x9000, 0x88cc, 0x0600]) e2(t, new Uint8Array(30));
  // DECnet: 1.2 (0x0402) and 63.1023 (0xffff), every header form, both directions
  for (const long of [false, true]) {
    for (const pad of [false, true]) {
      e2(0x6003, decnet({ long, pad, dst: 0x0402, src: 0x0c05 }));
      e2(0x6003, decnet({ long, pad, dst: 0x0c05, src: 0xffff }));
    }
  }
  e2(0x6003, decnet({ long: false, pad: false, dst: 0x0402, src: 0x0402 }));
  // ---- MPLS ----
  e2(0x8847, mpls([100], ip4tcp('10.0.0.1', '10.0.0.2', 5555, 80)));
  e2(0x8847, mpls([100, 200], ip4tcp('10.0.0.3', '10.0.0.1', 80, 5555)));
  e2(0x8847, mpls([5], ip6udp('2001:db8::1', '2001:db8::2', 53, 5353)));
  e2(0x8847, mpls([5, 6, 7], ip6udp('2001:db8::2', '2001:db8::1', 5353, 53)));
  e2(0x8847, mpls([1048575], Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0)));
  out.push(ether({ dst: B, src: A, type: 0x8847, vlans: [{ id: 100 }] }, mpls([16], ip4tcp('10.0.0.1', '10.0.0.9', 22, 2222))));
  // ---- PPPoE ----
  e2(0x8863, pppoe({ code: 0x09, session: 0 }, new Uint8Array(8)), BCAST); // PADI
  e2(0x8864, pppoe({ code: 0, session: 7 }, ppp(0x0021, ip4tcp('10.0.0.1', '10.0.0.2', 40000, 80))));
  e2(0x8864, pppoe({ code: 0, session: 7 }, ppp(0x0057, ip6udp('fe80::1', 'fe80::2', 546, 547))));
  e2(0x8864, pppoe({ code: 0, session: 0x1234 }, ppp(0xc021, new Uint8Array(10)))); // LCP
  e2(0x8864, pppoe({ code: 0, session: 8 }, ppp(0x0023, concat(Uint8Array.of(0x83, 27, 1, 0, 18), new Uint8Array(20))))); // OSI
  e2(0x8864, pppoe({ code: 0, session: 9 }, ppp(0x0281, mpls([3], ip4tcp('10.0.0.1', '10.0.0.2', 1, 2)))));
  // ---- Geneve ----
  const inner = ether({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', type: ETH_P_IP }, ip4tcp('192.168.7.1', '192.168.7.2', 33000, 443));
  const innerArp = ether({ dst: BCAST, src: '02:00:00:00:00:01', type: ETH_P_ARP }, arp({ op: 1, sha: '02:00:00:00:00:01', spa: '192.168.7.1', tha: '00:00:00:00:00:00', tpa: '192.168.7.9' }));
  const gen4 = (g: Parameters<typeof geneve>[0], payload: Uint8Array, o: { fragOffset?: number } = {}): void =>
    e2(ETH_P_IP, ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: IPPROTO.UDP, fragOffset: o.fragOffset }, udp({ sport: 40001, dport: 6081 }, geneve(g, payload))));
  gen4({ vni: 7, protocol: 0x6558 }, inner);
  gen4({ vni: 7, protocol: 0x6558, options: new Uint8Array(8) }, innerArp);
  gen4({ vni: 0x123456, protocol: 0x0800 }, ip4tcp('172.16.0.1', '172.16.0.2', 1000, 22));
  gen4({ vni: 7, protocol: 0x6558, version: 1 }, inner); // not version 0
  gen4({ vni: 8, protocol: 0x86dd }, ip6udp('2001:db8::7', '2001:db8::8', 1, 53));
  gen4({ vni: 9, protocol: 0x6558 }, ether({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:03', type: ETH_P_IP, vlans: [{ id: 300 }] }, ip4tcp('192.168.8.1', '192.168.8.2', 1, 2)));
  gen4({ vni: 9, protocol: 0x6558 }, ether8023({ dst: ISIS_MCAST, src: '02:00:00:00:00:03' }, isis(18)));
  gen4({ vni: 7, protocol: 0x6558 }, inner, { fragOffset: 10 }); // a later fragment
  e2(ETH_P_IPV6, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nxt: IPPROTO.UDP }, udp({ sport: 1, dport: 6081 }, geneve({ vni: 7, protocol: 0x6558 }, inner))));
  e2(ETH_P_IP, ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: IPPROTO.UDP }, udp({ sport: 6081, dport: 4789 }, new Uint8Array(30)))); // source port only
  // ---- IPv6 extension headers and AH (protochain) ----
  const t6 = (src: string, dst: string): Uint8Array => tcp({ sport: 50000, dport: 80, flags: F.SYN, src, dst });
  const chain6 = (nxt: number, rest: Uint8Array): void => void e2(ETH_P_IPV6, ipv6({ src: '2001:db8::10', dst: '2001:db8::20', nxt }, rest));
  chain6(0, ipv6Ext(IPPROTO.TCP, 0, t6('2001:db8::10', '2001:db8::20'))); // hop-by-hop, TCP
  chain6(60, ipv6Ext(43, 1, ipv6Ext(IPPROTO.UDP, 0, udp({ sport: 1, dport: 2 })))); // dst opts, routing, UDP
  chain6(44, concat(ipv6Fragment({ nxt: 51, offset: 0, more: true, id: 9 }), ah(IPPROTO.TCP, 1, t6('2001:db8::10', '2001:db8::20')))); // frag, AH, TCP
  chain6(0, ipv6Ext(60, 0, ipv6Ext(43, 0, concat(ipv6Fragment({ nxt: IPPROTO.ICMPV6, offset: 0, more: false, id: 3 }), icmp({ type: 128 }))))); // 4 headers, ICMPv6
  chain6(0, ipv6Ext(59, 0, new Uint8Array(8))); // no next header
  chain6(51, ah(50, 2, new Uint8Array(16))); // AH, ESP
  chain6(60, ipv6Ext(60, 0, ipv6Ext(60, 0, ipv6Ext(60, 0, ipv6Ext(60, 0, ipv6Ext(IPPROTO.UDP, 0, udp({ sport: 3, dport: 4 }))))))); // 5 deep
  e2(ETH_P_IP, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 51 }, ah(IPPROTO.TCP, 5, tcp({ sport: 1, dport: 80, flags: F.ACK }))));
  e2(ETH_P_IP, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 51 }, ah(IPPROTO.UDP, 5, udp({ sport: 1, dport: 53 }))));
  // AH followed by more headers: where the next one is found after an AH header matters
  e2(ETH_P_IP, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 51 }, ah(51, 6, ah(IPPROTO.UDP, 7, udp({ sport: 2, dport: 53 })))));
  chain6(51, ah(60, 3, ipv6Ext(IPPROTO.TCP, 0, t6('2001:db8::10', '2001:db8::20'))));
  e2(ETH_P_IP, ip4tcp('1.44.3.4', '10.0.0.2', 25, 443)); // net 300 (1.44/16), smtp, https
  e2(ETH_P_IP, ip4tcp('10.0.0.2', '1.44.3.4', 80, 443));
  // a fragment far into its datagram (offset bit 12 set), whose bytes look like ports
  e2(ETH_P_IP, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO.TCP, fragOffset: 0x1000 }, Uint8Array.of(0, 80, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x12, 0, 0)));
  // ---- VLAN variants ----
  out.push(ether({ dst: B, src: A, type: ETH_P_IPV6, vlans: [{ id: 4095, tpid: 0x9100 }] }, ip6udp('2001:db8::1', '2001:db8::3', 9, 9)));
  out.push(ether({ dst: B, src: A, type: ETH_P_IP, vlans: [{ id: 1, tpid: ETH_P_8021AD }, { id: 2, tpid: ETH_P_8021AD }, { id: 3 }] }, ip4tcp('10.0.0.1', '10.0.0.2', 7, 7)));
  return out;
}

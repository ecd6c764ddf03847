// A varied capture for filter tests: IPv4 with and without options, fragments, IPv6 (with fragment
// headers), 802.1Q and QinQ, ARP/RARP, TCP flags and options, UDP, ICMP/ICMPv6, SCTP, IGMP,
// broadcast/multicast and frames cut short. Packet i has timestamp sec = BASE_SEC + i, so a packet
// can be recognised in tcpdump's output.
import { ETH_P_8021AD, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_RARP, IPPROTO, TCP_FLAGS as F, arp, ether, icmp, ipv4, ipv6, ipv6Fragment, sctp, tcp, udp, concat } from '../../src/net/craft.js';
import { writePcap } from '../../src/net/pcap.js';

export const BASE_SEC = 1700000000;
const A = '00:11:22:33:44:55';
const B = '66:77:88:99:aa:bb';
const BCAST = 'ff:ff:ff:ff:ff:ff';
const MCAST4 = '01:00:5e:00:00:01';
const MCAST6 = '33:33:00:00:00:01';

const MSS = Uint8Array.of(2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7);
const IP_OPTS = [Uint8Array.of(1, 1, 1, 0), Uint8Array.of(7, 7, 4, 0, 0, 0, 0, 0), Uint8Array.of(0x94, 4, 0, 0, 1, 1, 1, 0, 7, 11, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0)];

export function corpusFrames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const v4 = (src: string, dst: string, proto: number, payload: Uint8Array, o: Partial<Parameters<typeof ipv4>[0]> = {}, eth: { dst?: string; vlans?: { id: number; tpid?: number }[] } = {}) =>
    out.push(ether({ dst: eth.dst ?? B, src: A, type: ETH_P_IP, vlans: eth.vlans }, ipv4({ src, dst, proto, ...o }, payload)));
  const v6 = (src: string, dst: string, nxt: number, payload: Uint8Array, eth: { dst?: string; vlans?: { id: number; tpid?: number }[] } = {}) =>
    out.push(ether({ dst: eth.dst ?? B, src: A, type: ETH_P_IPV6, vlans: eth.vlans }, ipv6({ src, dst, nxt }, payload)));

  // IPv4 TCP: flags x ports x header options
  const flagSets = [F.SYN, F.SYN | F.ACK, F.ACK, F.PSH | F.ACK, F.FIN | F.ACK, F.RST, F.RST | F.ACK, F.URG | F.ACK, F.ECE | F.CWR | F.SYN];
  const ports: [number, number][] = [[5555, 80], [80, 5555], [40000, 443], [22, 51000], [1500, 8080], [2000, 1999], [53, 53]];
  let k = 0;
  for (const flags of flagSets) {
    for (const [sport, dport] of ports) {
      const src = k % 3 === 0 ? '10.0.0.1' : k % 3 === 1 ? '192.168.1.10' : '172.16.5.4';
      const dst = k % 2 === 0 ? '10.0.0.2' : '8.8.8.8';
      const options = k % 4 === 1 ? IP_OPTS[k % 3] : undefined;
      const payload = k % 5 === 0 ? new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n') : new Uint8Array(0);
      v4(src, dst, IPPROTO.TCP, tcp({ sport, dport, flags, seq: 1000 + k, ack: flags & F.ACK ? 77 : 0, options: flags & F.SYN ? MSS : undefined, src, dst }, payload), { options, ttl: 64 - (k % 10), id: k });
      k++;
    }
  }
  // IPv4 UDP, some with options
  for (const [sport, dport] of [[5353, 5353], [40000, 53], [53, 40000], [123, 123], [68, 67], [1234, 4321], [1000, 2000]] as const) {
    v4('10.0.0.1', '10.0.0.2', IPPROTO.UDP, udp({ sport, dport }, new Uint8Array(12).fill(7)));
    v4('10.0.0.3', '10.1.2.3', IPPROTO.UDP, udp({ sport, dport }, new Uint8Array(3)), { options: IP_OPTS[2] });
  }
  // broadcast / multicast
  v4('0.0.0.0', '255.255.255.255', IPPROTO.UDP, udp({ sport: 68, dport: 67 }, new Uint8Array(20)), {}, { dst: BCAST });
  v4('10.0.0.1', '224.0.0.1', IPPROTO.IGMP, Uint8Array.of(0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0), { ttl: 1 }, { dst: MCAST4 });
  v4('10.0.0.1', '239.1.2.3', IPPROTO.UDP, udp({ sport: 5000, dport: 5001 }), {}, { dst: '01:00:5e:01:02:03' });
  // ICMP
  for (const [type, code] of [[8, 0], [0, 0], [3, 3], [11, 0], [5, 1], [13, 0]]) {
    v4('10.0.0.1', '10.0.0.2', IPPROTO.ICMP, icmp({ type: type!, code, id: 0x1234, seq: type! }, new Uint8Array(8)));
    v4('10.0.0.2', '10.0.0.1', IPPROTO.ICMP, icmp({ type: type!, code, id: 1, seq: 2 }), { options: IP_OPTS[0] });
  }
  // IPv4 fragments: first fragments carry ports, later ones carry bytes that look like ports
  const fake = Uint8Array.of(0, 80, 0, 53, 0, 0, 0, 0, 0x50, 0x02, 0, 0);
  v4('10.0.0.1', '10.0.0.2', IPPROTO.UDP, udp({ sport: 40000, dport: 53 }, new Uint8Array(16)), { moreFragments: true, id: 99 });
  v4('10.0.0.1', '10.0.0.2', IPPROTO.UDP, fake, { fragOffset: 3, id: 99 });
  v4('10.0.0.1', '10.0.0.2', IPPROTO.TCP, tcp({ sport: 80, dport: 5555, flags: F.SYN }), { moreFragments: true, id: 100 });
  v4('10.0.0.1', '10.0.0.2', IPPROTO.TCP, concat(fake, fake), { fragOffset: 185, id: 100 });
  v4('10.0.0.1', '10.0.0.2', IPPROTO.ICMP, Uint8Array.of(8, 0, 0, 0), { fragOffset: 10, id: 101 });
  v4('10.0.0.2', '10.0.0.1', IPPROTO.TCP, tcp({ sport: 443, dport: 40000, flags: F.ACK }), { dontFragment: true });
  // from the other station, and to itself
  out.push(ether({ dst: A, src: B, type: ETH_P_IP }, ipv4({ src: '10.0.0.1', dst: '10.0.0.1', proto: IPPROTO.UDP }, udp({ sport: 7, dport: 7 }))));
  out.push(ether({ dst: '02:00:00:00:00:01', src: B, type: ETH_P_IP }, ipv4({ src: '8.8.8.8', dst: '192.168.1.10', proto: IPPROTO.TCP }, tcp({ sport: 443, dport: 40000, flags: F.ACK | F.PSH }, new Uint8Array(100)))));
  // ESP, GRE
  v4('10.0.0.5', '10.0.0.6', IPPROTO.ESP, new Uint8Array(24).fill(1));
  v4('10.0.0.5', '10.0.0.6', 47, new Uint8Array(8));
  // IPv6
  const pairs6: [string, string][] = [['fe80::1', 'fe80::2'], ['2001:db8::1', '2001:db8:1::5'], ['2001:db8:1::5', '::1']];
  for (const [s, d] of pairs6) {
    v6(s, d, IPPROTO.TCP, tcp({ sport: 40000, dport: 80, flags: F.SYN, options: MSS, src: s, dst: d }));
    v6(d, s, IPPROTO.TCP, tcp({ sport: 80, dport: 40000, flags: F.SYN | F.ACK, src: d, dst: s }));
    v6(s, d, IPPROTO.UDP, udp({ sport: 5353, dport: 53, src: s, dst: d }, new Uint8Array(10)));
    v6(s, d, IPPROTO.ICMPV6, icmp({ type: 128, id: 7, seq: 1, v6: { src: s, dst: d } }, new Uint8Array(4)));
    v6(d, s, IPPROTO.ICMPV6, icmp({ type: 129, id: 7, seq: 1, v6: { src: d, dst: s } }, new Uint8Array(4)));
    v6(s, d, IPPROTO.SCTP, sctp({ sport: 9, dport: 80 }));
  }
  v6('fe80::1', 'ff02::1', IPPROTO.ICMPV6, icmp({ type: 135, v6: { src: 'fe80::1', dst: 'ff02::1' } }, new Uint8Array(16)), { dst: MCAST6 });
  v6('fe80::1', 'ff02::fb', IPPROTO.UDP, udp({ sport: 5353, dport: 5353 }), { dst: MCAST6 });
  // IPv6 fragments: the upper-layer header after a fragment header
  v6('2001:db8::1', '2001:db8::2', IPPROTO.FRAGMENT, concat(ipv6Fragment({ nxt: IPPROTO.UDP, offset: 0, more: true, id: 5 }), udp({ sport: 4000, dport: 53 }, new Uint8Array(8))));
  v6('2001:db8::1', '2001:db8::2', IPPROTO.FRAGMENT, concat(ipv6Fragment({ nxt: IPPROTO.TCP, offset: 0, more: true, id: 6 }), tcp({ sport: 80, dport: 4000, flags: F.SYN })));
  v6('2001:db8::1', '2001:db8::2', IPPROTO.FRAGMENT, concat(ipv6Fragment({ nxt: IPPROTO.ICMPV6, offset: 0, more: false, id: 7 }), icmp({ type: 128 })));
  // SCTP over IPv4
  v4('10.0.0.1', '10.0.0.2', IPPROTO.SCTP, sctp({ sport: 2905, dport: 80 }));
  // VLAN and QinQ
  v4('10.0.0.1', '10.0.0.2', IPPROTO.TCP, tcp({ sport: 5555, dport: 80, flags: F.SYN }), {}, { vlans: [{ id: 100 }] });
  v4('10.0.0.9', '10.0.0.2', IPPROTO.UDP, udp({ sport: 53, dport: 5000 }), { options: IP_OPTS[1] }, { vlans: [{ id: 100 }] });
  v4('10.0.0.1', '10.0.0.2', IPPROTO.ICMP, icmp({ type: 8 }), {}, { vlans: [{ id: 200 }] });
  v6('2001:db8::1', '2001:db8::2', IPPROTO.UDP, udp({ sport: 1, dport: 53 }), { vlans: [{ id: 200 }] });
  v4('10.0.0.1', '10.0.0.2', IPPROTO.TCP, tcp({ sport: 22, dport: 50000, flags: F.ACK }), {}, { vlans: [{ id: 10, tpid: ETH_P_8021AD }, { id: 20 }] });
  v4('10.0.0.1', '10.0.0.2', IPPROTO.UDP, udp({ sport: 67, dport: 68 }), {}, { vlans: [{ id: 5 }, { id: 100 }] });
  out.push(ether({ dst: BCAST, src: A, type: ETH_P_ARP, vlans: [{ id: 100 }] }, arp({ op: 1, sha: A, spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' })));
  // ARP and RARP
  out.push(ether({ dst: BCAST, src: A, type: ETH_P_ARP }, arp({ op: 1, sha: A, spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' })));
  out.push(ether({ dst: A, src: B, type: ETH_P_ARP }, arp({ op: 2, sha: B, spa: '10.0.0.2', tha: A, tpa: '10.0.0.1' })));
  out.push(ether({ dst: BCAST, src: A, type: ETH_P_ARP }, arp({ op: 1, sha: A, spa: '192.168.1.10', tha: '00:00:00:00:00:00', tpa: '192.168.1.1' })));
  out.push(ether({ dst: BCAST, src: A, type: ETH_P_RARP }, arp({ op: 3, sha: A, spa: '0.0.0.0', tha: A, tpa: '0.0.0.0' })));
  // other ethertypes, and (last) frames cut short
  out.push(ether({ dst: '01:80:c2:00:00:0e', src: A, type: 0x88cc }, new Uint8Array(30)));
  // (CUT_SHORT below counts these)
  const cut = ether({ dst: B, src: A, type: ETH_P_IP }, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO.TCP }, tcp({ sport: 80, dport: 81, flags: F.SYN })));
  for (const n of [13, 14, 20, 30, 35, 37]) out.push(cut.slice(0, n));
  const cut6 = ether({ dst: B, src: A, type: ETH_P_IPV6 }, ipv6({ src: 'fe80::1', dst: 'fe80::2', nxt: IPPROTO.UDP }, udp({ sport: 53, dport: 53 })));
  for (const n of [40, 60, 70]) out.push(cut6.slice(0, n));
  return out;
}

/** How many frames at the end of the corpus are cut short inside their headers. */
export const CUT_SHORT = 9;

export function corpusPcap(): Uint8Array {
  return writePcap(corpusFrames().map((data, i) => ({ sec: BASE_SEC + i, nsec: 0, data })));
}

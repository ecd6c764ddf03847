// Built-in name tables that libpcap compiles in (its scanner's flag names, its EtherType and LLC
// tables); the names tcpdump reads from /etc/services and /etc/protocols are in services.ts.

/**
 * EtherTypes by name for `ether proto \NAME` (libpcap's eproto_db), then 802.2 LLC SAPs (its
 * llc_db): libpcap looks the name up in the first table, then the second.
 */
export const ETHER_TYPES: Readonly<Record<string, number>> = {
  aarp: 0x80f3, arp: 0x0806, atalk: 0x809b, decnet: 0x6003, ip: 0x0800, ip6: 0x86dd, lat: 0x6004, loopback: 0x9000,
  mopdl: 0x6001, moprc: 0x6002, rarp: 0x8035, sca: 0x6007,
};
export const LLC_SAPS: Readonly<Record<string, number>> = { iso: 0xfe, stp: 0x42, ipx: 0xe0, netbeui: 0xf0 };

/** Names that stand for numbers in arithmetic: header field offsets and flag/type values. */
export const CONSTANTS: Readonly<Record<string, number>> = {
  icmptype: 0, icmpcode: 1,
  'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5, 'icmp-echo': 8,
  'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11, 'icmp-paramprob': 12,
  'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15, 'icmp-ireqreply': 16, 'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  icmp6type: 0, icmp6code: 1,
  'icmp6-destinationunreach': 1, 'icmp6-packettoobig': 2, 'icmp6-timeexceeded': 3, 'icmp6-parameterproblem': 4,
  'icmp6-echo': 128, 'icmp6-echoreply': 129, 'icmp6-multicastlistenerquery': 130,
  'icmp6-multicastlistenerreportv1': 131, 'icmp6-multicastlistenerdone': 132, 'icmp6-routersolicit': 133,
  'icmp6-routeradvert': 134, 'icmp6-neighborsolicit': 135, 'icmp6-neighboradvert': 136, 'icmp6-redirect': 137,
  'icmp6-routerrenum': 138, 'icmp6-nodeinformationquery': 139, 'icmp6-nodeinformationresponse': 140,
  'icmp6-ineighbordiscoverysolicit': 141, 'icmp6-ineighbordiscoveryadvert': 142, 'icmp6-multicastlistenerreportv2': 143,
  'icmp6-homeagentdiscoveryrequest': 144, 'icmp6-homeagentdiscoveryreply': 145, 'icmp6-mobileprefixsolicit': 146,
  'icmp6-mobileprefixadvert': 147, 'icmp6-certpathsolicit': 148, 'icmp6-certpathadvert': 149,
  'icmp6-multicastrouteradvert': 151, 'icmp6-multicastroutersolicit': 152, 'icmp6-multicastrouterterm': 153,
  tcpflags: 13,
  'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10, 'tcp-urg': 0x20,
  'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

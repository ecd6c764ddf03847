// Built-in name tables (tcpdump resolves these through /etc/services and /etc/protocols; tsbpf
// carries the common ones so filters compile the same everywhere).

/**
 * Well-known ports by service name, with the transport they are registered for (Debian's
 * /etc/services): a name registered for one transport only matches that one, as in libpcap
 * (`port http` is `tcp port 80`); `any` names match TCP, UDP and SCTP.
 */
export const PORTS: Readonly<Record<string, { port: number; proto: 'tcp' | 'udp' | 'any' }>> = Object.fromEntries(
  (
    [
      ['echo', 7, 'any'], ['discard', 9, 'any'], ['daytime', 13, 'any'], ['ftp-data', 20, 'tcp'], ['ftp', 21, 'tcp'],
      ['ssh', 22, 'tcp'], ['telnet', 23, 'tcp'], ['smtp', 25, 'tcp'], ['time', 37, 'any'], ['whois', 43, 'tcp'],
      ['domain', 53, 'any'], ['bootps', 67, 'udp'], ['bootpc', 68, 'udp'], ['tftp', 69, 'udp'], ['gopher', 70, 'tcp'],
      ['finger', 79, 'tcp'], ['http', 80, 'tcp'], ['www', 80, 'tcp'], ['kerberos', 88, 'any'], ['pop3', 110, 'tcp'],
      ['sunrpc', 111, 'any'], ['ident', 113, 'tcp'], ['auth', 113, 'tcp'], ['nntp', 119, 'tcp'], ['ntp', 123, 'udp'],
      ['netbios-ns', 137, 'udp'], ['netbios-dgm', 138, 'udp'], ['netbios-ssn', 139, 'tcp'], ['imap', 143, 'tcp'],
      ['imap2', 143, 'tcp'], ['snmp', 161, 'any'], ['snmp-trap', 162, 'any'], ['bgp', 179, 'tcp'], ['ldap', 389, 'any'],
      ['https', 443, 'any'], ['microsoft-ds', 445, 'tcp'], ['syslog', 514, 'any'], ['submission', 587, 'tcp'],
      ['ldaps', 636, 'any'], ['rsync', 873, 'tcp'], ['ftps', 990, 'tcp'], ['imaps', 993, 'tcp'], ['pop3s', 995, 'tcp'],
      ['openvpn', 1194, 'any'], ['mysql', 3306, 'tcp'], ['postgresql', 5432, 'tcp'], ['mdns', 5353, 'udp'],
      ['http-alt', 8080, 'tcp'],
    ] as const
  ).map(([name, port, proto]) => [name, { port, proto }]),
);

/** IP protocol numbers by name (for `proto NAME` and `ip proto \NAME`). */
export const IP_PROTOCOLS: Readonly<Record<string, number>> = {
  icmp: 1, igmp: 2, ipip: 4, tcp: 6, egp: 8, udp: 17, ipv6: 41, rsvp: 46, gre: 47, esp: 50, ah: 51,
  icmp6: 58, 'ipv6-icmp': 58, ospf: 89, pim: 103, vrrp: 112, sctp: 132,
};

/** Ethernet types by name (for `ether proto \NAME`). */
export const ETHER_TYPES: Readonly<Record<string, number>> = {
  ip: 0x0800, ip6: 0x86dd, arp: 0x0806, rarp: 0x8035, vlan: 0x8100, mpls: 0x8847, lldp: 0x88cc,
};

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
  tcpflags: 13,
  'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10, 'tcp-urg': 0x20,
  'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

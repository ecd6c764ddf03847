// Built-in name tables (tcpdump resolves these through /etc/services and /etc/protocols; tsbpf
// carries the common ones so filters compile the same everywhere).

/** Well-known TCP/UDP ports by service name. */
export const PORTS: Readonly<Record<string, number>> = {
  echo: 7, discard: 9, daytime: 13, 'ftp-data': 20, ftp: 21, ssh: 22, telnet: 23, smtp: 25, time: 37,
  whois: 43, domain: 53, bootps: 67, bootpc: 68, tftp: 69, gopher: 70, finger: 79, http: 80, www: 80,
  kerberos: 88, pop3: 110, sunrpc: 111, ident: 113, auth: 113, nntp: 119, ntp: 123, 'netbios-ns': 137,
  'netbios-dgm': 138, 'netbios-ssn': 139, imap: 143, imap2: 143, snmp: 161, 'snmp-trap': 162, bgp: 179,
  irc: 194, ldap: 389, https: 443, 'microsoft-ds': 445, syslog: 514, submission: 587, ldaps: 636,
  rsync: 873, ftps: 990, imaps: 993, pop3s: 995, openvpn: 1194, mysql: 3306, postgresql: 5432,
  mdns: 5353, 'http-alt': 8080,
};

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

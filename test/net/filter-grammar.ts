// Expressions for the differential test: a fixed list that names every primitive tsbpf knows, and
// random ones from a small grammar of pcap-filter (primitives whose values occur in the corpus,
// combined with and/or/not, parentheses and libpcap's bare-id continuation).
// Not generated, as their differences from libpcap are documented rather than tested
// (docs/pcap-filter-compat.md): `byte N & M` and `byte N | M` (libpcap forgets the load), `geneve`
// anywhere but at the start of the whole expression (libpcap's offsets after a Geneve test that
// failed are undefined), protochain over chains longer than 8 headers.

/** A deterministic generator (xorshift32), so a failure names an expression that comes back. */
export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n: number): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

const HOSTS4 = ['10.0.0.1', '10.0.0.2', '192.168.1.10', '8.8.8.8', '172.16.5.4', '10.1.0.1', '192.168.7.1', '10', '10.0', '10.1', '192.168', '172.16.5', '167772161', '0'];
const NETS4 = ['10.0.0.0/8', '10.0.0.0/24', '192.168.0.0/16', '10.0.0.0 mask 255.255.255.0', '10.0 mask 255.255', '0.0.0.0/0', '0', '10', '300', '10.1', '172.16', '192.168.7.0/24'];
const HOSTS6 = ['fe80::1', 'fe80::2', '2001:db8::1', '2001:db8::2', '::1', '2001:db8:1::5', '2001:db8::10'];
const NETS6 = ['2001:db8::/32', 'fe80::/10', '2001:db8:1::/48', '::/0', 'ff02::/16'];
const MACS = ['00:11:22:33:44:55', '0011.2233.4455', '001122334455', '66-77-88-99-aa-bb', '66:77:88:99:aa:bb', 'ff:ff:ff:ff:ff:ff', '01:80:c2:00:00:14', '0:11:22:33:44:55'];
const PORTS = ['80', '53', '443', '22', '5555', '8080', '6081', '123', '40000', '0x50', 'http', 'domain', 'ntp', 'ssh', 'https', 'smtp', 'bootps'];
const RANGES = ['1-1024', '50-60', '25-smtp', 'http-https', '1000-2000', '40000-50000', '53-53', '8080-80', 'ssh-http', '0-65535'];
const PNAMES = [
  'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp', 'ah', 'esp',
  'atalk', 'aarp', 'decnet', 'lat', 'sca', 'moprc', 'mopdl', 'iso', 'esis', 'isis', 'clnp', 'l1', 'l2', 'iih', 'lsp', 'snp',
  'csnp', 'psnp', 'stp', 'ipx', 'netbeui', 'llc', 'pppoed',
];
const LLC_TYPES = ['i', 's', 'u', 'rr', 'rnr', 'rej', 'ui', 'ua', 'disc', 'dm', 'sabme', 'test', 'xid', 'frmr'];
const ETHER_PROTOS = ['0x800', '0x86dd', '0x806', '0x8035', '0xfe', '0x42', '0xe0', '0xf0', '6', '0', '0x809b', '0x80f3', '0x8137', '0x6003', '1500', '1501', '0x88cc', '0x8847', '0x8864',
  '\\ip', '\\ip6', '\\arp', '\\rarp', '\\ipx', '\\netbeui', '\\atalk', '\\aarp', '\\sca', '\\decnet', '\\lat', '\\moprc', '\\mopdl', '\\stp', '\\iso', '\\loopback'];
const IP_PROTOS = ['6', '17', '47', '51', '50', '1', '132', '2', '\\tcp', '\\udp', '\\gre', '\\icmp', '\\esp', '\\ah'];
const IP6_PROTOS = ['17', '58', '6', '44', '0', '\\ipv6-icmp', '\\udp', '\\ipv6-frag'];
const CHAIN = ['6', '17', '58', '59', '0', '44', '51', '50', '60', '43', '\\tcp', '\\udp'];
const DECNET = ['1.2', '63.1023', '3.5', '1025'];

const LOADS: [string, (number | string)[], string[]][] = [
  ['ip', [0, 1, 6, 8, 9, 12, 16, 19], ['1', '2', '4']],
  ['ip6', [0, 6, 7, 8, 24, 40], ['1', '2', '4']],
  ['tcp', [0, 2, 12, 13, 'tcpflags'], ['1', '2']],
  ['udp', [0, 2, 4, 8], ['1', '2']],
  ['icmp', [0, 1, 'icmptype'], ['1', '2']],
  ['icmp6', [0, 1, 'icmp6type'], ['1']],
  ['ether', [0, 1, 6, 12, 13, 14, 15, 16, 17, 20, 21, 22], ['1', '2', '4']],
  ['arp', [0, 6, 7, 14, 24], ['1', '2', '4']],
  ['link', [0, 12], ['2']],
  ['igmp', [0], ['1']],
  ['sctp', [0, 2], ['2']],
  ['atalk', [0], ['1']],
  ['decnet', [0, 2], ['1']],
];
const VALUES = ['0', '1', '2', '4', '6', '17', '0x45', '0x40', '64', '80', '128', '135', '0x800', '0x86dd', '0xfe', '0xffff', 'tcp-syn', 'tcp-ack', 'icmp-echo', 'icmp6-echo'];
const REL = ['=', '!=', '>', '<', '>=', '<=', '=='];
const ARITH = ['&', '|', '+', '-', '*', '/', '%', '>>', '<<', '^'];

export function randomExpression(r: (n: number) => number, depth = 0): string {
  const pick = <T,>(a: readonly T[]): T => a[r(a.length)]!;
  const k = r(100);
  if (depth < 3 && k < 30) {
    const op = pick(['and', 'or', '&&', '||', 'and', 'or']);
    const left = randomExpression(r, depth + 1);
    // libpcap's continuation: an id alone repeats the last qualifiers (`host a or b`)
    const right = r(8) === 0 && /(host|net|port) \S+$/.test(left) && !left.endsWith(')') ? pick([...HOSTS4.slice(0, 6), ...PORTS.slice(0, 5)]) : randomExpression(r, depth + 1);
    const e = `${left} ${op} ${right}`;
    return r(3) === 0 ? `(${e})` : e;
  }
  if (depth < 3 && k < 38) return `${pick(['not ', '!', 'not '])}${r(2) ? `(${randomExpression(r, depth + 1)})` : primitive(r)}`;
  // an encapsulation moves the offsets of what follows; libpcap's geneve leaves them undefined
  // when it does not match, so it only starts the whole expression
  if (depth < 2 && k < 44) {
    const e = encap(r, depth === 0);
    // (parenthesised after geneve: `geneve and a or b` would test b after a failed geneve)
    return e.startsWith('geneve') ? `${e} and (${randomExpression(r, depth + 1)})` : `${e} and ${randomExpression(r, depth + 1)}`;
  }
  return primitive(r);
}

function encap(r: (n: number) => number, top: boolean): string {
  const pick = <T,>(a: readonly T[]): T => a[r(a.length)]!;
  const k = r(6);
  if (k === 3 && !top) return pick(['vlan 100', 'mpls 5', 'pppoes 7']);
  switch (k) {
    case 0: return pick(['vlan', 'vlan 100', 'vlan 200', 'vlan 5', 'vlan 10', 'vlan 4095']);
    case 1: return pick(['mpls', 'mpls 100', 'mpls 5', 'mpls 200', 'mpls and mpls']);
    case 2: return pick(['pppoes', 'pppoes 7', 'pppoes 0x1234']);
    case 3: return pick(['geneve', 'geneve 7', 'geneve 0x123456', 'geneve 8']);
    case 4: return pick(['vlan and vlan', 'vlan 1 and vlan 2']);
    default: return pick(['vlan', 'mpls', 'pppoes']);
  }
}

function primitive(r: (n: number) => number): string {
  const pick = <T,>(a: readonly T[]): T => a[r(a.length)]!;
  const dir = (): string => pick(['', '', 'src ', 'dst ', 'src or dst ', 'src and dst ', 'dst or src ']);
  switch (r(22)) {
    case 0:
    case 1:
      return pick(PNAMES);
    case 2:
      return `${pick(['', '', 'ip ', 'arp ', 'rarp '])}${dir()}${pick(['host ', 'host ', ''])}${pick(HOSTS4)}`.replace(/^(ip |arp |rarp )?$/, 'ip');
    case 3:
      return `${pick(['', 'ip ', 'arp '])}${dir()}net ${pick(NETS4)}`;
    case 4:
      return `${pick(['', 'ip6 '])}${dir()}${pick(['host ', 'net '])}${pick([...HOSTS6, ...NETS6])}`.replace(/host (\S+\/)/, 'net $1');
    case 5:
      return `${pick(['ether ', 'link ', 'fddi ', 'ether '])}${pick(['host ', 'src ', 'dst ', 'src or dst ', 'src and dst host '])}${pick(MACS)}`;
    case 6:
    case 7:
      return `${pick(['', '', 'tcp ', 'udp ', 'sctp '])}${dir()}port ${pick(PORTS)}`;
    case 8:
      return `${pick(['', 'tcp ', 'udp '])}${dir()}portrange ${pick(RANGES)}`;
    case 9:
      return pick([`ip proto ${pick(IP_PROTOS)}`, `ip6 proto ${pick(IP6_PROTOS)}`, `proto ${pick(IP_PROTOS)}`, `ether proto ${pick(ETHER_PROTOS)}`, `link proto ${pick(ETHER_PROTOS)}`]);
    case 10:
      return `${pick(['', 'ip ', 'ip6 '])}protochain ${pick(CHAIN)}`;
    case 11:
    case 12:
    case 13: {
      const [proto, offs, sizes] = pick(LOADS);
      const off = pick(offs);
      const size = r(3) === 0 ? `:${pick(sizes)}` : '';
      const lhs = `${proto}[${off}${size}]`;
      const mask = r(3) === 0 ? ` ${pick(['&', '&', '|', '>>', '+'])} ${pick(['0xf', '0xf0', '1', '2', '0x1fff', '0xff00', '4'])}` : '';
      return `${lhs}${mask} ${pick(REL)} ${pick(VALUES)}`;
    }
    case 14:
      return `len ${pick(REL)} ${pick(['60', '64', '100', '54', '1000', '40', '74'])}${r(4) ? '' : ` ${pick(ARITH)} ${pick(['1', '2', '3', '14'])}`}`.replace(/ (\/|%) 0$/, '');
    case 15:
      return `${pick(['less', 'greater'])} ${pick(['60', '64', '100', '74', '1500'])}`;
    case 16:
      return pick(['llc', ...LLC_TYPES.map((t) => `llc ${t}`)]);
    case 17:
      return pick([`iso proto ${pick(['0x81', '0x82', '0x83', '1', '\\isis', '\\clnp', '\\esis'])}`, `isis proto ${pick(['15', '18', '20', '24', '27'])}`, pick(['l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp'])]);
    case 18:
      return `decnet ${pick(['', 'src ', 'dst ', 'host ', 'src host ', 'dst host '])}${pick(DECNET)}`;
    case 19:
      return pick(['broadcast', 'multicast', 'ether broadcast', 'ether multicast', 'ip broadcast', 'ip multicast', 'ip6 multicast', 'link multicast']);
    case 20:
      return pick(['vlan', 'vlan 100', 'mpls', 'mpls 100', 'pppoes', 'pppoes 7', 'pppoed', 'inbound', 'outbound', 'ifindex 2']);
    default:
      return `${pick(['tcp', 'udp', 'icmp', 'ip', 'ip6'])}[${pick(['0', '1', '2', '12', '13'])}] ${pick(ARITH)} ${pick(['1', '3', '0xff', '8'])} ${pick(REL)} ${pick(['0', '1', '2', '16', '0x12'])}`.replace(/ (\/|%) 0 /, ' + 0 ');
  }
}

/** Every primitive at least once (on Ethernet), with the spellings libpcap accepts. */
export const FIXED_EXPRESSIONS = [
  'ether proto 0xfe', 'link proto 0xfe', 'ether proto 0x42', 'ether proto 6', 'ether proto 0xe0', 'ether proto 0x809b', 'ether proto 0x80f3', 'ether proto 1500',
  'ether proto \\ipx', 'ether proto \\netbeui', 'ether proto \\atalk', 'ether proto \\aarp', 'ether proto \\sca', 'ether proto \\decnet', 'ether proto \\lat',
  'ether proto \\moprc', 'ether proto \\mopdl', 'ether proto \\stp', 'ether proto \\iso', 'ether proto \\loopback',
  'net 0', 'host 10.1', 'net 300', 'net 10', 'host 167772161', 'net 10.0 mask 255.255', 'net 192.168.0.0 mask 255.255.0.0', 'src net 172.16',
  'llc', 'llc i', 'llc s', 'llc u', 'llc rr', 'llc rnr', 'llc rej', 'llc ui', 'llc ua', 'llc disc', 'llc dm', 'llc sabme', 'llc test', 'llc xid', 'llc frmr',
  'iso', 'isis', 'clnp', 'esis', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp', 'isis proto 18', 'iso proto \\isis', 'iso proto 0x81', 'stp', 'ipx', 'netbeui',
  'atalk', 'aarp', 'decnet', 'lat', 'sca', 'moprc', 'mopdl', 'decnet host 1.2', 'decnet src 63.1023', 'decnet dst 1.2', 'decnet src and dst host 1.2',
  'mpls', 'mpls 100', 'mpls 100 and mpls 200', 'mpls and ip', 'mpls and ip6', 'mpls 5 and mpls 6 and mpls 7 and udp port 53', 'mpls and host 10.0.0.1', 'mpls and tcp port 80',
  'vlan 100 and mpls 16 and tcp', 'pppoed', 'pppoes', 'pppoes 7', 'pppoes and ip', 'pppoes 7 and tcp port 80', 'pppoes and ip6', 'pppoes and iso', 'pppoes and isis',
  'pppoes and mpls', 'pppoes and host 10.0.0.2', 'pppoes and ether[0] = 0', 'pppoes 0x1234',
  'geneve', 'geneve 7', 'geneve 0x123456', 'geneve and ip', 'geneve and tcp port 443', 'geneve and arp', 'geneve and ether host 02:00:00:00:00:01', 'geneve 7 and host 192.168.7.2',
  'geneve and ether broadcast', 'geneve and multicast', 'geneve and ip6', 'geneve and vlan', 'geneve and iso',
  'protochain 6', 'ip6 protochain 6', 'ip protochain 6', 'protochain \\udp', 'ip6 protochain 58', 'ip6 protochain 59', 'ip6 protochain 44', 'ip6 protochain 51', 'protochain 50', 'ip6 protochain 60',
  'tcp portrange 25-smtp', 'portrange http-https', 'udp portrange 50-60', 'portrange 8080-80', 'port http', 'port domain', 'udp port ntp', 'port 0x50',
  'ether host 0011.2233.4455', 'ether src 001122334455', 'ether dst 66-77-88-99-aa-bb', 'fddi host 00:11:22:33:44:55', 'ether src or dst 00:11:22:33:44:55',
  'byte 12 = 8', 'byte 14 < 0x50', 'byte 23 > 5', 'ip6 net ::/0', 'net 0.0.0.0/0', 'host 10.0.0.1 or 10.0.0.2 or 10.0.0.3', 'host (10.0.0.1 or 8.8.8.8)', 'port (80 or 53)',
  'host not 10.0.0.1', 'port 80 and (443)', '(80) + 1 = 81', 'not not ip', 'vlan (100)', 'ip and not icmp or arp', 'ip or !icmp',
  'ether[12:2] = 0x800 and ether[0] & 1 = 0', 'tcp[tcp[0] & 0xf] = 0', 'ip[ip[0] & 0xf] != 1', 'len - 14 = 40', '-len + 100 > 0', 'ip[1] ^ 1 & 3 = 1',
];

/** Expressions for the link types other than Ethernet (their fixed list). */
export const LINK_EXPRESSIONS = [
  '', 'ip', 'ip6', 'arp', 'tcp', 'udp port 53', 'host 10.0.0.1', 'net 10.1', 'ip6 host 2001:db8::1', 'tcp port 80', 'icmp6', 'ip proto 47',
  'ether proto 0x800', 'ether proto 0xfe', 'ether proto \\ipx', 'ether proto \\atalk', 'ipx', 'iso', 'isis', 'stp', 'netbeui', 'atalk', 'aarp', 'decnet',
  'llc', 'vlan', 'mpls', 'pppoed', 'pppoes', 'pppoes and ip', 'geneve', 'geneve and ip', 'inbound', 'outbound', 'ifindex 2', 'not outbound and tcp',
  'ether[0] = 0', 'link[14:2] = 0x800', 'ip[9] = 6', 'ip6[6] = 17', 'tcp[13] & 2 != 0', 'len > 60', 'broadcast', 'multicast', 'ip multicast', 'ip6 multicast',
  'ether host 00:11:22:33:44:55', 'protochain 6', 'ip6 protochain 17', 'ip broadcast', 'decnet host 1.2', 'esp or ah', 'ip or !icmp',
];

/** The table the first differential test had: IP, ports, arithmetic, VLANs (Ethernet). */
export const BASIC_EXPRESSIONS = [
  '', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp', 'esp',
  'host 10.0.0.1', 'src host 10.0.0.1', 'dst host 10.0.0.2', 'host 10.0.0.1 or 10.0.0.2', 'src or dst host 10.0.0.2',
  'src and dst host 10.0.0.1', 'ip host 192.168.1.10', 'arp host 10.0.0.2', 'host fe80::1', 'ip6 dst host ::1',
  'net 10.0.0.0/8', 'src net 192.168.0.0/16', 'net 10.0.0.0 mask 255.255.255.0', 'net 172.16', 'dst net 10.1.0.0/16 or net 8.8.8.0/24',
  'ip6 net 2001:db8::/32', 'net fe80::/10',
  'port 80', 'tcp port 80', 'udp port 53', 'src port 53', 'dst port 53', 'port http', 'port domain or port ntp', 'tcp dst port 443',
  'portrange 1000-2000', 'tcp portrange 1-1024', 'udp src portrange 60-70', 'tcp port 80 or 443', 'sctp port 80', 'port 22 and not host 10.0.0.1',
  'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)',
  'tcp[13] & 4 != 0', 'tcp[tcpflags] = tcp-ack', 'tcp[tcpflags] & tcp-urg != 0', 'tcp[tcpflags] & (tcp-ece|tcp-cwr) != 0', 'tcp[tcpflags] & tcp-fin != 0 or tcp[tcpflags] & tcp-rst != 0',
  'icmp[icmptype] = icmp-echo', 'icmp[icmptype] == icmp-echoreply', 'icmp[0] != 8 and icmp[0] != 0', 'icmp6[icmp6type] = icmp6-echo', 'icmp6 and ip6[40] = 135',
  'ip[8] < 60', 'ip[8] = 64', 'ip[0] & 0xf > 5', 'ip[0] & 0xf != 5', 'ip[6:2] & 0x1fff != 0', 'ip[6] & 0x20 != 0', 'ip[2:2] > 40',
  'ether[0] & 1 != 0', 'ether[12:2] = 0x86dd', 'ether[0:4] = 0xffffffff', 'ether host 00:11:22:33:44:55', 'ether dst 66:77:88:99:aa:bb', 'ether src 00:11:22:33:44:55 and not arp',
  'ether proto 0x88cc', 'ether proto \\arp', 'ip proto 47', 'ip proto \\udp', 'proto \\tcp', 'ip6 proto 17', 'proto 58',
  'broadcast', 'ether broadcast', 'multicast', 'ip multicast', 'ip6 multicast', 'ip broadcast',
  'len > 100', 'len <= 60', 'greater 80', 'less 64', 'len - 14 > 50', 'len * 2 >= 200', 'len / 2 < 40', 'len % 7 = 3', 'len & 1 = 1', 'len >> 2 = 16', 'len << 1 > 150', 'len ^ 1 = 61', '-len + 200 > 100',
  'vlan', 'vlan 100', 'vlan 200 and ip6', 'vlan and tcp', 'vlan 100 and udp port 53', 'vlan and vlan 20', 'vlan 5 and vlan 100 and udp', 'not vlan', 'vlan and arp',
  'not ip', 'not tcp and not udp', '!(tcp || udp) && ip', 'ip and not icmp or arp', 'tcp or udp and host 10.0.0.1', '(tcp or udp) and (port 53 or port 80)',
  'host 10.0.0.1 and (port 80 or 443)', 'not host 10.0.0.1 and 10.0.0.2', 'tcp and (ip[ip[0] & 0xf] = 0 or tcp[0:2] = 80)', 'udp[8:2] = 0x0707',
  'ip[ip[0]&0xf] != 1', 'tcp[0:2] > tcp[2:2]', 'udp[4:2] - 8 = 12', 'ip6[6] = 44', 'ip and ip[9] + 1 = 7',
];

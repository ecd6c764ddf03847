// The syntax tree of a pcap-filter expression, as parsed: qualifiers and ids are kept as written
// (with their positions) and given meaning later by lower.ts, which knows libpcap's rules.

/**
 * Protocol qualifiers (libpcap's "pqual") and the protocol names that stand alone ("pname").
 * `ether` stands for all of libpcap's link-layer spellings (ether, link, fddi, tr, wlan, ppp, slip).
 */
export type ProtoName =
  | 'ether' | 'ip' | 'ip6' | 'arp' | 'rarp' | 'tcp' | 'udp' | 'icmp' | 'icmp6' | 'sctp'
  | 'igmp' | 'igrp' | 'pim' | 'vrrp' | 'carp' | 'ah' | 'esp'
  | 'atalk' | 'aarp' | 'decnet' | 'lat' | 'sca' | 'moprc' | 'mopdl'
  | 'iso' | 'esis' | 'isis' | 'clnp' | 'l1' | 'l2' | 'iih' | 'lsp' | 'snp' | 'csnp' | 'psnp'
  | 'stp' | 'ipx' | 'netbeui' | 'radio';
export type DirQual = 'src' | 'dst' | 'src or dst' | 'src and dst';
export type TypeQual = 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'protochain' | 'gateway';

export interface Qualifiers {
  proto?: ProtoName;
  dir?: DirQual;
  type?: TypeQual;
  /** column of the first qualifier, for errors */
  pos: number;
}

/** The thing a qualified primitive matches: `10.0.0.1`, `10.0.0.0/8`, `80`, `http`, `fe80::/10`... */
export type Id =
  | { kind: 'num'; value: number; pos: number; text: string }
  | { kind: 'addr4'; text: string; pos: number; prefix?: number; mask?: string }
  | { kind: 'addr6'; text: string; pos: number; prefix?: number }
  | { kind: 'mac'; text: string; pos: number }
  | { kind: 'name'; text: string; pos: number };

export type ArithOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';
export type RelOp = '>' | '<' | '>=' | '<=' | '=' | '!=';

export type Arith =
  | { kind: 'const'; value: number; pos: number }
  | { kind: 'len'; pos: number }
  | { kind: 'load'; proto: ProtoName; index: Arith; size: 1 | 2 | 4; pos: number }
  | { kind: 'binary'; op: ArithOp; left: Arith; right: Arith; pos: number }
  | { kind: 'negate'; operand: Arith; pos: number };

/** A link-layer or tunnel header test that takes an optional number (and moves later offsets). */
export type EncapKind = 'vlan' | 'mpls' | 'pppoes' | 'pppoed' | 'geneve';

export type Expr =
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'not'; operand: Expr }
  | { kind: 'primitive'; qual: Qualifiers; id: Id }
  | { kind: 'proto'; proto: ProtoName; pos: number }
  | { kind: 'relation'; op: RelOp; left: Arith; right: Arith; pos: number }
  | { kind: 'encap'; encap: EncapKind; id?: number; pos: number; idPos?: number }
  | { kind: 'length'; op: '>=' | '<='; value: number; pos: number }
  | { kind: 'broadcast' | 'multicast'; proto?: ProtoName; pos: number }
  /** `llc` and `llc i|s|u|rr|rnr|rej|ui|ua|disc|dm|sabme|test|xid|frmr` */
  | { kind: 'llc'; subtype?: string; pos: number; subPos?: number }
  /** `byte N op M`: the byte at link-header offset N compared with (or masked by) M */
  | { kind: 'byte'; index: number; op: '=' | '<' | '>' | '&' | '|'; value: number; pos: number }
  | { kind: 'ifindex'; value: number; pos: number }
  /** `inbound` / `outbound`: the packet's direction (live captures and Linux cooked files) */
  | { kind: 'direction'; outbound: boolean; pos: number };

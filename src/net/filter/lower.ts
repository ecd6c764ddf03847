// AST → predicates, with libpcap's meaning for every primitive (checked against `tcpdump -d`):
// `host` covers IPv4 and ARP/RARP, `port` only matches unfragmented (first-fragment) IPv4 and
// IPv6 whose next header is the protocol itself, `tcp`/`udp`/... on IPv6 also look through one
// fragment header, `tcp[...]` reads IPv4 only, and every `vlan` shifts later link-payload offsets by 4.
import type { Arith, Expr, Id, ProtoName, Qualifiers } from './ast.js';
import { FilterSyntaxError } from './error.js';
import { parseIPv4, parseIPv6, parseMAC } from './lexer.js';
import { ETHER_TYPES, IP_PROTOCOLS, PORTS } from './names.js';
import { TRUE, allOf, and, anyOf, cmp, not, num, or, type Base, type Pred, type Val } from './ir.js';

const ETH_IP = 0x0800;
const ETH_IP6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const VLAN_TPIDS = [0x8100, 0x88a8, 0x9100];
const IPPROTO_FRAGMENT = 44;

/** IP protocol of the transport-ish protocol names. */
const PROTO_NUMBERS: Partial<Record<ProtoName, number>> = {
  tcp: 6, udp: 17, icmp: 1, icmp6: 58, sctp: 132, igmp: 2, pim: 103, vrrp: 112, ah: 51, esp: 50,
};

const PACKET_OUTGOING = 4;

export function lower(expr: Expr | undefined, source: string, o: { live?: boolean } = {}): Pred {
  return new Lowerer(source, o.live ?? false).expr(expr);
}

class Lowerer {
  /** bytes of VLAN tags before the link-layer payload, grown by each `vlan` in source order */
  private shift = 0;
  private vlans = 0;

  constructor(
    private readonly src: string,
    private readonly live: boolean,
  ) {}

  expr(e: Expr | undefined): Pred {
    if (!e) return TRUE;
    switch (e.kind) {
      case 'and':
        return and(this.expr(e.left), this.expr(e.right));
      case 'or':
        return or(this.expr(e.left), this.expr(e.right));
      case 'not':
        return not(this.expr(e.operand));
      case 'proto':
        return this.protoAbbrev(e.proto);
      case 'primitive':
        return this.primitive(e.qual, e.id);
      case 'relation': {
        const guards: Pred[] = [];
        const a = this.arith(e.left, guards);
        const b = this.arith(e.right, guards);
        const ops = { '>': 'gt', '<': 'lt', '>=': 'ge', '<=': 'le', '=': 'eq', '!=': 'ne' } as const;
        const c = cmp(a, ops[e.op], b);
        return guards.length ? and(allOf(guards), c) : c;
      }
      case 'length':
        return cmp({ k: 'len' }, e.op === '>=' ? 'ge' : 'le', e.value);
      case 'vlan': {
        const tpid = this.load('net', -2, 2);
        let inline = anyOf(VLAN_TPIDS.map((t) => cmp(tpid, 'eq', t)));
        if (e.id !== undefined) inline = and(inline, cmp(bin('&', this.load('net', 0, 2), num(0xfff)), 'eq', e.id));
        const p: Pred = { k: 'vlan', id: e.id, first: this.vlans === 0, inline };
        this.shift += 4;
        this.vlans++;
        return p;
      }
      case 'direction':
        // the direction is not in the packet bytes: only a live socket knows it (as in libpcap)
        if (!this.live) throw this.err(`'${e.outbound ? 'outbound' : 'inbound'}' needs a live capture (a file does not record directions)`, e.pos, e.outbound ? 8 : 7);
        return cmp({ k: 'pkttype' }, e.outbound ? 'eq' : 'ne', PACKET_OUTGOING);
      case 'broadcast':
        if (!e.proto || e.proto === 'ether') return this.etherAddr(0, new Uint8Array(6).fill(0xff));
        if (e.proto === 'ip') {
          const dst = this.load('net', 16, 4);
          return and(this.ether(ETH_IP), or(cmp(dst, 'eq', 0), cmp(dst, 'eq', 0xffffffff)));
        }
        throw this.err('only link-layer/IP broadcast filters are supported', e.pos);
      case 'multicast':
        if (!e.proto || e.proto === 'ether') return cmp(this.load('link', 0, 1), 'set', 1);
        if (e.proto === 'ip') return and(this.ether(ETH_IP), cmp(this.load('net', 16, 1), 'ge', 224));
        if (e.proto === 'ip6') return and(this.ether(ETH_IP6), cmp(this.load('net', 24, 1), 'eq', 0xff));
        throw this.err('only link-layer/IP/IPv6 multicast filters are supported', e.pos);
    }
  }

  // ---- primitives ----

  private protoAbbrev(p: ProtoName): Pred {
    switch (p) {
      case 'ether':
        return TRUE;
      case 'ip':
        return this.ether(ETH_IP);
      case 'ip6':
        return this.ether(ETH_IP6);
      case 'arp':
        return this.ether(ETH_ARP);
      case 'rarp':
        return this.ether(ETH_RARP);
      case 'icmp':
      case 'igmp':
      case 'vrrp':
        return this.ipProto(PROTO_NUMBERS[p]!);
      case 'icmp6':
        return this.ip6Proto(58);
      default:
        return or(this.ipProto(PROTO_NUMBERS[p]!), this.ip6Proto(PROTO_NUMBERS[p]!));
    }
  }

  private primitive(q: Qualifiers, id: Id): Pred {
    const type = q.type ?? 'host';
    switch (type) {
      case 'host':
        return this.host(q, id);
      case 'net':
        return this.net(q, id);
      case 'port':
      case 'portrange':
        return this.port(q, id, type === 'portrange');
      case 'proto':
        return this.proto(q, id);
      default:
        throw this.err(`'${type}' is not supported`, q.pos);
    }
  }

  private host(q: Qualifiers, id: Id): Pred {
    if (id.kind === 'mac') {
      if (q.proto && q.proto !== 'ether') throw this.err(`'${q.proto}' modifier applied to an Ethernet address`, id.pos);
      const mac = parseMAC(id.text)!;
      return this.dir(q, (src) => this.etherAddr(src ? 6 : 0, mac));
    }
    if (q.proto === 'ether') throw this.err(`ether host needs an Ethernet address like 00:11:22:33:44:55, not '${id.text}'`, id.pos);
    if (id.kind === 'addr6') {
      if (id.prefix !== undefined) return this.net(q, id);
      if (q.proto && q.proto !== 'ip6') throw this.err(`'${q.proto}' modifier applied to an IPv6 address`, q.pos);
      return this.net6(q, parseIPv6(id.text)!, 128);
    }
    if (id.kind === 'addr4') {
      if (id.prefix !== undefined || id.mask !== undefined) return this.net(q, id);
      const a = parseIPv4(id.text);
      if (a === undefined) throw this.err(`'${id.text}' is not a host address`, id.pos, id.text.length);
      return this.net4(q, a, 0xffffffff);
    }
    if (id.kind === 'name') throw this.err(`cannot resolve host name '${id.text}' (tsbpf does not look up names; use an address)`, id.pos, id.text.length);
    // a bare number as a host: libpcap reads it as a 32-bit IPv4 address
    return this.net4(q, id.value >>> 0, 0xffffffff);
  }

  private net(q: Qualifiers, id: Id): Pred {
    if (id.kind === 'addr6') {
      const prefix = id.prefix ?? 128;
      if (prefix > 128) throw this.err(`IPv6 prefix length ${prefix} is more than 128`, id.pos);
      const bytes = parseIPv6(id.text)!;
      for (let b = 0; b < 16; b++) {
        const keep = Math.max(0, Math.min(8, prefix - 8 * b));
        if (bytes[b]! & (0xff >> keep) & 0xff && keep < 8) throw this.err(`non-network bits set in "${this.src.slice(id.pos).split(/\s/)[0]}"`, id.pos);
      }
      if (q.proto && q.proto !== 'ip6') throw this.err(`'${q.proto}' modifier applied to an IPv6 net`, q.pos);
      return this.net6(q, bytes, prefix);
    }
    let addr: number;
    let mask: number;
    if (id.kind === 'num') {
      addr = (id.value << 24) >>> 0;
      mask = 0xff000000;
      if (id.value > 255) throw this.err(`'${id.text}' is not a network`, id.pos);
    } else if (id.kind === 'addr4') {
      const parts = id.text.split('.');
      const full = parseIPv4([...parts, '0', '0', '0'].slice(0, 4).join('.'));
      if (full === undefined) throw this.err(`'${id.text}' is not an IPv4 network`, id.pos, id.text.length);
      addr = full;
      if (id.mask !== undefined) {
        const m = parseIPv4(id.mask);
        if (m === undefined) throw this.err(`'${id.mask}' is not a netmask`, id.pos);
        mask = m;
      } else {
        const prefix = id.prefix ?? 8 * parts.length;
        if (prefix > 32) throw this.err(`IPv4 prefix length ${prefix} is more than 32`, id.pos);
        mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      }
      if ((addr & ~mask) >>> 0) throw this.err(`non-network bits set in "${this.src.slice(id.pos).split(/\s/)[0]}"`, id.pos);
    } else {
      throw this.err(`'${id.text}' is not a network (use an address like 10.0.0.0/8)`, id.pos, id.text.length);
    }
    return this.net4(q, addr, mask);
  }

  /** IPv4 address match in IP and, unless restricted to ip, ARP and RARP headers. */
  private net4(q: Qualifiers, addr: number, mask: number): Pred {
    const test = (off: number): Pred => {
      const v = this.load('net', off, 4);
      return cmp(mask === 0xffffffff ? v : bin('&', v, num(mask)), 'eq', (addr & mask) >>> 0);
    };
    const ip = (): Pred => and(this.ether(ETH_IP), this.dir(q, (src) => test(src ? 12 : 16)));
    const arp = (type: number): Pred => and(this.ether(type), this.dir(q, (src) => test(src ? 14 : 24)));
    switch (q.proto) {
      case undefined:
        return or(ip(), or(arp(ETH_ARP), arp(ETH_RARP)));
      case 'ip':
        return ip();
      case 'arp':
        return arp(ETH_ARP);
      case 'rarp':
        return arp(ETH_RARP);
      default:
        throw this.err(`'${q.proto}' modifier applied to host or net`, q.pos);
    }
  }

  private net6(q: Qualifiers, addr: Uint8Array, prefix: number): Pred {
    const view = new DataView(addr.buffer, addr.byteOffset, 16);
    const test = (off: number): Pred => {
      const words: Pred[] = [];
      for (let w = 0; w < 4 && prefix > 32 * w; w++) {
        const bits = Math.min(32, prefix - 32 * w);
        const mask = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
        const v = this.load('net', off + 4 * w, 4);
        words.push(cmp(mask === 0xffffffff ? v : bin('&', v, num(mask)), 'eq', (view.getUint32(4 * w) & mask) >>> 0));
      }
      return words.length ? allOf(words) : TRUE;
    };
    return and(this.ether(ETH_IP6), this.dir(q, (src) => test(src ? 8 : 24)));
  }

  private port(q: Qualifiers, id: Id, range: boolean): Pred {
    let lo: number;
    let hi: number;
    // a service name registered for one transport narrows the match to it
    let only: 'tcp' | 'udp' | undefined;
    const named = (text: string): number => {
      if (/^[0-9]+$/.test(text)) return Number(text);
      const p = PORTS[text];
      if (p === undefined) throw this.err(`unknown port name '${text}'`, id.pos, id.text.length);
      if (p.proto !== 'any') {
        if (q.proto && q.proto !== p.proto) throw this.err(`port '${text}' is ${p.proto}`, id.pos, id.text.length);
        only = p.proto;
      }
      return p.port;
    };
    if (range) {
      const m = id.kind === 'name' ? /^([A-Za-z0-9_]+)-([A-Za-z0-9_]+)$/.exec(id.text) : null;
      if (id.kind === 'num') lo = hi = id.value;
      else if (m) {
        lo = named(m[1]!);
        hi = named(m[2]!);
      } else throw this.err(`'${id.text}' is not a port range like 1000-2000`, id.pos, id.text.length);
      if (lo > hi) [lo, hi] = [hi, lo];
    } else {
      if (id.kind === 'num') lo = id.value;
      else if (id.kind === 'name') lo = named(id.text);
      else throw this.err(`'${id.text}' is not a port`, id.pos, id.text.length);
      hi = lo;
    }
    if (hi > 65535) throw this.err(`port ${hi} is out of range (0-65535)`, id.pos, id.text.length);
    const protos = only ? [PROTO_NUMBERS[only]!] : q.proto === undefined ? [132, 6, 17] : q.proto === 'tcp' || q.proto === 'udp' || q.proto === 'sctp' ? [PROTO_NUMBERS[q.proto]!] : undefined;
    if (!protos) throw this.err(`illegal qualifier '${q.proto}' for port`, q.pos);
    const test = (base: Base, src: boolean): Pred => {
      const v = this.load(base, src ? 0 : 2, 2);
      return lo === hi ? cmp(v, 'eq', lo) : and(cmp(v, 'ge', lo), cmp(v, 'le', hi));
    };
    const ip4 = allOf([
      this.ether(ETH_IP),
      anyOf(protos.map((p) => cmp(this.load('net', 9, 1), 'eq', p))),
      this.notFragment(),
      this.dir(q, (src) => test('ip4-payload', src)),
    ]);
    const ip6 = allOf([
      this.ether(ETH_IP6),
      anyOf(protos.map((p) => cmp(this.load('net', 6, 1), 'eq', p))),
      this.dir(q, (src) => test('ip6-payload', src)),
    ]);
    return or(ip6, ip4);
  }

  private proto(q: Qualifiers, id: Id): Pred {
    const table = q.proto === 'ether' ? ETHER_TYPES : IP_PROTOCOLS;
    let n: number;
    if (id.kind === 'num') n = id.value;
    else if (id.kind === 'name' && table[id.text] !== undefined) n = table[id.text]!;
    else throw this.err(`unknown protocol '${id.text}'`, id.pos, id.text.length);
    switch (q.proto) {
      case 'ether':
        if (n > 0xffff) throw this.err(`ether type ${n} is out of range`, id.pos);
        return this.ether(n);
      case 'ip':
        return this.ipProto(n);
      case 'ip6':
        return this.ip6Proto(n);
      case undefined:
        return or(this.ipProto(n), this.ip6Proto(n));
      default:
        throw this.err(`'${q.proto}' modifier applied to proto`, q.pos);
    }
  }

  // ---- building blocks ----

  private ether(type: number): Pred {
    return cmp(this.load('net', -2, 2), 'eq', type);
  }

  private ipProto(p: number): Pred {
    return and(this.ether(ETH_IP), cmp(this.load('net', 9, 1), 'eq', p));
  }

  /** IPv6 next header, or the header after one fragment header (libpcap does the same). */
  private ip6Proto(p: number): Pred {
    const nxt = this.load('net', 6, 1);
    return and(this.ether(ETH_IP6), or(cmp(nxt, 'eq', p), and(cmp(nxt, 'eq', IPPROTO_FRAGMENT), cmp(this.load('net', 40, 1), 'eq', p))));
  }

  /** fragment offset 0: the first fragment, or not fragmented */
  private notFragment(): Pred {
    return not(cmp(this.load('net', 6, 2), 'set', 0x1fff));
  }

  private etherAddr(off: number, mac: Uint8Array): Pred {
    const v = new DataView(mac.buffer, mac.byteOffset, 6);
    return and(cmp(this.load('link', off + 2, 4), 'eq', v.getUint32(2)), cmp(this.load('link', off, 2), 'eq', v.getUint16(0)));
  }

  private dir(q: Qualifiers, test: (src: boolean) => Pred): Pred {
    switch (q.dir) {
      case 'src':
        return test(true);
      case 'dst':
        return test(false);
      case 'src and dst':
        return and(test(true), test(false));
      default:
        return or(test(true), test(false));
    }
  }

  private load(base: Base, off: number | Val, size: 1 | 2 | 4): Val {
    return { k: 'load', base, off: typeof off === 'number' ? { k: 'const', v: off | 0 } : off, size, vlanShift: this.shift };
  }

  // ---- arithmetic ----

  private arith(a: Arith, guards: Pred[]): Val {
    switch (a.kind) {
      case 'const':
        return num(a.value);
      case 'len':
        return { k: 'len' };
      case 'negate':
        return { k: 'neg', a: this.arith(a.operand, guards) };
      case 'binary': {
        const l = this.arith(a.left, guards);
        const r = this.arith(a.right, guards);
        if ((a.op === '/' || a.op === '%') && r.k === 'const' && r.v === 0) throw this.err(a.op === '/' ? 'division by zero' : 'modulus by zero', a.pos);
        if ((a.op === '<<' || a.op === '>>') && r.k === 'const' && r.v > 31) throw this.err('shift by more than 31 bits', a.pos);
        return bin(a.op, l, r);
      }
      case 'load': {
        const index = this.arith(a.index, guards);
        switch (a.proto) {
          case 'ether':
            return this.load('link', index, a.size);
          case 'ip':
          case 'arp':
          case 'rarp':
          case 'ip6':
            guards.push(this.protoAbbrev(a.proto));
            return this.load('net', index, a.size);
          case 'icmp6':
            guards.push(and(this.ether(ETH_IP6), cmp(this.load('net', 6, 1), 'eq', 58)));
            return this.load('ip6-payload', index, a.size);
          default:
            guards.push(allOf([this.ipProto(PROTO_NUMBERS[a.proto]!), this.notFragment()]));
            return this.load('ip4-payload', index, a.size);
        }
      }
    }
  }

  private err(reason: string, pos: number, length = 1): FilterSyntaxError {
    return new FilterSyntaxError(reason, this.src, pos, length);
  }
}

const bin = (op: Extract<Val, { k: 'bin' }>['op'], a: Val, b: Val): Val => ({ k: 'bin', op, a, b });

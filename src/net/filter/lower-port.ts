// `port`, `portrange` (libpcap's gen_port/gen_portrange, for IPv4 and IPv6) and `protochain`.
import type { Id, Qualifiers } from './ast.js';
import { TRUE, allOf, and, anyOf, bin, cmp, num, or, type Pred, type Val } from './ir.js';
import { ETHERTYPE } from './link.js';
import type { LowerContext } from './lower-context.js';
import { dirTest } from './lower-addr.js';
import { IPPROTO, notFragment, protoNumber } from './lower-proto.js';
import { SERVICES } from './services.js';

type Transport = typeof IPPROTO.TCP | typeof IPPROTO.UDP | typeof IPPROTO.SCTP;
const TRANSPORTS: Readonly<Record<string, Transport>> = { tcp: IPPROTO.TCP, udp: IPPROTO.UDP, sctp: IPPROTO.SCTP };
const NAMES: Readonly<Record<number, string>> = { [IPPROTO.TCP]: 'tcp', [IPPROTO.UDP]: 'udp', [IPPROTO.SCTP]: 'sctp' };

/**
 * A port by name or number, as libpcap's pcap_nametoport: a name registered for TCP and UDP with
 * the same number matches any transport, one registered for one transport only that one; a
 * numeric string matches any.
 */
function namedPort(text: string): { port: number; proto?: Transport } | undefined {
  if (/^[0-9]+$/.test(text)) return { port: Number(text) };
  const s = SERVICES.get(text);
  if (!s) return undefined;
  if (s.tcp !== undefined) return { port: s.tcp, proto: s.udp === s.tcp ? undefined : IPPROTO.TCP };
  return { port: s.udp!, proto: IPPROTO.UDP };
}

export function port(cx: LowerContext, q: Qualifiers, id: Id, range: boolean): Pred {
  if (q.proto !== undefined && TRANSPORTS[q.proto] === undefined) throw cx.err(`illegal qualifier of '${range ? 'portrange' : 'port'}'`, q.pos);
  const asked = q.proto === undefined ? undefined : TRANSPORTS[q.proto];
  let lo: number;
  let hi: number;
  let real: Transport | undefined;
  const unknown = (): never => {
    throw cx.err(`unknown port${range ? ' in range' : ''} '${id.text}'`, id.pos, id.text.length);
  };
  if (id.kind === 'num') {
    lo = hi = id.value;
  } else if (id.kind !== 'name') {
    throw cx.err(`'${id.text}' is not a port`, id.pos, id.text.length);
  } else if (!range) {
    const p = namedPort(id.text) ?? unknown();
    lo = hi = p.port;
    real = p.proto;
  } else {
    // pcap_nametoportrange: "N-M" with numbers, else each side a name (or number) on its own
    const nums = /^([0-9]+)-([0-9]+)/.exec(id.text);
    const dash = id.text.indexOf('-');
    if (nums) {
      lo = Number(nums[1]);
      hi = Number(nums[2]);
    } else {
      if (dash < 0) unknown();
      const a = namedPort(id.text.slice(0, dash)) ?? unknown();
      const b = namedPort(id.text.slice(dash + 1)) ?? unknown();
      [lo, hi] = [a.port, b.port];
      real = a.proto === b.proto ? a.proto : undefined;
    }
  }
  if (asked !== undefined && real !== undefined && real !== asked) {
    throw cx.err(`port ${range ? 'in range ' : ''}'${id.text}' is ${NAMES[real]}`, id.pos, id.text.length);
  }
  real = asked ?? real;
  for (const p of [lo, hi]) if (p > 65535) throw cx.err(`illegal port number ${p} > 65535`, id.pos, id.text.length);
  if (lo > hi) [lo, hi] = [hi, lo];
  // libpcap's order when any transport will do: SCTP, TCP, UDP
  const protos = real !== undefined ? [real] : [IPPROTO.SCTP, IPPROTO.TCP, IPPROTO.UDP];
  const test = (v: Val): Pred => (lo === hi && !range ? cmp(v, 'eq', lo) : and(cmp(v, 'ge', lo), cmp(v, 'le', hi)));
  const ip6 = allOf([
    cx.linkType(ETHERTYPE.IPV6, q.pos),
    anyOf(protos.map((p) => cmp(cx.net(6, 1), 'eq', p))),
    dirTest(q, (src) => test(cx.ip6Payload(src ? 0 : 2, 2))),
  ]);
  const ip4 = allOf([
    cx.linkType(ETHERTYPE.IP, q.pos),
    anyOf(protos.map((p) => cmp(cx.net(9, 1), 'eq', p))),
    notFragment(cx),
    dirTest(q, (src) => test(cx.ip4Payload(src ? 0 : 2, 2))),
  ]);
  return or(ip6, ip4);
}

/**
 * How many headers `protochain` follows. libpcap loops until a header that is not an extension
 * header (eBPF programs here have no loops); chains longer than this do not match.
 */
export const PROTOCHAIN_HEADERS = 8;
const NEXT_NONE = 59;
const EXT6 = [0, 60, 43, 44]; // hop-by-hop, destination options, routing, fragment

/** `[ip|ip6] protochain N`: protocol N anywhere in the chain of IPv6 extension headers (or IPv4 AH). */
export function protochain(cx: LowerContext, q: Qualifiers, id: Id): Pred {
  if (q.dir) throw cx.err("direction applied to 'protochain'", q.pos);
  if (cx.st.pl.v !== undefined) throw cx.err("'protochain' not supported with variable length headers", q.pos);
  const n = protoNumber(cx, q, id);
  const [A, X, T] = cx.scratch(3, q.pos);
  const va: Val = { k: 'var', id: A! };
  const vx: Val = { k: 'var', id: X! };
  const at = (k: number): Val => ({ k: 'load', off: bin('+', vx, num(cx.netOff.c + k)), size: 1 });
  /** next header := byte 0 of this header, offset := where the next one starts */
  const advance = (next: Val): Pred =>
    allOf([{ k: 'set', id: T!, v: at(0) }, { k: 'set', id: X!, v: next }, { k: 'set', id: A!, v: { k: 'var', id: T! } }]);
  const step = (v6: boolean): Pred => {
    const stop = or(cmp(va, 'eq', n), cmp(va, 'eq', NEXT_NONE));
    // libpcap 1.10 sets the offset after an AH header to (length + 2) * 4 from the network header,
    // forgetting where the AH header itself was; tsbpf does the same so that it agrees with tcpdump
    const ah = and(cmp(va, 'eq', IPPROTO.AH), advance(bin('*', bin('+', at(1), num(2)), num(4))));
    const ext = and(anyOf(EXT6.map((e) => cmp(va, 'eq', e))), advance(bin('+', vx, bin('*', bin('+', at(1), num(1)), num(8)))));
    return or(stop, v6 ? or(ext, or(ah, TRUE)) : or(ah, TRUE));
  };
  const chain = (v6: boolean): Pred =>
    allOf([
      cx.linkType(v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IP, q.pos),
      { k: 'set', id: A!, v: cx.net(v6 ? 6 : 9, 1) },
      { k: 'set', id: X!, v: v6 ? num(40) : { k: 'ihl', off: num(cx.netOff.c) } },
      ...Array.from({ length: PROTOCHAIN_HEADERS }, () => step(v6)),
      cmp(va, 'eq', n),
    ]);
  switch (q.proto) {
    case undefined:
      return or(chain(false), chain(true));
    case 'ip':
      return chain(false);
    case 'ip6':
      return chain(true);
    default:
      throw cx.err("bad protocol applied for 'protochain'", q.pos);
  }
}

// Comparisons of arithmetic expressions (`tcp[13] & 2 != 0`, `len - 14 > 50`). Packet reads like
// `tcp[i]` come with the test that the packet has that protocol ("guards"), which is evaluated
// before any of the values, as in libpcap. The walk uses an explicit stack: an expression may be a
// chain thousands of terms long.
import type { Arith, Expr, ProtoName } from './ast.js';
import { allOf, and, bin, cmp, num, offVal, plus, type CmpOp, type Pred, type Val } from './ir.js';
import { ETHERTYPE } from './link.js';
import type { LowerContext } from './lower-context.js';
import { IPPROTO, notFragment, protoAbbrev } from './lower-proto.js';

const OPS: Readonly<Record<string, CmpOp>> = { '>': 'gt', '<': 'lt', '>=': 'ge', '<=': 'le', '=': 'eq', '!=': 'ne' };
/** `proto[i]` reads relative to the network-layer header for these */
const NETWORK: ReadonlySet<ProtoName> = new Set(['ip', 'arp', 'rarp', 'atalk', 'decnet', 'sca', 'lat', 'moprc', 'mopdl', 'ip6']);
/** and relative to the header after an IPv4 header for these */
const TRANSPORT: ReadonlySet<ProtoName> = new Set(['tcp', 'udp', 'sctp', 'icmp', 'igmp', 'igrp', 'pim', 'vrrp', 'carp']);

export function relation(cx: LowerContext, e: Extract<Expr, { kind: 'relation' }>): Pred {
  const guards: Pred[] = [];
  const a = arith(cx, e.left, guards);
  const b = arith(cx, e.right, guards);
  const c = cmp(a, OPS[e.op]!, b);
  return guards.length ? and(allOf(guards), c) : c;
}

type Work = { a: Arith; done: boolean; guardsAt: number };

function arith(cx: LowerContext, root: Arith, guards: Pred[]): Val {
  const work: Work[] = [{ a: root, done: false, guardsAt: 0 }];
  const out: Val[] = [];
  while (work.length) {
    const w = work.pop()!;
    const a = w.a;
    switch (a.kind) {
      case 'const':
        out.push(num(a.value));
        break;
      case 'len':
        out.push({ k: 'len' });
        break;
      case 'negate':
        if (!w.done) work.push({ ...w, done: true }, { a: a.operand, done: false, guardsAt: 0 });
        else out.push({ k: 'neg', a: out.pop()! });
        break;
      case 'binary':
        if (!w.done) {
          work.push({ ...w, done: true }, { a: a.right, done: false, guardsAt: 0 }, { a: a.left, done: false, guardsAt: 0 });
          break;
        }
        {
          const r = out.pop()!;
          const l = out.pop()!;
          if ((a.op === '/' || a.op === '%') && r.k === 'const' && r.v === 0) throw cx.err(a.op === '/' ? 'division by zero' : 'modulus by zero', a.pos);
          if ((a.op === '<<' || a.op === '>>') && r.k === 'const' && r.v > 31) throw cx.err('shift by more than 31 bits', a.pos);
          out.push(bin(a.op, l, r));
        }
        break;
      case 'load':
        if (!w.done) work.push({ a, done: true, guardsAt: guards.length }, { a: a.index, done: false, guardsAt: 0 });
        else out.push(indexLoad(cx, a, out.pop()!, guards, w.guardsAt));
        break;
    }
  }
  return out.pop()!;
}

/**
 * `proto[index : size]`. libpcap's order of tests: for a transport protocol, "is IPv4" before the
 * index's own guards, then the protocol and "first fragment"; for a network protocol the index's
 * guards, then the protocol.
 */
function indexLoad(cx: LowerContext, a: Extract<Arith, { kind: 'load' }>, index: Val, guards: Pred[], at: number): Val {
  const p = a.proto;
  const load = (base: Val): Val => ({ k: 'load', off: plus(base, index), size: a.size });
  if (p === 'ether') return load(offVal(cx.st.hdr));
  if (NETWORK.has(p)) {
    guards.push(protoAbbrev(cx, p, a.pos));
    return load(offVal(cx.netOff));
  }
  if (TRANSPORT.has(p)) {
    guards.splice(at, 0, cx.linkType(ETHERTYPE.IP, a.pos));
    guards.push(and(protoAbbrev(cx, p, a.pos), notFragment(cx)));
    return load(cx.ip4PayloadOff(0));
  }
  if (p === 'icmp6') {
    guards.splice(at, 0, cx.linkType(ETHERTYPE.IPV6, a.pos));
    guards.push(cmp(cx.net(6, 1), 'eq', IPPROTO.ICMPV6));
    return load(offVal(cx.netOff, 40));
  }
  throw cx.err(p === 'radio' ? 'radio information not present in capture' : 'unsupported index operation', a.pos, p.length);
}

// AST → predicates, with libpcap's meaning for every primitive (checked against `tcpdump -d` and,
// packet by packet, against `tcpdump -r`: test/net/filter-differential.test.ts). The tree is walked
// with an explicit stack, left before right, because libpcap's encapsulations (`vlan`, `mpls`,
// `pppoes`, `geneve`) move the headers for everything after them in source order.
import type { Expr } from './ast.js';
import { TRUE, cmp, not, type Pred } from './ir.js';
import type { LinkKind } from './link.js';
import { broadcast, hostOrNet, multicast } from './lower-addr.js';
import { relation } from './lower-arith.js';
import { LowerContext } from './lower-context.js';
import { encap } from './lower-encap.js';
import { byteOp, direction, ifindex, llc } from './lower-link.js';
import { port, protochain } from './lower-port.js';
import { proto, protoAbbrev } from './lower-proto.js';

export interface LowerOptions {
  /** for a live AF_PACKET socket (Ethernet frames, skb metadata available) */
  live?: boolean;
  /** the link layer of the packets (default Ethernet) */
  link?: LinkKind;
}

export interface Lowered {
  pred: Pred;
  /** run-time variables the predicate uses (stack slots 0 .. vars-1) */
  vars: number;
}

export function lower(expr: Expr | undefined, source: string, o: LowerOptions = {}): Lowered {
  const cx = new LowerContext(source, o.link ?? 'ether', o.live ?? false);
  const pred = expr ? walk(cx, expr) : TRUE;
  return { pred, vars: cx.varCount };
}

function walk(cx: LowerContext, root: Expr): Pred {
  const work: { e: Expr; done: boolean }[] = [{ e: root, done: false }];
  const out: Pred[] = [];
  while (work.length) {
    const { e, done } = work.pop()!;
    if (e.kind === 'and' || e.kind === 'or') {
      if (!done) work.push({ e, done: true }, { e: e.right, done: false }, { e: e.left, done: false });
      else {
        const b = out.pop()!;
        out.push({ k: e.kind, a: out.pop()!, b });
      }
    } else if (e.kind === 'not') {
      if (!done) work.push({ e, done: true }, { e: e.operand, done: false });
      else out.push(not(out.pop()!));
    } else out.push(leaf(cx, e as Leaf));
  }
  return out.pop()!;
}

type Leaf = Exclude<Expr, { kind: 'and' | 'or' | 'not' }>;

function leaf(cx: LowerContext, e: Leaf): Pred {
  switch (e.kind) {
    case 'proto':
      return protoAbbrev(cx, e.proto, e.pos);
    case 'primitive':
      switch (e.qual.type) {
        case undefined:
        case 'host':
        case 'net':
          return hostOrNet(cx, e.qual, e.id);
        case 'port':
        case 'portrange':
          return port(cx, e.qual, e.id, e.qual.type === 'portrange');
        case 'proto':
          return proto(cx, e.qual, e.id);
        case 'protochain':
          return protochain(cx, e.qual, e.id);
        default:
          throw cx.err(`'${e.qual.type}' is not supported`, e.qual.pos);
      }
    case 'relation':
      return relation(cx, e);
    case 'length':
      return cmp({ k: 'len' }, e.op === '>=' ? 'ge' : 'le', e.value);
    case 'encap':
      return encap(cx, e.encap, e.id, e.pos);
    case 'broadcast':
      return broadcast(cx, e.proto, e.pos);
    case 'multicast':
      return multicast(cx, e.proto, e.pos);
    case 'llc':
      return llc(cx, e);
    case 'byte':
      return byteOp(cx, e);
    case 'ifindex':
      return ifindex(cx, e);
    case 'direction':
      return direction(cx, e);
  }
}

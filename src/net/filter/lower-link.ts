// Link-layer primitives other than addresses: `llc [type]`, `byte N op M`, `ifindex N`,
// `inbound`/`outbound` (libpcap's gen_llc*, gen_byteop, gen_ifindex, gen_inbound).
import type { Expr } from './ast.js';
import { and, bin, cmp, load, not, num, type Pred, type Val } from './ir.js';
import type { LowerContext } from './lower-context.js';

/** LLC control-field subtypes: S frames compared under mask 0x0f, U frames under 0xef. */
const LLC_S: Readonly<Record<string, number>> = { rr: 0x01, rnr: 0x05, rej: 0x09 };
const LLC_U: Readonly<Record<string, number>> = { ui: 0x03, ua: 0x63, disc: 0x43, dm: 0x0f, sabme: 0x6f, test: 0xe3, xid: 0xaf, frmr: 0x87 };
const ETHERMTU = 1500;
const PACKET_OUTGOING = 4;

export function llc(cx: LowerContext, e: Extract<Expr, { kind: 'llc' }>): Pred {
  if (cx.st.kind !== 'ether') throw cx.err(`'llc' not supported for ${cx.linkName}`, e.pos, 3);
  // an 802.3 frame (length, not EtherType) that is not Novell's raw 802.3 (which has no LLC header)
  const base = and(not(cmp(typeField(cx), 'gt', ETHERMTU)), not(cmp(llcField(cx, 0, 2), 'eq', 0xffff)));
  if (e.subtype === undefined) return base;
  const control = llcField(cx, 2, 1);
  const masked = (mask: number, v: number): Pred => and(base, cmp(bin('&', control, num(mask)), 'eq', v));
  switch (e.subtype) {
    case 'i':
      return and(base, not(cmp(control, 'set', 0x01)));
    case 's':
      return masked(0x03, 0x01);
    case 'u':
      return masked(0x03, 0x03);
  }
  if (LLC_S[e.subtype] !== undefined) return masked(0x0f, LLC_S[e.subtype]!);
  if (LLC_U[e.subtype] !== undefined) return masked(0xef, LLC_U[e.subtype]!);
  throw cx.err(`unknown LLC type name '${e.subtype}'`, e.subPos ?? e.pos, e.subtype.length);
}

const typeField = (cx: LowerContext): Val => load(cx.st.type!, 0, 2);
const llcField = (cx: LowerContext, off: number, size: 1 | 2): Val => load(cx.st.pl, off, size);

/** `byte N op M`: the byte at link-header offset N. */
export function byteOp(cx: LowerContext, e: Extract<Expr, { kind: 'byte' }>): Pred {
  const b = cx.hdr(e.index, 1);
  switch (e.op) {
    case '=':
      return cmp(b, 'eq', e.value);
    case '<':
      return cmp(b, 'lt', e.value);
    case '>':
      return cmp(b, 'gt', e.value);
    case '&':
      return cmp(b, 'set', e.value);
    case '|':
      return cmp(bin('|', b, num(e.value)), 'ne', 0);
  }
}

export function ifindex(cx: LowerContext, e: Extract<Expr, { kind: 'ifindex' }>): Pred {
  if (cx.live) return cmp({ k: 'meta', field: 'ifindex' }, 'eq', e.value);
  if (cx.st.kind === 'sll2') return cmp(cx.hdr(4, 4), 'eq', e.value);
  throw cx.err(`ifindex not supported on ${cx.linkName} when reading savefiles`, e.pos, 7);
}

/** `inbound`/`outbound`: in the packet type of a Linux cooked header, or (live) in the socket buffer. */
export function direction(cx: LowerContext, e: Extract<Expr, { kind: 'direction' }>): Pred {
  const len = e.outbound ? 8 : 7;
  let type;
  if (cx.live) type = { k: 'meta' as const, field: 'pkttype' as const };
  else if (cx.st.kind === 'sll') type = cx.hdr(0, 2);
  else if (cx.st.kind === 'sll2') type = cx.hdr(10, 1);
  else throw cx.err(`inbound/outbound not supported on ${cx.linkName} when reading savefiles`, e.pos, len);
  return cmp(type, e.outbound ? 'eq' : 'ne', PACKET_OUTGOING);
}

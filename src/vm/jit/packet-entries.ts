// Entries of a compiled program for filtering packets in VM memory, for programs whose only view of a
// packet is the __sk_buff and legacy packet loads (no helpers, no direct packet access): the context
// and frame pointer are set once (set_skb); then run_skb_packet(start, caplen, wirelen) runs the
// program on one packet without BigInts crossing to JS, and run_skb_records(...) runs it over a run of
// length-prefixed records (the classic pcap layout: a 16-byte header with the captured length at 8
// and the wire length at 12, little-endian) without crossing to JS per packet at all. Per packet,
// the control block gets the packet's start and read limits (the packet is read-only here), the
// __sk_buff its len (the wire length), the run its fuel.
import { SKB } from '../context.js';
import { CONTROL } from '../memory.js';
import { Code, Op, T } from './wasm.js';

/** The classic pcap record: header bytes, and where its captured and wire lengths are. */
export const RECORD = { header: 16, caplen: 8, wirelen: 12 } as const;

/**
 * The program (function `main`) on the packet whose start, captured and wire lengths are in locals;
 * leaves r0's low 32 bits on the wasm stack. `sizes`: the access sizes of the program's legacy loads.
 */
function runOnPacket(c: Code, main: number, g: { ctx: number; fp: number }, sizes: ReadonlySet<number>, l: { start: number; caplen: number; wirelen: () => void }): void {
  c.i32(0).get(l.start).mem(Op.i32_store, CONTROL.packet);
  [1, 2, 4, 8].forEach((size, k) => {
    // the read limit of each access size used: caplen - size + 1, or 0 when not even one access of
    // this size fits (write limits stay 0: the packet is read-only)
    if (!sizes.has(size)) return;
    c.i32(0).get(l.caplen).i32(size - 1).op(Op.i32_sub).i32(0).get(l.caplen).i32(size - 1).op(Op.i32_gt_u, Op.select).mem(Op.i32_store, CONTROL.packet + 8 + 8 * k);
  });
  // the __sk_buff's len (socket filters read neither data nor data_end)
  c.op(Op.global_get, g.ctx, Op.i32_wrap_i64);
  l.wirelen();
  c.mem(Op.i32_store, SKB.len);
  c.op(Op.global_get, 1, Op.global_set, 0);
  c.op(Op.global_get, g.ctx).i64(0n).i64(0n).i64(0n).i64(0n).op(Op.global_get, g.fp).call(main).op(Op.i32_wrap_i64);
}

export function packetEntries(main: number, g: { ctx: number; fp: number }, sizes: ReadonlySet<number>): { setSkb: Code; packet: Code; records: Code; recordsLocals: [number, T][] } {
  const setSkb = new Code().get(0).op(Op.global_set, g.ctx).get(1).op(Op.global_set, g.fp);
  const packet = new Code();
  runOnPacket(packet, main, g, sizes, { start: 0, caplen: 1, wirelen: () => void packet.get(2) });
  // run_skb_records(pos, end, snap, out, max): records from pos while a whole one (captured length
  // at most snap) lies before end; for each the program keeps, [record address, verdict] go to out + 8
  // (at most max of them). At out: where it stopped and how many records it read. Returns how many
  // it kept.
  const POS = 0, END = 1, SNAP = 2, OUT = 3, MAX = 4, CAPLEN = 5, NEXT = 6, KEPT = 7, READ = 8, V = 9, START = 10;
  const r = new Code();
  r.block(Op.block).block(Op.loop);
  // a whole record ahead?
  r.get(POS).i32(RECORD.header).op(Op.i32_add).get(END).op(Op.i32_gt_u).br(Op.br_if, 1);
  r.get(POS).mem(Op.i32_load, RECORD.caplen).tee(CAPLEN).get(SNAP).op(Op.i32_gt_u).br(Op.br_if, 1);
  r.get(POS).i32(RECORD.header).op(Op.i32_add).tee(START).get(CAPLEN).op(Op.i32_add).tee(NEXT).get(END).op(Op.i32_gt_u).br(Op.br_if, 1);
  runOnPacket(r, main, g, sizes, { start: START, caplen: CAPLEN, wirelen: () => void r.get(POS).mem(Op.i32_load, RECORD.wirelen) });
  r.tee(V).op(Op.if, T.void);
  r.get(OUT).get(KEPT).i32(3).op(Op.i32_shl, Op.i32_add).get(POS).mem(Op.i32_store, 8);
  r.get(OUT).get(KEPT).i32(3).op(Op.i32_shl, Op.i32_add).get(V).mem(Op.i32_store, 12);
  r.get(KEPT).i32(1).op(Op.i32_add).set(KEPT);
  r.op(Op.end);
  r.get(NEXT).set(POS).get(READ).i32(1).op(Op.i32_add).set(READ);
  r.get(KEPT).get(MAX).op(Op.i32_lt_u).br(Op.br_if, 0);
  r.op(Op.end, Op.end);
  r.get(OUT).get(POS).mem(Op.i32_store, 0).get(OUT).get(READ).mem(Op.i32_store, 4).get(KEPT);
  return { setSkb, packet, records: r, recordsLocals: [[6, T.i32]] };
}

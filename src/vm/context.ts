// Building the context a program receives, per program type, in VM memory: xdp_md over an XDP buffer
// (as BPF_PROG_TEST_RUN lays it out: 256 bytes of headroom, room to grow up to a 4 KiB frame), and
// __sk_buff over an skb (socket filters see the packet from the network header, tc from the MAC header).
import type { Region } from './memory.js';
import { setPacketBounds, XDP_FRAME_SIZE } from './helpers.js';
import type { Runtime } from './runtime.js';

export const XDP_PACKET_HEADROOM = 256;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: tailroom an XDP frame keeps free. */
export const XDP_TAILROOM = 320;
export const XDP_FRAME_SZ = 4096;
export const XDP_MAX_PACKET = XDP_FRAME_SZ - XDP_PACKET_HEADROOM - XDP_TAILROOM;
export const XDP_MD_SIZE = 24;
export const SK_BUFF_SIZE = 192;
const ETH_HLEN = 14;

/** Offsets in struct __sk_buff. */
export const SKB = {
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24, vlan_proto: 28,
  priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68, tc_classid: 72, data: 76,
  data_end: 80, napi_id: 84, family: 88, remote_ip4: 92, local_ip4: 96, remote_ip6: 100, local_ip6: 116,
  remote_port: 132, local_port: 136, data_meta: 140, flow_keys: 144, tstamp: 152, wire_len: 160, gso_segs: 164,
  sk: 168, gso_size: 176, tstamp_type: 180, hwtstamp: 184,
} as const;

/** Offsets in struct xdp_md. */
export const XDP_MD = { data: 0, data_end: 4, data_meta: 8, ingress_ifindex: 12, rx_queue_index: 16, egress_ifindex: 20 } as const;

export class ContextError extends Error {}

/** Memory a run owns; released by `dispose`. */
export interface RunFrame {
  ctx: number;
  regions: Region[];
  blocks: number[];
  /** The packet after the run (XDP/skb), read before disposal. */
  output(): Uint8Array | undefined;
  dispose(): void;
}

/** Buffers reused across runs of one VM (allocating per run dominated short programs). */
interface Scratch {
  addr: number;
  size: number;
  /** Bytes the last run may have written ([lo, hi)), all that needs zeroing before the next. */
  dirtyLo: number;
  dirtyHi: number;
}
const scratch = new WeakMap<Runtime, Map<string, Scratch>>();

function reuseBlock(rt: Runtime, key: string, size: number): Scratch {
  let m = scratch.get(rt);
  if (!m) scratch.set(rt, (m = new Map()));
  const have = m.get(key);
  if (have && have.size >= size) {
    if (have.dirtyHi > have.dirtyLo) rt.mem.bytes.fill(0, have.dirtyLo, have.dirtyHi);
    have.dirtyLo = have.dirtyHi = have.addr;
    return have;
  }
  if (have) rt.mem.release(have.addr);
  const addr = rt.mem.alloc(size);
  const s = { addr, size, dirtyLo: addr, dirtyHi: addr };
  m.set(key, s);
  return s;
}

/** A zeroed block of `size` bytes, reused across runs. */
function reuse(rt: Runtime, key: string, size: number): number {
  const s = reuseBlock(rt, key, size);
  s.dirtyLo = s.addr;
  s.dirtyHi = s.addr + size;
  return s.addr;
}

/** After a run: the packet buffer is dirty wherever the packet (or its metadata) ever reached. */
function markPacketDirty(rt: Runtime, s: Scratch): void {
  const p = rt.packet;
  if (!p) {
    s.dirtyLo = s.addr;
    s.dirtyHi = s.addr + s.size;
    return;
  }
  s.dirtyLo = Math.max(s.addr, Math.min(p.touchedLo, p.data, p.dataMeta));
  s.dirtyHi = Math.min(s.addr + s.size, Math.max(p.touchedHi, p.dataEnd));
}

function frame(rt: Runtime, regions: Region[], blocks: number[], ctx: number, out: () => Uint8Array | undefined, buf?: Scratch): RunFrame {
  // The run's context and packet: what accesses through context and packet pointers are checked against.
  rt.mem.ctxRegion = regions.find((r) => r.kind === 'ctx');
  rt.mem.packetRegion = regions.find((r) => r.kind === 'packet');
  rt.mem.publish();
  return {
    ctx,
    regions,
    blocks,
    output: out,
    dispose() {
      if (buf) markPacketDirty(rt, buf);
      for (const r of regions) rt.mem.removeRegion(r);
      for (const b of blocks) rt.mem.release(b);
      rt.packet = undefined;
      // The control block keeps the old bounds until the next run's frame publishes its own: nothing
      // runs in between.
      rt.mem.ctxRegion = rt.mem.packetRegion = undefined;
    },
  };
}

export interface XdpOptions {
  ingressIfindex?: number;
  rxQueueIndex?: number;
}

export function setupXdp(rt: Runtime, packet: Uint8Array, o: XdpOptions = {}): RunFrame {
  if (packet.length < ETH_HLEN) throw new ContextError(`XDP packet of ${packet.length} bytes is shorter than an Ethernet header`);
  if (packet.length > XDP_MAX_PACKET) throw new ContextError(`XDP packet of ${packet.length} bytes exceeds ${XDP_MAX_PACKET} (one 4 KiB frame)`);
  const mem = rt.mem;
  // Only what the previous run dirtied is zeroed, not the whole 4 KiB frame.
  const block = reuseBlock(rt, 'xdp', XDP_FRAME_SZ);
  const buf = block.addr;
  const data = buf + XDP_PACKET_HEADROOM;
  mem.write(data, packet);
  const ctx = reuse(rt, 'xdp_md', XDP_MD_SIZE);
  const ctxRegion = mem.addRegion({ start: ctx, end: ctx + XDP_MD_SIZE, kind: 'ctx', writable: false, label: 'xdp_md context' });
  const pkt = mem.addRegion({ start: data, end: data + packet.length, kind: 'packet', writable: true, label: 'XDP packet' });
  const v = mem.view;
  v.setUint32(ctx + XDP_MD.ingress_ifindex, o.ingressIfindex ?? 1, true);
  v.setUint32(ctx + XDP_MD.rx_queue_index, o.rxQueueIndex ?? 0, true);
  rt.packet = { kind: 'xdp', hardStart: buf, hardEnd: buf + XDP_FRAME_SZ - XDP_TAILROOM, data, dataEnd: data + packet.length, dataMeta: data, ctx, region: pkt, touchedLo: data, touchedHi: data + packet.length };
  setPacketBounds(rt, data, data + packet.length, data);
  void XDP_FRAME_SIZE;
  return frame(rt, [ctxRegion, pkt], [], ctx, () => {
    const p = rt.packet!;
    return mem.readPooled(p.data, p.dataEnd - p.data);
  }, block);
}

export interface SkbOptions {
  /** tc (SCHED_CLS/ACT) sees the MAC header; socket filters and cgroup skb see from the network header. */
  l2?: boolean;
  mark?: number;
  priority?: number;
  ifindex?: number;
  ingressIfindex?: number;
}

export function setupSkb(rt: Runtime, packet: Uint8Array, o: SkbOptions = {}): RunFrame {
  if (packet.length < ETH_HLEN) throw new ContextError(`packet of ${packet.length} bytes is shorter than an Ethernet header`);
  const mem = rt.mem;
  const headroom = 64;
  const block = reuseBlock(rt, 'skb', headroom + packet.length + 64);
  const buf = block.addr;
  const frameStart = buf + headroom;
  mem.write(frameStart, packet);
  const data = o.l2 ? frameStart : frameStart + ETH_HLEN;
  const end = frameStart + packet.length;
  const ctx = reuse(rt, 'sk_buff', SK_BUFF_SIZE);
  const ctxRegion = mem.addRegion({ start: ctx, end: ctx + SK_BUFF_SIZE, kind: 'ctx', writable: true, label: '__sk_buff context' });
  const pkt = mem.addRegion({ start: data, end, kind: 'packet', writable: true, label: 'skb packet' });
  const v = mem.view;
  const dst = packet.subarray(0, 6);
  const pktType = dst.every((b) => b === 0xff) ? 1 : dst[0]! & 1 ? 2 : dst.every((b) => b === 0) ? 0 : 3;
  v.setUint32(ctx + SKB.pkt_type, pktType, true);
  v.setUint32(ctx + SKB.mark, o.mark ?? 0, true);
  v.setUint32(ctx + SKB.priority, o.priority ?? 0, true);
  v.setUint32(ctx + SKB.protocol, packet[12]! | (packet[13]! << 8), true);
  v.setUint32(ctx + SKB.ifindex, o.ifindex ?? 1, true);
  v.setUint32(ctx + SKB.ingress_ifindex, o.ingressIfindex ?? 0, true);
  v.setUint32(ctx + SKB.wire_len, packet.length, true);
  v.setUint32(ctx + SKB.gso_segs, 1, true);
  rt.packet = { kind: 'skb', hardStart: buf, hardEnd: buf + headroom + packet.length + 64, data, dataEnd: end, dataMeta: data, ctx, region: pkt, touchedLo: frameStart, touchedHi: end };
  setPacketBounds(rt, data, end, data);
  return frame(rt, [ctxRegion, pkt], [], ctx, () => {
    const p = rt.packet!;
    // Like BPF_PROG_TEST_RUN, the output starts at the MAC header, which it zeroes for programs that
    // never saw it.
    if (o.l2) return mem.readPooled(p.data, p.dataEnd - p.data);
    const out = new Uint8Array(p.dataEnd - p.data + ETH_HLEN);
    out.set(mem.bytes.subarray(p.data, p.dataEnd), ETH_HLEN);
    return out;
  }, block);
}

/** A context the host defines: a byte blob copied into VM memory (the plugin hook and `--mem`). */
export function setupMemory(rt: Runtime, bytes: Uint8Array, writable = true, label = 'context'): RunFrame {
  const mem = rt.mem;
  const ctx = mem.alloc(Math.max(bytes.length, 1));
  mem.write(ctx, bytes);
  const r = mem.addRegion({ start: ctx, end: ctx + bytes.length, kind: 'ctx', writable, label });
  return frame(rt, [r], [ctx], ctx, () => mem.read(ctx, bytes.length));
}

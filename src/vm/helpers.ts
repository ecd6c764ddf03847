// The helpers the VM provides: one table holding each helper's prototype (what the verifier checks)
// and its implementation (what both engines call). Pointers are checked against VM memory regions.
import { BpfFlag, BpfFunc, ProgramType, type HelperName } from '../uapi/bpf.js';
import type { VmMap } from './maps/map.js';
import { EAGAIN, EFAULT, EINVAL, ENOENT, EOPNOTSUPP } from './maps/map.js';
import { RingBufMap } from './maps/ringbuf.js';
import { VmError, type HelperFn, type Runtime } from './runtime.js';

/** Argument kinds, after the kernel's enum bpf_arg_type. */
export type ArgKind =
  | 'anything'
  | 'const_map_ptr'
  | 'ptr_to_map_key'
  | 'ptr_to_map_value'
  | 'ptr_to_mem' // readable memory of the size in the next argument
  | 'ptr_to_uninit_mem' // writable memory of the size in the next argument
  | 'const_size'
  | 'const_size_or_zero'
  | 'ptr_to_ctx'
  | 'ptr_to_ringbuf_mem'
  | 'const_alloc_size_or_zero'
  | 'ptr_to_spin_lock';
export type RetKind = 'integer' | 'void' | 'map_value_or_null' | 'ringbuf_mem_or_null';

export interface HelperProto {
  id: number;
  /** the kernel's name without bpf_ (its id is BpfFunc[name], from the generated registry) */
  name: HelperName;
  args: ArgKind[];
  ret: RetKind;
  /** Program types that may call it; all if absent. */
  types?: ProgramType[];
  /** Releases the reference (ring-buffer record) passed in r1. */
  release?: boolean;
  fn: HelperFn;
}

const u32 = (v: bigint): number => Number(v & 0xffffffffn);
const s32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const neg = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));

function readArg(rt: Runtime, addr: bigint, len: number, pc: number): Uint8Array {
  if (len === 0) return new Uint8Array(0);
  return rt.mem.read(rt.mem.check(addr, len, false, pc), len);
}

/** A helper on the map in r1 and the key r2 points to (the map's key size of bytes), r3 and r4 passed on. */
function keyed(f: (m: VmMap, key: Uint8Array, rt: Runtime, pc: number, r3: bigint, r4: bigint) => bigint): HelperFn {
  return (rt, map, key, r3, r4, _5, pc) => {
    const m = rt.map(map, pc);
    return f(m, readArg(rt, key, m.spec.keySize, pc), rt, pc, r3, r4);
  };
}

const XDP = [ProgramType.XDP];
const SKB = [ProgramType.SOCKET_FILTER, ProgramType.SCHED_CLS, ProgramType.SCHED_ACT, ProgramType.CGROUP_SKB, ProgramType.LWT_IN, ProgramType.LWT_OUT, ProgramType.LWT_XMIT, ProgramType.SK_SKB];
const TC = [ProgramType.SCHED_CLS, ProgramType.SCHED_ACT];

/** Formats a bpf_trace_printk format with up to three arguments, as the kernel's bstr_printf does. */
export function formatPrintk(rt: Runtime, fmt: string, args: bigint[], pc: number): string {
  let out = '';
  let ai = 0;
  for (let k = 0; k < fmt.length; k++) {
    const c = fmt[k]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    let spec = '';
    let j = k + 1;
    while (j < fmt.length && /[-0-9.lhz +#]/.test(fmt[j]!)) spec += fmt[j++];
    const conv = fmt[j];
    k = j;
    if (conv === '%') {
      out += '%';
      continue;
    }
    if (conv === undefined) break;
    const a = args[ai++] ?? 0n;
    const longs = (spec.match(/l/g) ?? []).length;
    const width = Number(/(\d+)/.exec(spec.replace(/^[-0 +#]+/, ''))?.[1] ?? 0);
    const zero = /^[-+ #]*0/.test(spec);
    const left = spec.includes('-');
    const bits = longs > 0 ? 64 : 32;
    let s: string;
    switch (conv) {
      case 'd':
      case 'i': s = BigInt.asIntN(bits, a).toString(); break;
      case 'u': s = BigInt.asUintN(bits, a).toString(); break;
      case 'x': s = BigInt.asUintN(bits, a).toString(16); break;
      case 'X': s = BigInt.asUintN(bits, a).toString(16).toUpperCase(); break;
      case 'o': s = BigInt.asUintN(bits, a).toString(8); break;
      case 'c': s = String.fromCharCode(Number(a & 0xffn)); break;
      case 'p': s = '0x' + BigInt.asUintN(64, a).toString(16); break;
      case 's': {
        const bytes: number[] = [];
        for (let p = a; bytes.length < 256; p++) {
          const b = rt.mem.view.getUint8(rt.mem.check(p, 1, false, pc));
          if (b === 0) break;
          bytes.push(b);
        }
        s = String.fromCharCode(...bytes);
        break;
      }
      default:
        throw new VmError(pc, `pc ${pc}: bpf_trace_printk: unsupported conversion %${spec}${conv}`);
    }
    if (s.length < width) s = left ? s.padEnd(width) : zero && conv !== 's' && conv !== 'c' ? s.padStart(width, '0') : s.padStart(width);
    out += s;
  }
  return out;
}

function packet(rt: Runtime, pc: number, kind: 'xdp' | 'skb') {
  const p = rt.packet;
  if (!p || p.kind !== kind) throw new VmError(pc, `pc ${pc}: packet helper called without a ${kind} packet`);
  return p;
}

/** The offset (a signed 32-bit number) if n bytes there lie within the packet's data, else -1. */
function skbOffset(p: ReturnType<typeof packet>, offset: bigint, n: number): number {
  const off = s32(offset);
  return off < 0 || off + n > p.dataEnd - p.data ? -1 : off;
}

/** bpf_xdp_adjust_head/meta/tail(ctx, delta): the XDP frame and the delta as a signed 32-bit number. */
function xdpAdjust(f: (rt: Runtime, p: ReturnType<typeof packet>, delta: number) => bigint): HelperFn {
  return (rt, _ctx, delta, _3, _4, _5, pc) => f(rt, packet(rt, pc, 'xdp'), s32(delta));
}

const XDP_ADJUST = { args: ['ptr_to_ctx', 'anything'] as ArgKind[], ret: 'integer' as RetKind, types: XDP };

/** Move the packet's bounds and keep the context fields and the packet region in step. */
export function setPacketBounds(rt: Runtime, data: number, dataEnd: number, dataMeta: number): void {
  const p = rt.packet!;
  p.data = data;
  p.dataEnd = dataEnd;
  p.dataMeta = dataMeta;
  if (dataMeta < p.touchedLo) p.touchedLo = dataMeta;
  if (data < p.touchedLo) p.touchedLo = data;
  if (dataEnd > p.touchedHi) p.touchedHi = dataEnd;
  const v = rt.mem.view;
  if (p.kind === 'xdp') {
    v.setUint32(p.ctx + 0, data, true);
    v.setUint32(p.ctx + 4, dataEnd, true);
    v.setUint32(p.ctx + 8, dataMeta, true);
  } else {
    v.setUint32(p.ctx + 0, dataEnd - data, true); // len
    v.setUint32(p.ctx + 76, data, true);
    v.setUint32(p.ctx + 80, dataEnd, true);
    v.setUint32(p.ctx + 140, dataMeta, true);
  }
  if (p.region.start !== dataMeta) {
    // Re-insert to keep the region list ordered by start.
    rt.mem.removeRegion(p.region);
    p.region.start = dataMeta;
    p.region.end = dataEnd;
    rt.mem.addRegion(p.region);
  } else p.region.end = dataEnd;
  if (rt.mem.packetRegion === p.region) rt.mem.publish();
}

const ETH_HLEN = 14;
/** sizeof(struct xdp_frame): kept free at the head of an XDP buffer. */
export const XDP_FRAME_SIZE = 40;

/** Ones'-complement 32-bit sum of little-endian words (the value the kernel's csum_partial gives on x86). */
function csumPartial(bytes: Uint8Array, seed: number): number {
  let sum = BigInt(seed >>> 0);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i += 4) sum += BigInt(v.getUint32(i, true));
  while (sum > 0xffffffffn) sum = (sum & 0xffffffffn) + (sum >> 32n);
  return Number(sum);
}

const fold16 = (sum: number): number => {
  let s = sum >>> 0;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s;
};

/** Replace `from` by `to` in the 16-bit checksum stored at `at` (RFC 1624 incremental update). */
function csumReplace(rt: Runtime, at: number, fromLe: number, toLe: number, size: number): void {
  const v = rt.mem.view;
  // from/to are the values as the program loaded them (little-endian) from network-order bytes.
  const swap = (x: number): number => (size === 4 ? ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24) : ((x & 0xff) << 8) | ((x >>> 8) & 0xff)) >>> 0;
  const from = swap(fromLe);
  const to = swap(toLe);
  const old = v.getUint16(at, false);
  let sum = ~old & 0xffff;
  if (size === 4) {
    sum += (~from >>> 16) & 0xffff;
    sum += ~from & 0xffff;
    sum += to >>> 16;
    sum += to & 0xffff;
  } else {
    sum += ~from & 0xffff;
    sum += to & 0xffff;
  }
  v.setUint16(at, ~fold16(sum) & 0xffff, false);
}

const CSUM_REPLACE = { args: ['ptr_to_ctx', 'anything', 'anything', 'anything', 'anything'] as ArgKind[], ret: 'integer' as RetKind, types: TC };

/**
 * bpf_l3_csum_replace / bpf_l4_csum_replace(skb, offset, from, to, flags): the same update of the
 * checksum at `offset`; they differ only in their errnos and l4's BPF_F_MARK_MANGLED_0 rule.
 */
function csumReplaceHelper(l4: boolean): HelperFn {
  return (rt, _skb, offset, from, to, flags, pc) => {
    const p = packet(rt, pc, 'skb');
    const size = Number(flags & 0xfn);
    const off = u32(offset);
    const outside = off + 2 > p.dataEnd - p.data;
    const badSize = size !== 2 && size !== 4;
    if (!l4) {
      if (outside || badSize) return neg(size ? EFAULT : EINVAL);
    } else {
      if (outside) return neg(EFAULT);
      if (badSize) return neg(size ? EINVAL : EOPNOTSUPP);
      // a zero UDP checksum means "none" and stays so
      if (flags & BigInt(BpfFlag.MARK_MANGLED_0) && rt.mem.view.getUint16(p.data + off, false) === 0) return 0n;
    }
    csumReplace(rt, p.data + off, u32(from), u32(to), size);
    return 0n;
  };
}

/** Copy from VM memory if the source is readable there, else zero-fill and fail (as a faulting probe read does). */
function probeRead(rt: Runtime, dst: bigint, size: bigint, src: bigint, pc: number, str: boolean): bigint {
  const n = Number(size & 0xffffffffn);
  if (n === 0) return 0n;
  const d = rt.mem.check(dst, n, true, pc);
  const fail = (): bigint => {
    rt.mem.bytes.fill(0, d, d + n);
    return neg(EFAULT);
  };
  if (!str) {
    const r = rt.mem.find(src, n);
    if (typeof r === 'string') return fail();
    rt.mem.bytes.copyWithin(d, Number(src), Number(src) + n);
    return 0n;
  }
  let k = 0;
  for (; k < n - 1; k++) {
    const r = rt.mem.find(src + BigInt(k), 1);
    if (typeof r === 'string') return k === 0 ? fail() : neg(EFAULT);
    const b = rt.mem.bytes[Number(src) + k]!;
    rt.mem.bytes[d + k] = b;
    if (b === 0) return BigInt(k + 1);
  }
  rt.mem.bytes[d + k] = 0;
  return BigInt(k + 1);
}

const probeArgs: ArgKind[] = ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'];

const list: Omit<HelperProto, 'id'>[] = [
  ...(['probe_read', 'probe_read_kernel', 'probe_read_user'] as const).map((name) => ({
    name,
    args: probeArgs,
    ret: 'integer' as const,
    fn: ((rt, d, n, s, _4, _5, pc) => probeRead(rt, d, n, s, pc, false)) as HelperFn,
  })),
  ...(['probe_read_str', 'probe_read_kernel_str', 'probe_read_user_str'] as const).map((name) => ({
    name,
    args: probeArgs,
    ret: 'integer' as const,
    fn: ((rt, d, n, s, _4, _5, pc) => probeRead(rt, d, n, s, pc, true)) as HelperFn,
  })),
  {
    name: 'get_current_comm',
    args: ['ptr_to_uninit_mem', 'const_size'],
    ret: 'integer',
    fn: (rt, buf, size, _3, _4, _5, pc) => {
      const n = Number(size & 0xffffffffn);
      const d = rt.mem.check(buf, n, true, pc);
      const comm = new TextEncoder().encode(rt.task.comm).subarray(0, Math.max(0, n - 1));
      rt.mem.bytes.fill(0, d, d + n);
      rt.mem.bytes.set(comm, d);
      return 0n;
    },
  },
  { name: 'get_current_uid_gid', args: [], ret: 'integer', fn: (rt) => (BigInt(rt.task.gid) << 32n) | BigInt(rt.task.uid) },
  { name: 'get_current_cgroup_id', args: [], ret: 'integer', fn: (rt) => rt.task.cgroupId },
  { name: 'get_current_ancestor_cgroup_id', args: ['anything'], ret: 'integer', fn: (rt) => rt.task.cgroupId },
  { name: 'get_current_task', args: [], ret: 'integer', fn: () => 0n },
  // The socket's cgroup: the VM reports the current task's (the host sets it per event).
  { name: 'skb_cgroup_id', args: ['ptr_to_ctx'], ret: 'integer', types: TC, fn: (rt) => rt.task.cgroupId },
  { name: 'skb_ancestor_cgroup_id', args: ['ptr_to_ctx', 'anything'], ret: 'integer', types: TC, fn: (rt) => rt.task.cgroupId },
  // One thread runs a VM at a time: the lock only has to be a valid lock word in a map value.
  { name: 'spin_lock', args: ['ptr_to_spin_lock'], ret: 'void', fn: (rt, lock, _2, _3, _4, _5, pc) => (rt.mem.check(lock, 4, true, pc), 0n) },
  { name: 'spin_unlock', args: ['ptr_to_spin_lock'], ret: 'void', fn: (rt, lock, _2, _3, _4, _5, pc) => (rt.mem.check(lock, 4, true, pc), 0n) },
  // There are no kernel stacks in the VM: the call fails as it does when no stack can be taken.
  { name: 'get_stackid', args: ['ptr_to_ctx', 'const_map_ptr', 'anything'], ret: 'integer', fn: () => neg(EFAULT) },
  { name: 'map_lookup_elem', args: ['const_map_ptr', 'ptr_to_map_key'], ret: 'map_value_or_null', fn: keyed((m, key) => BigInt(m.lookupAddr(key))) },
  {
    name: 'map_update_elem',
    args: ['const_map_ptr', 'ptr_to_map_key', 'ptr_to_map_value', 'anything'],
    ret: 'integer',
    fn: keyed((m, key, rt, pc, value, flags) => BigInt(m.updateBytes(key, readArg(rt, value, m.spec.valueSize, pc), Number(flags > 0xffn ? 0xffn : flags)))),
  },
  { name: 'map_delete_elem', args: ['const_map_ptr', 'ptr_to_map_key'], ret: 'integer', fn: keyed((m, key) => BigInt(m.deleteBytes(key))) },
  // One CPU in the VM: any other CPU's copy is not there.
  {
    name: 'map_lookup_percpu_elem',
    args: ['const_map_ptr', 'ptr_to_map_key', 'anything'],
    ret: 'map_value_or_null',
    fn: keyed((m, key, _rt, _pc, cpu) => (cpu !== 0n ? 0n : BigInt(m.lookupAddr(key)))),
  },
  { name: 'ktime_get_ns', args: [], ret: 'integer', fn: (rt) => rt.clock() },
  { name: 'ktime_get_boot_ns', args: [], ret: 'integer', fn: (rt) => rt.clock() },
  { name: 'ktime_get_coarse_ns', args: [], ret: 'integer', fn: (rt) => rt.clock() },
  { name: 'jiffies64', args: [], ret: 'integer', fn: (rt) => rt.clock() / 4_000_000n },
  { name: 'get_prandom_u32', args: [], ret: 'integer', fn: (rt) => BigInt(rt.random() >>> 0) },
  { name: 'get_smp_processor_id', args: [], ret: 'integer', fn: () => 0n },
  { name: 'get_current_pid_tgid', args: [], ret: 'integer', fn: (rt) => (BigInt(rt.task.tgid) << 32n) | BigInt(rt.task.pid) },
  {
    name: 'trace_printk',
    args: ['ptr_to_mem', 'const_size', 'anything', 'anything', 'anything'],
    ret: 'integer',
    fn: (rt, fmt, size, a, b, c, pc) => {
      const n = Number(size > 1024n ? 1024n : size);
      const bytes = readArg(rt, fmt, n, pc);
      const nul = bytes.indexOf(0);
      if (nul < 0) return neg(EINVAL);
      const line = formatPrintk(rt, String.fromCharCode(...bytes.subarray(0, nul)), [a, b, c], pc);
      rt.printk(line);
      return BigInt(line.length);
    },
  },
  {
    // Handled by the engines (it does not return on success); the prototype is for the verifier.
    name: 'tail_call',
    args: ['ptr_to_ctx', 'const_map_ptr', 'anything'],
    ret: 'void',
    fn: (_rt, _1, _2, _3, _4, _5, pc) => {
      throw new VmError(pc, `pc ${pc}: tail_call reached the helper table`);
    },
  },
  {
    name: 'ringbuf_output',
    args: ['const_map_ptr', 'ptr_to_mem', 'const_size_or_zero', 'anything'],
    ret: 'integer',
    fn: (rt, map, data, size, _4, _5, pc) => {
      const m = rt.map(map, pc);
      if (!(m instanceof RingBufMap)) return neg(EINVAL);
      const bytes = readArg(rt, data, Number(size & 0xffffffffn), pc);
      const a = m.reserve(bytes.length);
      if (!a) return neg(EAGAIN);
      rt.mem.write(a, bytes);
      m.commit(a, false);
      return 0n;
    },
  },
  {
    name: 'ringbuf_reserve',
    args: ['const_map_ptr', 'const_alloc_size_or_zero', 'anything'],
    ret: 'ringbuf_mem_or_null',
    fn: (rt, map, size, flags, _4, _5, pc) => {
      const m = rt.map(map, pc);
      if (!(m instanceof RingBufMap) || flags !== 0n || size > 0xffffffffn) return 0n;
      const a = m.reserve(Number(size));
      if (a) rt.reserved.set(a, m);
      return BigInt(a);
    },
  },
  {
    name: 'ringbuf_submit',
    args: ['ptr_to_ringbuf_mem', 'anything'],
    ret: 'void',
    release: true,
    fn: (rt, rec, _f, _3, _4, _5, pc) => commitRecord(rt, rec, false, pc),
  },
  {
    name: 'ringbuf_discard',
    args: ['ptr_to_ringbuf_mem', 'anything'],
    ret: 'void',
    release: true,
    fn: (rt, rec, _f, _3, _4, _5, pc) => commitRecord(rt, rec, true, pc),
  },
  {
    name: 'ringbuf_query',
    args: ['const_map_ptr', 'anything'],
    ret: 'integer',
    fn: (rt, map, flag, _3, _4, _5, pc) => {
      const m = rt.map(map, pc);
      return m instanceof RingBufMap ? m.query(Number(flag)) : 0n;
    },
  },
  // The three XDP adjustments move one bound of the frame by a signed delta, within the headroom
  // (less the struct xdp_frame the kernel keeps there), an Ethernet header and the buffer's end.
  {
    name: 'xdp_adjust_head',
    ...XDP_ADJUST,
    fn: xdpAdjust((rt, p, off) => {
      const metalen = p.data - p.dataMeta;
      const data = p.data + off;
      if (data < p.hardStart + XDP_FRAME_SIZE + metalen || data > p.dataEnd - ETH_HLEN) return neg(EINVAL);
      if (metalen) rt.mem.bytes.copyWithin(p.dataMeta + off, p.dataMeta, p.data);
      setPacketBounds(rt, data, p.dataEnd, p.dataMeta + off);
      return 0n;
    }),
  },
  {
    name: 'xdp_adjust_meta',
    ...XDP_ADJUST,
    fn: xdpAdjust((rt, p, off) => {
      const meta = p.dataMeta + off;
      const metalen = p.data - meta;
      if ((metalen & 3) !== 0 || metalen > 32 || meta < p.hardStart + XDP_FRAME_SIZE || meta > p.data) return neg(EINVAL);
      setPacketBounds(rt, p.data, p.dataEnd, meta);
      return 0n;
    }),
  },
  {
    name: 'xdp_adjust_tail',
    ...XDP_ADJUST,
    fn: xdpAdjust((rt, p, off) => {
      const end = p.dataEnd + off;
      if (end > p.hardEnd || end < p.data + ETH_HLEN) return neg(EINVAL);
      if (off > 0) rt.mem.bytes.fill(0, p.dataEnd, end);
      setPacketBounds(rt, p.data, end, p.dataMeta);
      return 0n;
    }),
  },
  {
    // Recorded nowhere (the VM has no devices): the verdict is what the kernel's helper returns,
    // bpf_xdp_redirect's for XDP, bpf_redirect's for tc.
    name: 'redirect',
    args: ['anything', 'anything'],
    ret: 'integer',
    types: [...XDP, ...TC],
    fn: (rt, _ifindex, flags) => (rt.packet?.kind === 'xdp' ? (flags ? 0n /* XDP_ABORTED */ : 4n /* XDP_REDIRECT */) : flags & ~BigInt(BpfFlag.INGRESS) ? 2n /* TC_ACT_SHOT */ : 7n /* TC_ACT_REDIRECT */),
  },
  {
    name: 'skb_load_bytes',
    args: ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size'],
    ret: 'integer',
    types: SKB,
    fn: (rt, _skb, offset, to, len, _5, pc) => {
      const p = packet(rt, pc, 'skb');
      const n = u32(len);
      const dst = rt.mem.check(to, n, true, pc);
      const off = skbOffset(p, offset, n);
      if (off < 0) {
        rt.mem.bytes.fill(0, dst, dst + n);
        return neg(EFAULT);
      }
      rt.mem.bytes.copyWithin(dst, p.data + off, p.data + off + n);
      return 0n;
    },
  },
  {
    name: 'skb_store_bytes',
    args: ['ptr_to_ctx', 'anything', 'ptr_to_mem', 'const_size', 'anything'],
    ret: 'integer',
    types: TC,
    fn: (rt, _skb, offset, from, len, _flags, pc) => {
      const p = packet(rt, pc, 'skb');
      const n = u32(len);
      const bytes = readArg(rt, from, n, pc);
      const off = skbOffset(p, offset, n);
      if (off < 0) return neg(EFAULT);
      rt.mem.write(p.data + off, bytes);
      return 0n;
    },
  },
  {
    name: 'csum_diff',
    args: ['ptr_to_mem', 'const_size_or_zero', 'ptr_to_mem', 'const_size_or_zero', 'anything'],
    ret: 'integer',
    fn: (rt, from, fromSize, to, toSize, seed, pc) => {
      const fs = u32(fromSize);
      const ts = u32(toSize);
      if (fs % 4 || ts % 4 || fs > 512 || ts > 512) return neg(EINVAL);
      const a = readArg(rt, from, fs, pc);
      const b = readArg(rt, to, ts, pc);
      // diff = ~from words followed by to words, summed from the seed.
      const diff = new Uint8Array(fs + ts);
      for (let i = 0; i < fs; i++) diff[i] = ~a[i]! & 0xff;
      diff.set(b, fs);
      return BigInt(csumPartial(diff, u32(seed)));
    },
  },
  { name: 'l3_csum_replace', ...CSUM_REPLACE, fn: csumReplaceHelper(false) },
  { name: 'l4_csum_replace', ...CSUM_REPLACE, fn: csumReplaceHelper(true) },
];

function commitRecord(rt: Runtime, rec: bigint, discard: boolean, pc: number): bigint {
  const m = rt.reserved.get(Number(rec));
  if (!m || rec > 0xffffffffn || !m.commit(Number(rec), discard)) throw new VmError(pc, `pc ${pc}: 0x${rec.toString(16)} is not a reserved ring-buffer record`);
  rt.reserved.delete(Number(rec));
  return 0n;
}

/**
 * Helpers that may move or reallocate the packet: the kernel's bpf_helper_changes_pkt_data
 * (net/core/filter.c). After a call to one, every packet pointer the program holds is invalid.
 */
export const CHANGES_PKT_DATA: ReadonlySet<HelperName> = new Set<HelperName>([
  'clone_redirect', 'l3_csum_replace', 'l4_csum_replace', 'lwt_push_encap', 'lwt_seg6_action', 'lwt_seg6_adjust_srh',
  'lwt_seg6_store_bytes', 'msg_pop_data', 'msg_pull_data', 'msg_push_data', 'skb_adjust_room', 'skb_change_head',
  'skb_change_proto', 'skb_change_tail', 'skb_pull_data', 'skb_store_bytes', 'skb_vlan_pop', 'skb_vlan_push',
  'store_hdr_opt', 'xdp_adjust_head', 'xdp_adjust_meta', 'xdp_adjust_tail',
]);

export const HELPER_PROTOS: ReadonlyMap<number, HelperProto> = new Map(list.map((h) => [BpfFunc[h.name], { ...h, id: BpfFunc[h.name] }]));
export const HELPER_FNS: ReadonlyMap<number, HelperFn> = new Map([...HELPER_PROTOS].map(([id, h]) => [id, h.fn]));
void ENOENT;

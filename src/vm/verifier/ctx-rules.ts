// Which bytes of the context each program type may read or write, and what a load of them yields
// (the packet pointers of xdp_md and __sk_buff), after the kernel's *_is_valid_access functions.
import { ProgramType } from '../../uapi/bpf.js';
import { SKB, SK_BUFF_SIZE, XDP_MD, XDP_MD_SIZE } from '../context.js';

export type CtxLoad = 'scalar' | 'pkt' | 'pkt_end' | 'pkt_meta' | 'btf_ptr';
export type CtxVerdict = { ok: true; load: CtxLoad } | { ok: false; reason: string };

const PT_REGS_SIZE = 21 * 8;
const PERF_MAX_TRACE_SIZE = 8192;

const ok = (load: CtxLoad = 'scalar'): CtxVerdict => ({ ok: true, load });
const no = (reason: string): CtxVerdict => ({ ok: false, reason });

/** Is [off, off+size) inside one 4-byte (or `fieldSize`) field, naturally aligned? */
function narrowOk(off: number, size: number, fieldStart: number, fieldSize: number): boolean {
  return off >= fieldStart && off + size <= fieldStart + fieldSize && off % size === 0;
}

function skbField(off: number): [start: number, size: number, name: string] | undefined {
  const fields = Object.entries(SKB) as [string, number][];
  const sized: Record<string, number> = { cb: 20, remote_ip6: 16, local_ip6: 16, flow_keys: 8, tstamp: 8, sk: 8, hwtstamp: 8, tstamp_type: 1 };
  for (const [name, start] of fields) {
    const size = sized[name] ?? 4;
    if (off >= start && off < start + size) return [start, size, name];
  }
  return undefined;
}

function skbAccess(type: ProgramType, off: number, size: number, write: boolean): CtxVerdict {
  if (off < 0 || off + size > SK_BUFF_SIZE) return no(`offset ${off} is outside struct __sk_buff (${SK_BUFF_SIZE} bytes)`);
  const f = skbField(off);
  if (!f) return no(`offset ${off} is padding in struct __sk_buff`);
  const [start, fsize, name] = f;
  const tc = type === ProgramType.SCHED_CLS || type === ProgramType.SCHED_ACT;
  if (name === 'data' || name === 'data_end' || name === 'data_meta') {
    if (!tc && !(type === ProgramType.CGROUP_SKB && name !== 'data_meta')) return no(`__sk_buff->${name} is not available to this program type (use bpf_skb_load_bytes)`);
    if (write) return no(`__sk_buff->${name} is read-only`);
    if (off !== start || size !== 4) return no(`__sk_buff->${name} must be read as a whole u32`);
    return ok(name === 'data' ? 'pkt' : name === 'data_end' ? 'pkt_end' : 'pkt_meta');
  }
  if (name === 'sk' || name === 'flow_keys') return no(`__sk_buff->${name} (a kernel pointer) is not available in the VM`);
  if (name === 'tc_classid' && !tc) return no('__sk_buff->tc_classid is only for tc programs');
  // Fields the kernel hides per program type (sk_filter_, tc_cls_act_, cg_skb_is_valid_access).
  const socketInfo = off >= SKB.family && off < SKB.local_port + 4;
  if (type === ProgramType.SOCKET_FILTER && (socketInfo || name === 'tstamp' || name === 'wire_len' || name === 'hwtstamp')) return no(`__sk_buff->${name} is not available to socket filters`);
  if (tc && socketInfo) return no(`__sk_buff->${name} is not available to tc programs`);
  if (type === ProgramType.CGROUP_SKB && name === 'wire_len') return no('__sk_buff->wire_len is not available to cgroup skb programs');
  if (name === 'tstamp_type') return no('__sk_buff->tstamp_type is not available (read tstamp)');
  if (name === 'hwtstamp' && (write || size !== 8)) return no('__sk_buff->hwtstamp is read as a whole u64 and never written');
  if (write) {
    const writable = tc ? ['mark', 'tc_index', 'priority', 'cb', 'tc_classid', 'queue_mapping', 'tstamp'] : ['cb', ...(type === ProgramType.CGROUP_SKB ? ['mark', 'priority'] : [])];
    if (!writable.includes(name)) return no(`__sk_buff->${name} is read-only for this program type`);
    if (name === 'cb') return off % size === 0 ? ok() : no('misaligned write to __sk_buff->cb');
    return off === start && size === Math.min(fsize, 8) ? ok() : no(`__sk_buff->${name} must be written whole`);
  }
  if (name === 'cb' || name === 'remote_ip6' || name === 'local_ip6') return off % size === 0 && size <= 4 || (size === 8 && name === 'cb' && off % 8 === 0) ? ok() : no(`misaligned read of __sk_buff->${name}`);
  if (fsize === 8) return off === start && size === 8 ? ok() : no(`__sk_buff->${name} must be read as a u64`);
  return narrowOk(off, size, start, fsize) ? ok() : no(`read of ${size} byte(s) at ${off} straddles or misaligns __sk_buff->${name}`);
}

function xdpAccess(off: number, size: number, write: boolean): CtxVerdict {
  if (off < 0 || off + size > XDP_MD_SIZE) return no(`offset ${off} is outside struct xdp_md (${XDP_MD_SIZE} bytes)`);
  if (write) return no('struct xdp_md is read-only');
  const name = (Object.entries(XDP_MD) as [string, number][]).find(([, s]) => off >= s && off < s + 4)![0];
  const start = XDP_MD[name as keyof typeof XDP_MD];
  // As the kernel's xdp_is_valid_access: whole u32 reads only; egress_ifindex only in devmap programs.
  if (name === 'egress_ifindex') return no('xdp_md->egress_ifindex is only available to devmap programs');
  if (off !== start || size !== 4) return no(`xdp_md->${name} must be read as a whole u32`);
  if (name === 'data' || name === 'data_end' || name === 'data_meta') return ok(name === 'data' ? 'pkt' : name === 'data_end' ? 'pkt_end' : 'pkt_meta');
  return ok();
}

/** Context access rules; `ctxSize` bounds host-defined contexts (plugins, UNSPEC). */
export function ctxAccess(type: ProgramType, off: number, size: number, write: boolean, ctxSize?: number): CtxVerdict {
  switch (type) {
    case ProgramType.XDP:
      return xdpAccess(off, size, write);
    case ProgramType.SOCKET_FILTER:
    case ProgramType.SCHED_CLS:
    case ProgramType.SCHED_ACT:
    case ProgramType.CGROUP_SKB:
      return skbAccess(type, off, size, write);
    case ProgramType.KPROBE:
      if (write) return no('struct pt_regs is read-only');
      if (off < 0 || off + size > PT_REGS_SIZE) return no(`offset ${off} is outside struct pt_regs (${PT_REGS_SIZE} bytes)`);
      return off % size === 0 ? ok() : no('misaligned read of struct pt_regs');
    case ProgramType.TRACEPOINT:
      if (write) return no('tracepoint records are read-only');
      if (off < 0 || off + size > PERF_MAX_TRACE_SIZE) return no(`offset ${off} is outside the tracepoint record`);
      return off % size === 0 ? ok() : no('misaligned read of the tracepoint record');
    case ProgramType.PERF_EVENT:
      // struct bpf_perf_event_data: pt_regs, sample_period, addr
      if (write) return no('struct bpf_perf_event_data is read-only');
      if (off < 0 || off + size > PT_REGS_SIZE + 16) return no(`offset ${off} is outside struct bpf_perf_event_data`);
      return off % size === 0 ? ok() : no('misaligned read of struct bpf_perf_event_data');
    case ProgramType.TRACING:
    case ProgramType.RAW_TRACEPOINT:
      if (write) return no('raw tracepoint arguments are read-only');
      if (off < 0 || off + size > 12 * 8) return no(`offset ${off} is past the 12 raw tracepoint arguments`);
      if (off % 8 !== 0 || size !== 8) return no('raw tracepoint arguments are read as whole u64s');
      // tp_btf/fentry/fexit arguments are typed by the kernel's BTF: pointers to kernel structs that
      // loads may follow (as probe reads). Without those types here, any argument may be one.
      return ok(type === ProgramType.TRACING ? 'btf_ptr' : 'scalar');
  }
  if (ctxSize === undefined) return no(`the context of program type ${ProgramType[type] ?? type} has no known layout (pass ctxSize)`);
  if (off < 0 || off + size > ctxSize) return no(`offset ${off}..${off + size} is outside the ${ctxSize}-byte context`);
  return ok();
}

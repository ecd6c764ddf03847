// libbpf's SEC() conventions (section_defs in libbpf.c): an ELF section name → program type, expected
// attach type, how it attaches and to what. Objects written for libbpf therefore load unchanged.
import { AttachType as A, ProgramType as P } from '../uapi/bpf.js';

/** How a program attaches; the loader's attach code switches on this. */
export type AttachKind =
  | 'socket' | 'sk_reuseport'
  | 'kprobe' | 'kretprobe' | 'uprobe' | 'uretprobe' | 'ksyscall' | 'kretsyscall' | 'usdt'
  | 'kprobe_multi' | 'kretprobe_multi' | 'uprobe_multi' | 'uretprobe_multi' | 'kprobe_session'
  | 'tc' | 'tcx' | 'netkit' | 'action'
  | 'tracepoint' | 'raw_tracepoint' | 'raw_tracepoint_writable' | 'tp_btf'
  | 'fentry' | 'fexit' | 'fmod_ret' | 'freplace' | 'lsm' | 'lsm_cgroup' | 'iter' | 'syscall'
  | 'xdp' | 'perf_event' | 'lwt' | 'cgroup' | 'sockops' | 'sk_skb' | 'sk_msg' | 'lirc_mode2'
  | 'flow_dissector' | 'struct_ops' | 'sk_lookup' | 'netfilter' | 'unknown';

/** What a SEC() name says about its program. */
export interface SectionInfo {
  type: P;
  /** expected_attach_type for BPF_PROG_LOAD (libbpf always passes the table's value; 0 where none) */
  expectedAttachType: A;
  kind: AttachKind;
  /** what to attach to, parsed from the name ('' when the section name does not say) */
  target: string;
  /** BPF_F_SLEEPABLE at load (.s variants, syscall) */
  sleepable: boolean;
  /** BPF_F_XDP_HAS_FRAGS at load (xdp.frags) */
  xdpFrags: boolean;
  /** the program needs attach_btf_id from kernel BTF (tp_btf, fentry, lsm, iter, freplace...) */
  attachBtf: boolean;
}

interface SecDef {
  /** libbpf spelling: a trailing '+' means "this name, or this name + '/' + target" */
  sec: string;
  type: P;
  attach: A;
  kind: AttachKind;
  sleepable?: boolean;
  frags?: boolean;
  btf?: boolean;
}

const d = (sec: string, type: P, attach: A | 0, kind: AttachKind, extra: Partial<SecDef> = {}): SecDef => ({ sec, type, attach: attach as A, kind, ...extra });
const S = { sleepable: true };
const BTF = { btf: true };
const BTF_S = { btf: true, sleepable: true };

// Order matters: the first match wins, so longer names come before their prefixes (as in libbpf).
const SECTION_DEFS: readonly SecDef[] = [
  d('socket', P.SOCKET_FILTER, 0, 'socket'),
  d('sk_reuseport/migrate', P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, 'sk_reuseport'),
  d('sk_reuseport', P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT, 'sk_reuseport'),
  d('kprobe+', P.KPROBE, 0, 'kprobe'),
  d('uprobe+', P.KPROBE, 0, 'uprobe'),
  d('uprobe.s+', P.KPROBE, 0, 'uprobe', S),
  d('kretprobe+', P.KPROBE, 0, 'kretprobe'),
  d('uretprobe+', P.KPROBE, 0, 'uretprobe'),
  d('uretprobe.s+', P.KPROBE, 0, 'uretprobe', S),
  d('kprobe.multi+', P.KPROBE, A.TRACE_KPROBE_MULTI, 'kprobe_multi'),
  d('kretprobe.multi+', P.KPROBE, A.TRACE_KPROBE_MULTI, 'kretprobe_multi'),
  d('kprobe.session+', P.KPROBE, A.TRACE_KPROBE_SESSION, 'kprobe_session'),
  d('uprobe.multi+', P.KPROBE, A.TRACE_UPROBE_MULTI, 'uprobe_multi'),
  d('uretprobe.multi+', P.KPROBE, A.TRACE_UPROBE_MULTI, 'uretprobe_multi'),
  d('uprobe.multi.s+', P.KPROBE, A.TRACE_UPROBE_MULTI, 'uprobe_multi', S),
  d('uretprobe.multi.s+', P.KPROBE, A.TRACE_UPROBE_MULTI, 'uretprobe_multi', S),
  d('ksyscall+', P.KPROBE, 0, 'ksyscall'),
  d('kretsyscall+', P.KPROBE, 0, 'kretsyscall'),
  d('usdt+', P.KPROBE, 0, 'usdt'),
  d('usdt.s+', P.KPROBE, 0, 'usdt', S),
  d('tc/ingress', P.SCHED_CLS, A.TCX_INGRESS, 'tcx'), // libbpf: alias for tcx
  d('tc/egress', P.SCHED_CLS, A.TCX_EGRESS, 'tcx'),
  d('tcx/ingress', P.SCHED_CLS, A.TCX_INGRESS, 'tcx'),
  d('tcx/egress', P.SCHED_CLS, A.TCX_EGRESS, 'tcx'),
  d('tc', P.SCHED_CLS, 0, 'tc'),
  d('classifier', P.SCHED_CLS, 0, 'tc'),
  d('action', P.SCHED_ACT, 0, 'action'),
  d('netkit/primary', P.SCHED_CLS, A.NETKIT_PRIMARY, 'netkit'),
  d('netkit/peer', P.SCHED_CLS, A.NETKIT_PEER, 'netkit'),
  d('tracepoint+', P.TRACEPOINT, 0, 'tracepoint'),
  d('tp+', P.TRACEPOINT, 0, 'tracepoint'),
  d('raw_tracepoint+', P.RAW_TRACEPOINT, 0, 'raw_tracepoint'),
  d('raw_tp+', P.RAW_TRACEPOINT, 0, 'raw_tracepoint'),
  d('raw_tracepoint.w+', P.RAW_TRACEPOINT_WRITABLE, 0, 'raw_tracepoint_writable'),
  d('raw_tp.w+', P.RAW_TRACEPOINT_WRITABLE, 0, 'raw_tracepoint_writable'),
  d('tp_btf+', P.TRACING, A.TRACE_RAW_TP, 'tp_btf', BTF),
  d('fentry+', P.TRACING, A.TRACE_FENTRY, 'fentry', BTF),
  d('fmod_ret+', P.TRACING, A.MODIFY_RETURN, 'fmod_ret', BTF),
  d('fexit+', P.TRACING, A.TRACE_FEXIT, 'fexit', BTF),
  d('fentry.s+', P.TRACING, A.TRACE_FENTRY, 'fentry', BTF_S),
  d('fmod_ret.s+', P.TRACING, A.MODIFY_RETURN, 'fmod_ret', BTF_S),
  d('fexit.s+', P.TRACING, A.TRACE_FEXIT, 'fexit', BTF_S),
  d('freplace+', P.EXT, 0, 'freplace', BTF),
  d('lsm+', P.LSM, A.LSM_MAC, 'lsm', BTF),
  d('lsm.s+', P.LSM, A.LSM_MAC, 'lsm', BTF_S),
  d('lsm_cgroup+', P.LSM, A.LSM_CGROUP, 'lsm_cgroup', BTF),
  d('iter+', P.TRACING, A.TRACE_ITER, 'iter', BTF),
  d('iter.s+', P.TRACING, A.TRACE_ITER, 'iter', BTF_S),
  d('syscall', P.SYSCALL, 0, 'syscall', S),
  d('xdp.frags/devmap', P.XDP, A.XDP_DEVMAP, 'xdp', { frags: true }),
  d('xdp/devmap', P.XDP, A.XDP_DEVMAP, 'xdp'),
  d('xdp.frags/cpumap', P.XDP, A.XDP_CPUMAP, 'xdp', { frags: true }),
  d('xdp/cpumap', P.XDP, A.XDP_CPUMAP, 'xdp'),
  d('xdp.frags', P.XDP, A.XDP, 'xdp', { frags: true }),
  d('xdp', P.XDP, A.XDP, 'xdp'),
  d('perf_event', P.PERF_EVENT, 0, 'perf_event'),
  d('lwt_in', P.LWT_IN, 0, 'lwt'),
  d('lwt_out', P.LWT_OUT, 0, 'lwt'),
  d('lwt_xmit', P.LWT_XMIT, 0, 'lwt'),
  d('lwt_seg6local', P.LWT_SEG6LOCAL, 0, 'lwt'),
  d('sockops', P.SOCK_OPS, A.CGROUP_SOCK_OPS, 'sockops'),
  d('sk_skb/stream_parser', P.SK_SKB, A.SK_SKB_STREAM_PARSER, 'sk_skb'),
  d('sk_skb/stream_verdict', P.SK_SKB, A.SK_SKB_STREAM_VERDICT, 'sk_skb'),
  d('sk_skb/verdict', P.SK_SKB, A.SK_SKB_VERDICT, 'sk_skb'),
  d('sk_skb', P.SK_SKB, 0, 'sk_skb'),
  d('sk_msg', P.SK_MSG, A.SK_MSG_VERDICT, 'sk_msg'),
  d('lirc_mode2', P.LIRC_MODE2, A.LIRC_MODE2, 'lirc_mode2'),
  d('flow_dissector', P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, 'flow_dissector'),
  d('cgroup_skb/ingress', P.CGROUP_SKB, A.CGROUP_INET_INGRESS, 'cgroup'),
  d('cgroup_skb/egress', P.CGROUP_SKB, A.CGROUP_INET_EGRESS, 'cgroup'),
  d('cgroup/skb', P.CGROUP_SKB, 0, 'cgroup'),
  d('cgroup/sock_create', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, 'cgroup'),
  d('cgroup/sock_release', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE, 'cgroup'),
  d('cgroup/sock', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, 'cgroup'),
  d('cgroup/post_bind4', P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND, 'cgroup'),
  d('cgroup/post_bind6', P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND, 'cgroup'),
  d('cgroup/bind4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND, 'cgroup'),
  d('cgroup/bind6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND, 'cgroup'),
  d('cgroup/connect4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT, 'cgroup'),
  d('cgroup/connect6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT, 'cgroup'),
  d('cgroup/connect_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, 'cgroup'),
  d('cgroup/sendmsg4', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG, 'cgroup'),
  d('cgroup/sendmsg6', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG, 'cgroup'),
  d('cgroup/sendmsg_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_SENDMSG, 'cgroup'),
  d('cgroup/recvmsg4', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG, 'cgroup'),
  d('cgroup/recvmsg6', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG, 'cgroup'),
  d('cgroup/recvmsg_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_RECVMSG, 'cgroup'),
  d('cgroup/getpeername4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME, 'cgroup'),
  d('cgroup/getpeername6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME, 'cgroup'),
  d('cgroup/getpeername_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETPEERNAME, 'cgroup'),
  d('cgroup/getsockname4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME, 'cgroup'),
  d('cgroup/getsockname6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME, 'cgroup'),
  d('cgroup/getsockname_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME, 'cgroup'),
  d('cgroup/sysctl', P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, 'cgroup'),
  d('cgroup/getsockopt', P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, 'cgroup'),
  d('cgroup/setsockopt', P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT, 'cgroup'),
  d('cgroup/dev', P.CGROUP_DEVICE, A.CGROUP_DEVICE, 'cgroup'),
  d('struct_ops+', P.STRUCT_OPS, 0, 'struct_ops'),
  d('struct_ops.s+', P.STRUCT_OPS, 0, 'struct_ops', S),
  d('sk_lookup', P.SK_LOOKUP, A.SK_LOOKUP, 'sk_lookup'),
  d('netfilter', P.NETFILTER, A.NETFILTER, 'netfilter'),
];

/** The section name's part after `prefix/`, or null if `name` is not `prefix` or `prefix/...`. */
function matchDef(def: SecDef, name: string): string | null {
  if (def.sec.endsWith('+')) {
    const prefix = def.sec.slice(0, -1);
    if (name === prefix) return '';
    return name.startsWith(prefix + '/') ? name.slice(prefix.length + 1) : null;
  }
  return name === def.sec ? '' : null;
}

/** Look a SEC() name up in libbpf's table; undefined when libbpf would not know it either. */
export function sectionInfo(name: string): SectionInfo | undefined {
  for (const def of SECTION_DEFS) {
    const target = matchDef(def, name);
    if (target === null) continue;
    return {
      type: def.type, expectedAttachType: def.attach, kind: def.kind, target,
      sleepable: !!def.sleepable, xdpFrags: !!def.frags, attachBtf: !!def.btf,
    };
  }
  return undefined;
}

/** All SEC() spellings known, in match order (for help texts and tests). */
export const knownSections = (): string[] => SECTION_DEFS.map((s) => s.sec);

/** `func+0x10` / `func+16` / `func` → function and offset (kprobe targets). */
export function parseKprobeTarget(target: string): { func: string; offset: number } {
  const m = /^([^+]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(target);
  if (!m) return { func: target, offset: 0 };
  return { func: m[1]!, offset: m[2] ? Number(m[2]) : 0 };
}

/** `/usr/lib/libc.so.6:malloc+4`, `libc.so.6:malloc` → binary, function and offset (uprobe targets). */
export function parseUprobeTarget(target: string): { binary: string; func: string; offset: number } | undefined {
  const colon = target.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const binary = target.slice(0, colon);
  const rest = target.slice(colon + 1);
  if (!rest) return { binary, func: '', offset: 0 };
  // a bare number or hex is an absolute offset into the file, not a function
  if (/^(0x[0-9a-fA-F]+|\d+)$/.test(rest)) return { binary, func: '', offset: Number(rest) };
  const k = parseKprobeTarget(rest);
  return { binary, func: k.func, offset: k.offset };
}

/** `provider:name` (usdt/path:provider:name) → binary path, provider and probe name. */
export function parseUsdtTarget(target: string): { binary: string; provider: string; name: string } | undefined {
  const parts = target.split(':');
  if (parts.length < 3) return undefined;
  const name = parts.pop()!;
  const provider = parts.pop()!;
  return { binary: parts.join(':'), provider, name };
}

/**
 * The kernel BTF name and kind (FUNC or TYPEDEF) an attachBtf program resolves its attach_btf_id
 * against, as libbpf does: tp_btf → typedef btf_trace_<tp>, lsm → bpf_lsm_<hook>, iter → bpf_iter_<name>.
 */
export function attachBtfName(info: Pick<SectionInfo, 'kind' | 'target'>): { name: string; kind: 'func' | 'typedef' } {
  switch (info.kind) {
    case 'tp_btf':
      return { name: `btf_trace_${info.target}`, kind: 'typedef' };
    case 'lsm':
    case 'lsm_cgroup':
      return { name: `bpf_lsm_${info.target}`, kind: 'func' };
    case 'iter':
      return { name: `bpf_iter_${info.target}`, kind: 'func' };
    default:
      return { name: info.target, kind: 'func' };
  }
}

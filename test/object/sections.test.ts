import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sectionInfo, parseKprobeTarget, parseUprobeTarget, parseUsdtTarget, attachBtfName, knownSections } from '../../src/object/sections.js';
import { ProgramType as P, AttachType as A } from '../../src/uapi/bpf.js';

const cases: [string, P, number, string, string, boolean?][] = [
  ['socket', P.SOCKET_FILTER, 0, 'socket', ''],
  ['sk_reuseport', P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT, 'sk_reuseport', ''],
  ['sk_reuseport/migrate', P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, 'sk_reuseport', ''],
  ['kprobe/tcp_v4_connect', P.KPROBE, 0, 'kprobe', 'tcp_v4_connect'],
  ['kprobe/tcp_v4_connect+0x10', P.KPROBE, 0, 'kprobe', 'tcp_v4_connect+0x10'],
  ['kprobe', P.KPROBE, 0, 'kprobe', ''],
  ['kretprobe/do_sys_open', P.KPROBE, 0, 'kretprobe', 'do_sys_open'],
  ['uprobe//usr/lib/libc.so.6:malloc', P.KPROBE, 0, 'uprobe', '/usr/lib/libc.so.6:malloc'],
  ['uprobe.s/libc.so.6:malloc', P.KPROBE, 0, 'uprobe', 'libc.so.6:malloc', true],
  ['uretprobe/libc.so.6:free', P.KPROBE, 0, 'uretprobe', 'libc.so.6:free'],
  ['uretprobe.s/libc.so.6:free', P.KPROBE, 0, 'uretprobe', 'libc.so.6:free', true],
  ['ksyscall/openat', P.KPROBE, 0, 'ksyscall', 'openat'],
  ['kretsyscall/openat', P.KPROBE, 0, 'kretsyscall', 'openat'],
  ['usdt', P.KPROBE, 0, 'usdt', ''],
  ['usdt/libc.so.6:libc:setjmp', P.KPROBE, 0, 'usdt', 'libc.so.6:libc:setjmp'],
  ['kprobe.multi/tcp_*', P.KPROBE, A.TRACE_KPROBE_MULTI, 'kprobe_multi', 'tcp_*'],
  ['tc', P.SCHED_CLS, 0, 'tc', ''],
  ['tc/ingress', P.SCHED_CLS, A.TCX_INGRESS, 'tcx', ''],
  ['tc/egress', P.SCHED_CLS, A.TCX_EGRESS, 'tcx', ''],
  ['tcx/ingress', P.SCHED_CLS, A.TCX_INGRESS, 'tcx', ''],
  ['tcx/egress', P.SCHED_CLS, A.TCX_EGRESS, 'tcx', ''],
  ['classifier', P.SCHED_CLS, 0, 'tc', ''],
  ['action', P.SCHED_ACT, 0, 'action', ''],
  ['tracepoint/syscalls/sys_enter_openat', P.TRACEPOINT, 0, 'tracepoint', 'syscalls/sys_enter_openat'],
  ['tp/sched/sched_switch', P.TRACEPOINT, 0, 'tracepoint', 'sched/sched_switch'],
  ['raw_tracepoint/sched_switch', P.RAW_TRACEPOINT, 0, 'raw_tracepoint', 'sched_switch'],
  ['raw_tp/sched_switch', P.RAW_TRACEPOINT, 0, 'raw_tracepoint', 'sched_switch'],
  ['raw_tp.w/bpf_test_finish', P.RAW_TRACEPOINT_WRITABLE, 0, 'raw_tracepoint_writable', 'bpf_test_finish'],
  ['tp_btf/sched_switch', P.TRACING, A.TRACE_RAW_TP, 'tp_btf', 'sched_switch'],
  ['fentry/do_unlinkat', P.TRACING, A.TRACE_FENTRY, 'fentry', 'do_unlinkat'],
  ['fentry.s/do_unlinkat', P.TRACING, A.TRACE_FENTRY, 'fentry', 'do_unlinkat', true],
  ['fexit/do_unlinkat', P.TRACING, A.TRACE_FEXIT, 'fexit', 'do_unlinkat'],
  ['fexit.s/do_unlinkat', P.TRACING, A.TRACE_FEXIT, 'fexit', 'do_unlinkat', true],
  ['fmod_ret/security_x', P.TRACING, A.MODIFY_RETURN, 'fmod_ret', 'security_x'],
  ['fmod_ret.s/security_x', P.TRACING, A.MODIFY_RETURN, 'fmod_ret', 'security_x', true],
  ['freplace/handler', P.EXT, 0, 'freplace', 'handler'],
  ['lsm/file_open', P.LSM, A.LSM_MAC, 'lsm', 'file_open'],
  ['lsm.s/file_open', P.LSM, A.LSM_MAC, 'lsm', 'file_open', true],
  ['lsm_cgroup/socket_bind', P.LSM, A.LSM_CGROUP, 'lsm_cgroup', 'socket_bind'],
  ['iter/task', P.TRACING, A.TRACE_ITER, 'iter', 'task'],
  ['iter.s/task', P.TRACING, A.TRACE_ITER, 'iter', 'task', true],
  ['syscall', P.SYSCALL, 0, 'syscall', '', true],
  ['xdp', P.XDP, A.XDP, 'xdp', ''],
  ['xdp.frags', P.XDP, A.XDP, 'xdp', ''],
  ['xdp/devmap', P.XDP, A.XDP_DEVMAP, 'xdp', ''],
  ['xdp/cpumap', P.XDP, A.XDP_CPUMAP, 'xdp', ''],
  ['xdp.frags/devmap', P.XDP, A.XDP_DEVMAP, 'xdp', ''],
  ['perf_event', P.PERF_EVENT, 0, 'perf_event', ''],
  ['lwt_in', P.LWT_IN, 0, 'lwt', ''],
  ['lwt_out', P.LWT_OUT, 0, 'lwt', ''],
  ['lwt_xmit', P.LWT_XMIT, 0, 'lwt', ''],
  ['lwt_seg6local', P.LWT_SEG6LOCAL, 0, 'lwt', ''],
  ['cgroup_skb/ingress', P.CGROUP_SKB, A.CGROUP_INET_INGRESS, 'cgroup', ''],
  ['cgroup_skb/egress', P.CGROUP_SKB, A.CGROUP_INET_EGRESS, 'cgroup', ''],
  ['cgroup/skb', P.CGROUP_SKB, 0, 'cgroup', ''],
  ['cgroup/sock', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, 'cgroup', ''],
  ['cgroup/sock_create', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, 'cgroup', ''],
  ['cgroup/sock_release', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE, 'cgroup', ''],
  ['cgroup/post_bind4', P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND, 'cgroup', ''],
  ['cgroup/post_bind6', P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND, 'cgroup', ''],
  ['cgroup/bind4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND, 'cgroup', ''],
  ['cgroup/connect4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT, 'cgroup', ''],
  ['cgroup/connect6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT, 'cgroup', ''],
  ['cgroup/connect_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, 'cgroup', ''],
  ['cgroup/sendmsg4', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG, 'cgroup', ''],
  ['cgroup/sendmsg6', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG, 'cgroup', ''],
  ['cgroup/sendmsg_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_SENDMSG, 'cgroup', ''],
  ['cgroup/recvmsg4', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG, 'cgroup', ''],
  ['cgroup/recvmsg6', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG, 'cgroup', ''],
  ['cgroup/recvmsg_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_RECVMSG, 'cgroup', ''],
  ['cgroup/getpeername4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME, 'cgroup', ''],
  ['cgroup/getpeername6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME, 'cgroup', ''],
  ['cgroup/getpeername_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETPEERNAME, 'cgroup', ''],
  ['cgroup/getsockname4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME, 'cgroup', ''],
  ['cgroup/getsockname6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME, 'cgroup', ''],
  ['cgroup/getsockname_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME, 'cgroup', ''],
  ['cgroup/sysctl', P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, 'cgroup', ''],
  ['cgroup/getsockopt', P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, 'cgroup', ''],
  ['cgroup/setsockopt', P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT, 'cgroup', ''],
  ['cgroup/dev', P.CGROUP_DEVICE, A.CGROUP_DEVICE, 'cgroup', ''],
  ['sockops', P.SOCK_OPS, A.CGROUP_SOCK_OPS, 'sockops', ''],
  ['sk_skb', P.SK_SKB, 0, 'sk_skb', ''],
  ['sk_skb/stream_parser', P.SK_SKB, A.SK_SKB_STREAM_PARSER, 'sk_skb', ''],
  ['sk_skb/stream_verdict', P.SK_SKB, A.SK_SKB_STREAM_VERDICT, 'sk_skb', ''],
  ['sk_skb/verdict', P.SK_SKB, A.SK_SKB_VERDICT, 'sk_skb', ''],
  ['sk_msg', P.SK_MSG, A.SK_MSG_VERDICT, 'sk_msg', ''],
  ['lirc_mode2', P.LIRC_MODE2, A.LIRC_MODE2, 'lirc_mode2', ''],
  ['flow_dissector', P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, 'flow_dissector', ''],
  ['struct_ops/tcp_init', P.STRUCT_OPS, 0, 'struct_ops', 'tcp_init'],
  ['struct_ops.s/x', P.STRUCT_OPS, 0, 'struct_ops', 'x', true],
  ['sk_lookup', P.SK_LOOKUP, A.SK_LOOKUP, 'sk_lookup', ''],
  ['netfilter', P.NETFILTER, A.NETFILTER, 'netfilter', ''],
];

test("libbpf's SEC() table: type, expected attach type, kind, target, sleepable", () => {
  for (const [sec, type, attach, kind, target, sleepable] of cases) {
    const info = sectionInfo(sec);
    assert.ok(info, `${sec} is known`);
    assert.deepEqual([info.type, info.expectedAttachType, info.kind, info.target, info.sleepable], [type, attach, kind, target, !!sleepable], sec);
  }
  assert.equal(sectionInfo('xdp.frags')!.xdpFrags, true);
  assert.equal(sectionInfo('xdp')!.xdpFrags, false);
  assert.equal(sectionInfo('tp_btf/x')!.attachBtf, true);
  assert.equal(sectionInfo('tracepoint/x/y')!.attachBtf, false);
});

test('names libbpf 1.x rejects are unknown: no prefix matching without "/"', () => {
  for (const s of ['kprobefoo', 'xdp_prog', 'socketx', 'tracepointx/y', 'cgroup/nothing', 'tc_cls', '.text', 'license', 'uprobe.sx/a:b', '']) {
    assert.equal(sectionInfo(s), undefined, s);
  }
  assert.ok(knownSections().includes('kprobe+'));
});

test('target parsers', () => {
  assert.deepEqual(parseKprobeTarget('tcp_v4_connect'), { func: 'tcp_v4_connect', offset: 0 });
  assert.deepEqual(parseKprobeTarget('tcp_v4_connect+0x10'), { func: 'tcp_v4_connect', offset: 16 });
  assert.deepEqual(parseKprobeTarget('f+8'), { func: 'f', offset: 8 });
  assert.deepEqual(parseUprobeTarget('/usr/lib/libc.so.6:malloc'), { binary: '/usr/lib/libc.so.6', func: 'malloc', offset: 0 });
  assert.deepEqual(parseUprobeTarget('libc.so.6:malloc+4'), { binary: 'libc.so.6', func: 'malloc', offset: 4 });
  assert.deepEqual(parseUprobeTarget('/bin/x:0x1234'), { binary: '/bin/x', func: '', offset: 0x1234 });
  assert.deepEqual(parseUprobeTarget('/bin/x:malloc@@GLIBC_2.2.5'), { binary: '/bin/x', func: 'malloc@@GLIBC_2.2.5', offset: 0 });
  assert.equal(parseUprobeTarget('nocolon'), undefined);
  assert.deepEqual(parseUsdtTarget('/usr/bin/python3:python:function__entry'), { binary: '/usr/bin/python3', provider: 'python', name: 'function__entry' });
  assert.equal(parseUsdtTarget('a:b'), undefined);
  assert.deepEqual(attachBtfName({ kind: 'tp_btf', target: 'sched_switch' }), { name: 'btf_trace_sched_switch', kind: 'typedef' });
  assert.deepEqual(attachBtfName({ kind: 'lsm', target: 'file_open' }), { name: 'bpf_lsm_file_open', kind: 'func' });
  assert.deepEqual(attachBtfName({ kind: 'iter', target: 'task' }), { name: 'bpf_iter_task', kind: 'func' });
  assert.deepEqual(attachBtfName({ kind: 'fentry', target: 'do_unlinkat' }), { name: 'do_unlinkat', kind: 'func' });
});

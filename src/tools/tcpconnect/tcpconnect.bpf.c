// tcpconnect: one record per outgoing TCP connect, IPv4 and IPv6, filtered in the kernel.
// Four hook variants live in this object; the front end probes the kernel and autoloads one set:
//   kprobe/kretprobe on tcp_v{4,6}_connect  (sees connect()'s error)
//   fexit on tcp_v{4,6}_connect             (same, without kprobes)
//   tp_btf inet_sock_set_state              (CLOSE -> SYN_SENT runs in the connecting task; the
//                                            source port arrives with the next state change)
//   tracepoint sock/inet_sock_set_state     (the same on kernels without BTF-typed tracepoints)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tools.bpf.h"
#include "events.bpf.h"
#include "tcpconnect.h"
#include "port_list.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

char LICENSE[] SEC("license") = "GPL";

/* keeps struct event in the object's BTF: the front end decodes records with it */
const struct event *unused_event __attribute__((unused));

const volatile __u32 targ_pid = 0;
const volatile __u32 targ_uid = (__u32)-1;
const volatile __u32 targ_af = 0; /* 0 any, 4 or 6 */
const volatile bool do_count = false;
/* tracepoint: follow reported sockets to send their source port (off when nobody shows it) */
const volatile bool want_sport = true;
const volatile __u32 filter_ports_len = 0;
const volatile __u16 filter_ports[MAX_PORTS] = {};

DEFINE_RINGBUF(events, 16 * 1024 * 1024);

/* source-port updates that found the ring buffer full (the connect itself was reported) */
DEFINE_MAP(sport_drops, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, __u64, 1);

/* With a task filter (pid, uid, cgroup) only: sockets in SYN_SENT that were reported. The socket's
 * next state change runs in softirq context, where the current task says nothing about the socket,
 * so it is looked up here; without a task filter the socket filters (family, port) are simply
 * evaluated again, and no map is touched per connect. */
DEFINE_MAP(pending, BPF_MAP_TYPE_LRU_HASH, __u64, __u8, 65536);

struct connect_args {
	struct sock *sk;
	void *uaddr;
};

/* kprobe path: connect() arguments by thread until the return probe */
DEFINE_MAP(inflight, BPF_MAP_TYPE_HASH, __u32, struct connect_args, 10240);

DEFINE_MAP(ipv4_count, BPF_MAP_TYPE_HASH, struct ipv4_flow_key, __u64, 8192);

DEFINE_MAP(ipv6_count, BPF_MAP_TYPE_HASH, struct ipv6_flow_key, __u64, 8192);

static __always_inline bool task_allowed(__u32 tgid, __u32 uid)
{
	if (targ_pid && targ_pid != tgid)
		return false;
	if (targ_uid != (__u32)-1 && targ_uid != uid)
		return false;
	return cgroup_allowed();
}

static __always_inline bool task_filtered(void)
{
	return targ_pid || targ_uid != (__u32)-1 || targ_cgroup_id;
}

static __always_inline bool port_allowed(__u16 dport)
{
	return in_list(dport, filter_ports_len, filter_ports);
}

static __always_inline bool af_allowed(__u16 af)
{
	return !targ_af || (targ_af == 4 && af == AF_INET) || (targ_af == 6 && af == AF_INET6);
}

static __always_inline void count_flow(__u16 af, const __u8 *saddr, const __u8 *daddr, __u16 dport)
{
	static const __u64 one = 1;
	__u64 *n;

	if (af == AF_INET) {
		struct ipv4_flow_key k = { .dport = dport };

		__builtin_memcpy(&k.saddr, saddr, 4);
		__builtin_memcpy(&k.daddr, daddr, 4);
		n = bpf_map_lookup_elem(&ipv4_count, &k);
		if (n)
			__sync_fetch_and_add(n, 1);
		else
			bpf_map_update_elem(&ipv4_count, &k, &one, BPF_NOEXIST);
	} else {
		struct ipv6_flow_key k = { .dport = dport };

		__builtin_memcpy(k.saddr, saddr, 16);
		__builtin_memcpy(k.daddr, daddr, 16);
		n = bpf_map_lookup_elem(&ipv6_count, &k);
		if (n)
			__sync_fetch_and_add(n, 1);
		else
			bpf_map_update_elem(&ipv6_count, &k, &one, BPF_NOEXIST);
	}
}

/* Fills the task part of a record. */
static __always_inline void fill_task(struct event *e, __u64 pid_tgid, __u32 uid)
{
	e->ts_us = bpf_ktime_get_ns() / 1000;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->uid = uid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* ---- tracepoint variants: sock/inet_sock_set_state as tp_btf (raw arguments) or classic ---- */

/* SYN_SENT -> anything: a connect reported earlier got its answer, its source port is known. */
static __always_inline void report_sport(__u64 sk, __u16 af, __u16 sport, __u16 dport, __u8 newstate)
{
	struct event *e;

	if (task_filtered()) {
		if (!bpf_map_lookup_elem(&pending, &sk))
			return;
		bpf_map_delete_elem(&pending, &sk);
	} else if (!af_allowed(af) || !port_allowed(dport)) {
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&sport_drops, &zero);

		if (n)
			*n += 1;
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = EVENT_SPORT;
	e->id = sk;
	e->af = af;
	e->sport = sport;
	e->dport = dport;
	e->state = newstate;
	e->ts_us = bpf_ktime_get_ns() / 1000;
	bpf_ringbuf_submit(e, wakeup_flags(&events));
}

/* CLOSE -> SYN_SENT, in the connecting task: a connect. The addresses are 4 bytes (IPv4) or 16. */
static __always_inline void report_connect(__u64 sk, __u16 af, __u16 sport, __u16 dport, const void *saddr, const void *daddr)
{
	struct event *e;

	if (!af_allowed(af) || !port_allowed(dport))
		return;

	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();

	if (!task_allowed(pid_tgid >> 32, uid))
		return;

	if (do_count) {
		__u8 s[16] = {}, d[16] = {};

		if (af == AF_INET) {
			bpf_probe_read_kernel(s, 4, saddr);
			bpf_probe_read_kernel(d, 4, daddr);
		} else {
			bpf_probe_read_kernel(s, 16, saddr);
			bpf_probe_read_kernel(d, 16, daddr);
		}
		count_flow(af, s, d, dport);
		return;
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	fill_task(e, pid_tgid, uid);
	e->kind = EVENT_CONNECT;
	e->id = sk;
	e->af = af;
	e->sport = sport;
	e->dport = dport;
	if (af == AF_INET) {
		bpf_probe_read_kernel(e->saddr, 4, saddr);
		bpf_probe_read_kernel(e->daddr, 4, daddr);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, saddr);
		bpf_probe_read_kernel(e->daddr, 16, daddr);
	}
	if (want_sport && !sport && task_filtered()) {
		__u8 one = 1;

		bpf_map_update_elem(&pending, &sk, &one, BPF_ANY);
	}
	bpf_ringbuf_submit(e, wakeup_flags(&events));
}

/* tp_btf: called with the tracepoint's arguments, before the kernel formats any record, so the
 * socket's other state changes (several per connection, on both ends) cost a compare or two. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_inet_sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (oldstate == TCP_SYN_SENT) {
		if (!want_sport)
			return 0;
	} else if (oldstate != TCP_CLOSE || newstate != TCP_SYN_SENT) {
		return 0;
	}
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;

	__u16 af = sk->__sk_common.skc_family;
	__u16 dport = bpf_ntohs(sk->__sk_common.skc_dport);
	/* inet_sport, as the classic tracepoint: the state is stored (and traced) after a closing
	 * socket gave its port back, which clears skc_num but not inet_sport */
	__u16 sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));

	if (oldstate == TCP_SYN_SENT) {
		report_sport((__u64)sk, af, sport, dport, newstate);
	} else if (af == AF_INET) {
		report_connect((__u64)sk, af, sport, dport, &sk->__sk_common.skc_rcv_saddr, &sk->__sk_common.skc_daddr);
	} else {
		report_connect((__u64)sk, af, sport, dport, &sk->__sk_common.skc_v6_rcv_saddr, &sk->__sk_common.skc_v6_daddr);
	}
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	__u16 af = ctx->family;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->oldstate == TCP_SYN_SENT) {
		if (want_sport)
			report_sport(sk, af, ctx->sport, ctx->dport, ctx->newstate);
		return 0;
	}
	if (ctx->oldstate != TCP_CLOSE || ctx->newstate != TCP_SYN_SENT)
		return 0;
	/* (the verifier refuses clang's offset ctx loads for the address arrays: read them as memory) */
	if (af == AF_INET)
		report_connect(sk, af, ctx->sport, ctx->dport, ctx->saddr, ctx->daddr);
	else
		report_connect(sk, af, ctx->sport, ctx->dport, ctx->saddr_v6, ctx->daddr_v6);
	return 0;
}

/* ---- kprobe and fexit variants: both see the return value ---- */

static __always_inline int connect_return(struct sock *sk, void *uaddr, int ret, __u16 af)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u16 dport = 0;
	struct event *e;

	if (!af_allowed(af) || !task_allowed(pid_tgid >> 32, uid))
		return 0;
	if (af == AF_INET) {
		struct sockaddr_in *sin = uaddr;

		dport = bpf_ntohs(BPF_CORE_READ(sin, sin_port));
	} else {
		struct sockaddr_in6 *sin6 = uaddr;

		dport = bpf_ntohs(BPF_CORE_READ(sin6, sin6_port));
	}
	if (!port_allowed(dport))
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	fill_task(e, pid_tgid, uid);
	e->kind = EVENT_CONNECT;
	e->id = (__u64)sk;
	e->af = af;
	e->ret = ret;
	e->dport = dport;
	e->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	if (af == AF_INET) {
		struct sockaddr_in *sin = uaddr;

		BPF_CORE_READ_INTO((__u32 *)e->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->daddr, sin, sin_addr.s_addr);
	} else {
		struct sockaddr_in6 *sin6 = uaddr;

		/* &array: BPF_CORE_READ_INTO copies sizeof(*dst) bytes, which for a bare array is one */
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, sin6, sin6_addr.in6_u.u6_addr8);
	}
	if (do_count) {
		if (!ret)
			count_flow(af, e->saddr, e->daddr, dport);
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	bpf_ringbuf_submit(e, wakeup_flags(&events));
	return 0;
}

static __always_inline int connect_entry(struct sock *sk, void *uaddr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct connect_args a = { .sk = sk, .uaddr = uaddr };

	bpf_map_update_elem(&inflight, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline int connect_exit(int ret, __u16 af)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct connect_args *a = bpf_map_lookup_elem(&inflight, &tid);

	if (!a)
		return 0;
	struct sock *sk = a->sk;
	void *uaddr = a->uaddr;

	bpf_map_delete_elem(&inflight, &tid);
	return connect_return(sk, uaddr, ret, af);
}

/* The hooks of tcp_<v>_connect (v4, v6) for address family _af: a kprobe/kretprobe pair (where the
 * kernel has no fentry/fexit), and an fexit that sees the arguments and the return value at once. */
#define CONNECT_KPROBES(_v, _af) \
	SEC("kprobe/tcp_" #_v "_connect") \
	int BPF_KPROBE(kprobe_tcp_##_v##_connect, struct sock *sk, struct sockaddr *uaddr) \
	{ \
		return connect_entry(sk, uaddr); \
	} \
	SEC("kretprobe/tcp_" #_v "_connect") \
	int BPF_KRETPROBE(kretprobe_tcp_##_v##_connect, int ret) \
	{ \
		return connect_exit(ret, _af); \
	}

#define CONNECT_FEXIT(_v, _af) \
	SEC("fexit/tcp_" #_v "_connect") \
	int BPF_PROG(fexit_tcp_##_v##_connect, struct sock *sk, struct sockaddr *uaddr, int addr_len, int ret) \
	{ \
		return connect_return(sk, uaddr, ret, _af); \
	}

CONNECT_KPROBES(v4, AF_INET)
CONNECT_KPROBES(v6, AF_INET6)
CONNECT_FEXIT(v4, AF_INET)
CONNECT_FEXIT(v6, AF_INET6)

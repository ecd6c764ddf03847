// tcplife: TCP sessions with their lifetime and bytes in and out, from sock/inet_sock_set_state.
// Birth is the first state below FIN_WAIT1; the owning task is recorded at SYN_SENT (client) and
// LAST_ACK (server closing); the record goes out at CLOSE with bytes from the tcp_sock.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "tools.bpf.h"
#include "events.bpf.h"
#include "tcplife.h"
#include "ports.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_SYN_SENT 2
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9

char LICENSE[] SEC("license") = "GPL";

/* keeps struct event in the object's BTF: the front end decodes records with it */
const struct event *unused_event __attribute__((unused));

const volatile __u32 targ_pid = 0;
const volatile __u16 target_family = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} birth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct ident);
} idents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int tp_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	__u16 family = ctx->family;
	int newstate = ctx->newstate;
	__u64 *start, ts, delta_us;
	struct ident *id, me = {};
	struct event *e;

	/* keep clang from re-reading ctx at a computed offset (the verifier refuses that) */
	barrier_var(newstate);
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (target_family && target_family != family)
		return 0;
	if (!ports_allowed(ctx->sport, ctx->dport))
		return 0;

	if (newstate < TCP_FIN_WAIT1) {
		ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&birth, &sk, &ts, BPF_NOEXIST);
	}
	if (newstate == TCP_SYN_SENT || newstate == TCP_LAST_ACK) {
		me.pid = bpf_get_current_pid_tgid() >> 32;
		if (targ_pid && targ_pid != me.pid)
			return 0;
		if (!cgroup_allowed())
			return 0;
		me.cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(me.comm, sizeof(me.comm));
		bpf_map_update_elem(&idents, &sk, &me, BPF_ANY);
	}
	if (newstate != TCP_CLOSE)
		return 0;

	start = bpf_map_lookup_elem(&birth, &sk);
	if (!start) {
		bpf_map_delete_elem(&idents, &sk);
		return 0;
	}
	ts = bpf_ktime_get_ns();
	delta_us = (ts - *start) / 1000;
	bpf_map_delete_elem(&birth, &sk);

	id = bpf_map_lookup_elem(&idents, &sk);
	if (!id) {
		/* no task seen at SYN_SENT/LAST_ACK: the current one closes it */
		me.pid = bpf_get_current_pid_tgid() >> 32;
		if (targ_pid && targ_pid != me.pid)
			return 0;
		if (!cgroup_allowed())
			return 0;
		me.cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(me.comm, sizeof(me.comm));
		id = &me;
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		goto cleanup;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_us = ts / 1000;
	e->span_us = delta_us;
	e->pid = id->pid;
	e->cgroup_id = id->cgroup_id;
	__builtin_memcpy(e->comm, id->comm, sizeof(e->comm));
	e->rx_b = BPF_CORE_READ((struct tcp_sock *)sk, bytes_received);
	e->tx_b = BPF_CORE_READ((struct tcp_sock *)sk, bytes_acked);
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	e->family = family;
	if (family == AF_INET) {
		bpf_probe_read_kernel(e->saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e->daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
	}
	bpf_ringbuf_submit(e, wakeup_flags(&events));
cleanup:
	bpf_map_delete_elem(&idents, &sk);
	return 0;
}

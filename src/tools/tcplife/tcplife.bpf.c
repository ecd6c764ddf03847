// tcplife: TCP sessions with their lifetime and bytes in and out, from sock/inet_sock_set_state.
// Birth is the first state below FIN_WAIT1; the owning task is recorded at SYN_SENT (client) and
// LAST_ACK (server closing); the record goes out at CLOSE with bytes from the tcp_sock.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "tools.bpf.h"
#include "events.bpf.h"
#include "tcplife.h"
#include "tcp_state.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* keeps struct event in the object's BTF: the front end decodes records with it */
const struct event *unused_event __attribute__((unused));

DEFINE_MAP(birth, BPF_MAP_TYPE_LRU_HASH, __u64, __u64, 65536);

DEFINE_MAP(idents, BPF_MAP_TYPE_LRU_HASH, __u64, struct ident, 65536);

DEFINE_RINGBUF(events, 4 * 1024 * 1024);

/* The current task as the socket's owner, when it passes the task filters. */
static __always_inline bool current_ident(struct ident *me)
{
	if (!tcp_task_allowed(&me->pid))
		return false;
	me->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(me->comm, sizeof(me->comm));
	return true;
}

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
	if (!tcp_socket_allowed(ctx, family))
		return 0;

	if (newstate < TCP_FIN_WAIT1) {
		ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&birth, &sk, &ts, BPF_NOEXIST);
	}
	if (newstate == TCP_SYN_SENT || newstate == TCP_LAST_ACK) {
		if (!current_ident(&me))
			return 0;
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
		if (!current_ident(&me))
			return 0;
		id = &me;
	}

	e = reserve_record(&events, sizeof(*e));
	if (!e)
		goto cleanup;
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
	read_tcp_addrs(ctx, family, e->saddr, e->daddr);
	bpf_ringbuf_submit(e, wakeup_flags(&events));
cleanup:
	bpf_map_delete_elem(&idents, &sk);
	return 0;
}

// tcpstates: every TCP state change with the time spent in the previous state.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tools.bpf.h"
#include "events.bpf.h"
#include "tcpstates.h"
#include "tcp_state.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* keeps struct event in the object's BTF: the front end decodes records with it */
const struct event *unused_event __attribute__((unused));

/* sk -> time of its last state change */
DEFINE_MAP(timestamps, BPF_MAP_TYPE_LRU_HASH, __u64, __u64, 65536);

DEFINE_RINGBUF(events, 4 * 1024 * 1024);

SEC("tracepoint/sock/inet_sock_set_state")
int tp_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	__u16 family = ctx->family;
	__u64 *last, ts;
	__u32 pid;
	struct event *e;

	if (!tcp_socket_allowed(ctx, family) || !tcp_task_allowed(&pid))
		return 0;

	ts = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&timestamps, &sk);
	e = reserve_record(&events, sizeof(*e));
	if (!e)
		goto out;
	e->skaddr = sk;
	e->ts_us = ts / 1000;
	e->delta_us = last ? (ts - *last) / 1000 : 0;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = pid;
	e->oldstate = ctx->oldstate;
	e->newstate = ctx->newstate;
	e->family = family;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	read_tcp_addrs(ctx, family, e->saddr, e->daddr);
	bpf_ringbuf_submit(e, wakeup_flags(&events));
out:
	if (ctx->newstate == TCP_CLOSE)
		bpf_map_delete_elem(&timestamps, &sk);
	else
		bpf_map_update_elem(&timestamps, &sk, &ts, BPF_ANY);
	return 0;
}

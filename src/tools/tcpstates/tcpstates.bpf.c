// tcpstates: every TCP state change with the time spent in the previous state.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tools.bpf.h"
#include "events.bpf.h"
#include "tcpstates.h"
#include "ports.bpf.h"

#define AF_INET 2
#define IPPROTO_TCP 6
#define TCP_CLOSE 7

char LICENSE[] SEC("license") = "GPL";

/* keeps struct event in the object's BTF: the front end decodes records with it */
const struct event *unused_event __attribute__((unused));

const volatile __u32 targ_pid = 0;
const volatile __u16 target_family = 0;

/* sk -> time of its last state change */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} timestamps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int tp_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	__u16 family = ctx->family;
	__u64 *last, ts;
	__u32 pid;
	struct event *e;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (target_family && target_family != family)
		return 0;
	if (!ports_allowed(ctx->sport, ctx->dport))
		return 0;
	pid = bpf_get_current_pid_tgid() >> 32;
	if (targ_pid && targ_pid != pid)
		return 0;
	if (!cgroup_allowed())
		return 0;

	ts = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&timestamps, &sk);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		goto out;
	}
	__builtin_memset(e, 0, sizeof(*e));
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
	if (family == AF_INET) {
		bpf_probe_read_kernel(e->saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e->daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
	}
	bpf_ringbuf_submit(e, wakeup_flags(&events));
out:
	if (ctx->newstate == TCP_CLOSE)
		bpf_map_delete_elem(&timestamps, &sk);
	else
		bpf_map_update_elem(&timestamps, &sk, &ts, BPF_ANY);
	return 0;
}

// The seed's worked example, on a hook every kernel has: print "PID <pid> -> <a.b.c.d>:<port>" for each
// outgoing IPv4 TCP connect. The seed hooks kprobe/tcp_v4_connect; kernels without kprobes (or where
// kprobes are restricted) still have the sock:inet_sock_set_state tracepoint, and its CLOSE -> SYN_SENT
// transition runs in the task that called connect(), so the PID is the connecting process's.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define AF_INET 2
#define IPPROTO_TCP 6
#define TCP_SYN_SENT 2

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_connect(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->newstate != TCP_SYN_SENT || ctx->family != AF_INET || ctx->protocol != IPPROTO_TCP)
		return 0;

	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 daddr;
	__builtin_memcpy(&daddr, ctx->daddr, sizeof(daddr));
	/* The tracepoint already holds dport in host byte order. */
	bpf_printk("PID %d -> %pI4:%d\n", pid, &daddr, ctx->dport);
	return 0;
}

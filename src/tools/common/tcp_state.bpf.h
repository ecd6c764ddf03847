/* What tcplife and tcpstates share of sock/inet_sock_set_state: the TCP states they look for, the
 * filters on the socket (family, ports) and on the task (pid here, cgroup in tools.bpf.h), and the
 * addresses copied into a record. Include after tools.bpf.h and the tool's header (MAX_PORTS). */
#ifndef __TSBPF_TCP_STATE_BPF_H
#define __TSBPF_TCP_STATE_BPF_H

#include "ports.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
/* values of the kernel's TCP states (include/net/tcp_states.h) */
#define TCP_SYN_SENT 2
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9

const volatile __u32 targ_pid = 0;
const volatile __u16 target_family = 0;

/* A TCP socket of the family and ports asked for (`family` read by the caller: tcplife keeps clang
 * from reading ctx again). */
static __always_inline bool tcp_socket_allowed(struct trace_event_raw_inet_sock_set_state *ctx, __u16 family)
{
	if (ctx->protocol != IPPROTO_TCP)
		return false;
	if (target_family && target_family != family)
		return false;
	return ports_allowed(ctx->sport, ctx->dport);
}

/* The current task passes the pid and cgroup filters; its process id goes to *pid. */
static __always_inline bool tcp_task_allowed(__u32 *pid)
{
	*pid = bpf_get_current_pid_tgid() >> 32;
	if (targ_pid && targ_pid != *pid)
		return false;
	return cgroup_allowed();
}

/* The socket's addresses into a record: the first 4 bytes for IPv4, all 16 for IPv6. */
static __always_inline void read_tcp_addrs(struct trace_event_raw_inet_sock_set_state *ctx, __u16 family, __u8 *saddr, __u8 *daddr)
{
	if (family == AF_INET) {
		bpf_probe_read_kernel(saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(daddr, 16, ctx->daddr_v6);
	}
}

#endif

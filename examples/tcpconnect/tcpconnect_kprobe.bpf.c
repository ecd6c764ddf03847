// The seed's worked example in its kprobe form, made right: "PID <pid> -> <a.b.c.d>:<port>" for each
// IPv4 TCP connect, from a kprobe on tcp_v4_connect(struct sock *sk, struct sockaddr *uaddr, int len).
// At the function's entry the socket's destination is not set yet (tcp_v4_connect sets it), so the
// address is read from `uaddr`, the sockaddr that connect() was given. Kernels built without
// CONFIG_KPROBES refuse the attach: use tcpconnect.bpf.o (the sock:inet_sock_set_state tracepoint).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_connect, struct sock *sk, struct sockaddr *uaddr)
{
	struct sockaddr_in sin = {};

	if (bpf_probe_read_kernel(&sin, sizeof(sin), uaddr) || sin.sin_family != AF_INET)
		return 0;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	bpf_printk("PID %d -> %pI4:%d\n", pid, &sin.sin_addr.s_addr, bpf_ntohs(sin.sin_port));
	return 0;
}

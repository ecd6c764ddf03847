// Why the seed's listing prints "PID <pid> -> 0.0.0.0:0": it reads the destination from the socket
// (sk->__sk_common.skc_daddr, skc_dport) at the entry of tcp_v4_connect, and tcp_v4_connect is the
// function that stores the destination there. This is that program, kept to show it: tsbpf runs it
// faithfully and prints what libbpf prints for it. tcpconnect_kprobe.bpf.c is the kprobe form that
// reports the real destination.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_connect, struct sock *sk)
{
	__u32 daddr = 0;
	__u16 dport = 0;

	bpf_probe_read_kernel(&daddr, sizeof(daddr), &sk->__sk_common.skc_daddr);
	bpf_probe_read_kernel(&dport, sizeof(dport), &sk->__sk_common.skc_dport);
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	bpf_printk("PID %d -> %pI4:%d\n", pid, &daddr, bpf_ntohs(dport));
	return 0;
}

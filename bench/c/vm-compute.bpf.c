// Programs for the vm-jit benchmark: compute-heavy work the kernel can test-run (XDP).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Sieve of Eratosthenes over [0, 2048) with a bitmap on the stack; returns the number of primes. */
SEC("xdp") int sieve(struct xdp_md *ctx)
{
	__u64 bits[32] = {};
	__u32 count = 0;
	for (__u32 i = 2; i < 2048; i++) {
		if (bits[(i >> 6) & 31] & (1ULL << (i & 63)))
			continue;
		count++;
		for (__u32 j = i * i; j < 2048; j += i)
			bits[(j >> 6) & 31] |= 1ULL << (j & 63);
	}
	return count;
}

/* Ones'-complement checksum over the first 1 KiB of the packet. */
SEC("xdp") int csum1k(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 1024 > end)
		return 0;
	__u64 sum = 0;
	for (int i = 0; i < 128; i++)
		sum += ((__u64 *)data)[i] & 0xffffffff, sum += ((__u64 *)data)[i] >> 32;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* A parser with many branches: classify a packet into one of ~20 buckets. */
SEC("xdp") int classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return 0;
	__u16 proto = eth->h_proto;
	void *l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		if (l3 + 4 > end)
			return 1;
		proto = *(__u16 *)(l3 + 2);
		l3 += 4;
	}
	__u8 l4proto;
	void *l4;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > end)
			return 2;
		if (ip->ihl < 5)
			return 3;
		if (ip->frag_off & bpf_htons(0x3fff))
			return 4;
		l4proto = ip->protocol;
		l4 = (void *)ip + (ip->ihl & 0xf) * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > end)
			return 5;
		l4proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else if (proto == bpf_htons(ETH_P_ARP)) {
		return 6;
	} else {
		return 7;
	}
	if (l4proto == IPPROTO_TCP) {
		struct tcphdr *t = l4;
		if ((void *)(t + 1) > end)
			return 8;
		__u16 d = bpf_ntohs(t->dest);
		if (t->syn && !t->ack)
			return 9;
		if (d == 80 || d == 8080)
			return 10;
		if (d == 443)
			return 11;
		if (d == 22)
			return 12;
		return d < 1024 ? 13 : 14;
	}
	if (l4proto == IPPROTO_UDP) {
		struct udphdr *u = l4;
		if ((void *)(u + 1) > end)
			return 15;
		__u16 d = bpf_ntohs(u->dest);
		if (d == 53)
			return 16;
		if (d == 123)
			return 17;
		return d < 1024 ? 18 : 19;
	}
	return l4proto == IPPROTO_ICMP ? 20 : 21;
}

char LICENSE[] SEC("license") = "GPL";

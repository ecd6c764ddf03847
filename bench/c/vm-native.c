// The limit for the `vm-jit` benchmark: the compute programs of vm-compute.bpf.c compiled natively
// by clang -O2 and run in this process, on the packet the benchmark writes to stdin, each REPEAT
// times per round; prints "name ns_per_run" (the minimum over ROUNDS rounds of the mean), a line each.
//
//   vm-native REPEAT ROUNDS NAME... < packet
//
// The BPF source is included unchanged: xdp_md's u32 data pointers become native ones (the kernel
// converts them too), and the programs are called through a volatile pointer, so the compiler can
// neither inline them nor hoist their work out of the repeat loop.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define xdp_md native_xdp_md
struct native_xdp_md {
	unsigned long data, data_end, data_meta;
	__u32 ingress_ifindex, rx_queue_index, egress_ifindex;
};
#include "vm-compute.bpf.c"

typedef int (*prog_fn)(struct native_xdp_md *);
static const struct { const char *name; prog_fn fn; } progs[] = {
	{"sieve", sieve}, {"csum1k", csum1k}, {"classify", classify},
};

static double now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

int main(int argc, char **argv) {
	long repeat = atol(argv[1]);
	int rounds = atoi(argv[2]);
	static unsigned char pkt[65536];
	size_t len = fread(pkt, 1, sizeof(pkt), stdin);
	struct native_xdp_md ctx = { .data = (unsigned long)pkt, .data_end = (unsigned long)pkt + len };
	for (int a = 3; a < argc; a++) {
		prog_fn volatile fn = NULL;
		for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) if (!strcmp(progs[i].name, argv[a])) fn = progs[i].fn;
		if (!fn) { fprintf(stderr, "no program %s\n", argv[a]); return 1; }
		int r = 0;
		double ns[64];
		if (rounds > 64) rounds = 64;
		for (int k = 0; k < rounds; k++) {
			double t0 = now_ns();
			for (long i = 0; i < repeat; i++) r = fn(&ctx);
			ns[k] = (now_ns() - t0) / repeat;
		}
		printf("%s %d", argv[a], r);
		for (int k = 0; k < rounds; k++) printf(" %.3f", ns[k]);
		printf("\n");
	}
	return 0;
}

// Reference for the `map` benchmark: ns per bpf_map_lookup_elem / bpf_map_update_elem on a hash map
// with an 8-byte key and a 64-byte value. Prints "lookup_ns update_ns".
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_map", 8, 64, 1024, NULL);
	if (fd < 0) { perror("bpf_map_create"); return 1; }
	unsigned long long key;
	unsigned char value[64];
	memset(value, 7, sizeof(value));
	for (key = 0; key < 1024; key++) bpf_map_update_elem(fd, &key, value, BPF_ANY);
	double t0 = now_ns();
	for (long i = 0; i < n; i++) { key = i & 1023; bpf_map_update_elem(fd, &key, value, BPF_ANY); }
	double t1 = now_ns();
	for (long i = 0; i < n; i++) { key = i & 1023; bpf_map_lookup_elem(fd, &key, value); }
	double t2 = now_ns();
	printf("%.1f %.1f\n", (t2 - t1) / n, (t1 - t0) / n);
	return 0;
}

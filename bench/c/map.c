// Reference for the `map` benchmark: libbpf on a hash map of ENTRIES entries (8-byte keys, 64-byte
// values), filled first; then CPU time (getrusage) per operation over OPS operations each:
// bpf_map_update_elem, bpf_map_lookup_elem (keys in a scattered order), bpf_map_lookup_batch of the
// whole map 256 at a time and bpf_map_update_batch 256 at a time (per entry).
//
//   map ENTRIES OPS   → "update_ns lookup_ns batch_lookup_ns batch_update_ns"
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define BATCH 256

static double cpu_ns(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

int main(int argc, char **argv) {
	long entries = atol(argv[1]), ops = atol(argv[2]);
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_map", 8, 64, entries, NULL);
	if (fd < 0) { perror("bpf_map_create"); return 1; }
	unsigned long long key;
	unsigned char value[64];
	memset(value, 7, sizeof(value));
	for (key = 0; key < (unsigned long long)entries; key++) bpf_map_update_elem(fd, &key, value, BPF_ANY);
	/* the same scattered order on every side: 7919 is prime, so i*7919 mod N visits every key */
#define KEY_AT(i) ((unsigned long long)(i) * 7919 % entries)

	double t = cpu_ns();
	for (long i = 0; i < ops; i++) { key = KEY_AT(i); if (bpf_map_update_elem(fd, &key, value, BPF_ANY)) return 1; }
	double update = cpu_ns() - t;

	t = cpu_ns();
	for (long i = 0; i < ops; i++) { key = KEY_AT(i); if (bpf_map_lookup_elem(fd, &key, value)) return 1; }
	double lookup = cpu_ns() - t;

	static unsigned long long keys[BATCH];
	static unsigned char values[BATCH][64];
	long read = 0;
	t = cpu_ns();
	while (read < ops) {
		unsigned long long cursor;
		for (int first = 1;; first = 0) {
			__u32 n = BATCH;
			int err = bpf_map_lookup_batch(fd, first ? NULL : &cursor, &cursor, keys, values, &n, NULL);
			read += n;
			if (err && errno == ENOENT) break;
			if (err) { perror("bpf_map_lookup_batch"); return 1; }
		}
	}
	double batch_lookup = cpu_ns() - t;

	long written = 0;
	t = cpu_ns();
	while (written < ops) {
		for (int j = 0; j < BATCH; j++) keys[j] = KEY_AT(written + j);
		__u32 n = BATCH;
		if (bpf_map_update_batch(fd, keys, values, &n, NULL)) { perror("bpf_map_update_batch"); return 1; }
		written += n;
	}
	double batch_update = cpu_ns() - t;
	printf("%.1f %.1f %.1f %.1f\n", update / ops, lookup / ops, batch_lookup / read, batch_update / written);
	return 0;
}

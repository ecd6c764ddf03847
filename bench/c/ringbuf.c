// Reference consumer for the `ringbuf` and `perfbuf` benchmarks: libbpf's ring_buffer / perf_buffer
// on a map pinned by the benchmark, summing each record's first u64 (the producer's sequence number).
//
//   ringbuf ring|perf PIN [PERF_PAGES]
//
// The protocol of every consumer of the benchmark (bench/go/ringbuf/main.go says it in full):
// "ready"; then "drain N" (read the N records waiting, print "count sum wall_ns cpu_ns", wait for
// the next line), or "go", N, and the same line once N records have been read.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static long long count, sum;
static _Atomic long long target;
static long long t0, cpu0;

static long long now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
static long long cpu_ns(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static void result(void) {
	printf("%lld %lld %lld %lld\n", count, sum, now_ns() - t0, cpu_ns() - cpu0);
	fflush(stdout);
}

static inline void record(const void *data) {
	unsigned long long seq;
	memcpy(&seq, data, 8);
	sum += seq;
	count++;
}

static int on_ring(void *ctx, void *data, size_t size) { record(data); return 0; }
static void on_perf(void *ctx, int cpu, void *data, __u32 size) { record(data); }

/* stdin while following: the number of records to expect; the main loop polls with a timeout and looks at it */
static void *read_target(void *arg) {
	char line[64];
	if (fgets(line, sizeof(line), stdin)) atomic_store(&target, atoll(line));
	return NULL;
}

int main(int argc, char **argv) {
	libbpf_set_print(NULL);
	int fd = bpf_obj_get(argv[2]);
	if (fd < 0) { perror("bpf_obj_get"); return 1; }
	int perf = !strcmp(argv[1], "perf");
	struct ring_buffer *rb = NULL;
	struct perf_buffer *pb = NULL;
	if (perf) pb = perf_buffer__new(fd, argc > 3 ? atoi(argv[3]) : 8, on_perf, NULL, NULL, NULL);
	else rb = ring_buffer__new(fd, on_ring, NULL, NULL);
	if (!rb && !pb) { perror("ring_buffer__new/perf_buffer__new"); return 1; }
	printf("ready\n");
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		count = sum = 0;
		t0 = now_ns();
		cpu0 = cpu_ns();
		if (!strncmp(line, "drain ", 6)) {
			long long n = atoll(line + 6);
			while (count < n) {
				if (perf) perf_buffer__consume(pb);
				else ring_buffer__consume(rb);
			}
			result();
			continue;
		}
		pthread_t th;
		pthread_create(&th, NULL, read_target, NULL);
		for (;;) {
			if (perf) perf_buffer__poll(pb, 20);
			else ring_buffer__poll(rb, 20);
			long long t = atomic_load(&target);
			if (t > 0 && count >= t) break;
		}
		result();
		return 0;
	}
	return 0;
}

// Reference consumer for the `ringbuf` benchmark: libbpf's ring_buffer__poll on the map pinned at argv[1],
// for argv[2] seconds. Prints "consumed seconds".
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned long long consumed;
static int on_record(void *ctx, void *data, size_t size) { consumed++; return 0; }
static double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
	int fd = bpf_obj_get(argv[1]);
	if (fd < 0) { perror("bpf_obj_get"); return 1; }
	double secs = argc > 2 ? atof(argv[2]) : 2;
	struct ring_buffer *rb = ring_buffer__new(fd, on_record, NULL, NULL);
	if (!rb) { perror("ring_buffer__new"); return 1; }
	printf("ready\n");
	fflush(stdout);
	double start = now_s(), end = start + secs;
	while (now_s() < end) ring_buffer__poll(rb, 100);
	ring_buffer__consume(rb);
	printf("%llu %.3f\n", consumed, now_s() - start);
	return 0;
}

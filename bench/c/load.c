// Reference for the `load` benchmark: libbpf opens, loads and attaches an object N times.
// Prints the median microseconds of open+load+attach (detach and close are not timed).
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int quiet(enum libbpf_print_level l, const char *f, va_list a) { return 0; }

int main(int argc, char **argv) {
	int n = argc > 2 ? atoi(argv[2]) : 20;
	libbpf_set_print(quiet);
	double times[256];
	if (n > 256) n = 256;
	for (int i = 0; i < n; i++) {
		double start = now_us();
		struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
		if (!obj || bpf_object__load(obj)) { fprintf(stderr, "load failed\n"); return 1; }
		struct bpf_program *p;
		struct bpf_link *links[64];
		int nl = 0;
		bpf_object__for_each_program(p, obj) {
			links[nl] = bpf_program__attach(p);
			if (!links[nl]) { fprintf(stderr, "attach failed: %s\n", bpf_program__name(p)); return 1; }
			nl++;
		}
		times[i] = now_us() - start;
		for (int j = 0; j < nl; j++) bpf_link__destroy(links[j]);
		bpf_object__close(obj);
	}
	for (int i = 1; i < n; i++) /* insertion sort: n is small */
		for (int j = i; j > 0 && times[j - 1] > times[j]; j--) { double t = times[j]; times[j] = times[j - 1]; times[j - 1] = t; }
	printf("%.1f\n", times[n / 2]);
	return 0;
}

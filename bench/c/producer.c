// Producer for the `ringbuf` benchmark: calls getppid() in a loop for argv[1] seconds, after a line
// on stdin says go; argv[2] (optional) paces it to that many calls per second. Prints the number of calls.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
	double secs = argc > 1 ? atof(argv[1]) : 2;
	double rate = argc > 2 ? atof(argv[2]) : 0;
	char line[16];
	if (!fgets(line, sizeof(line), stdin)) return 1;
	double start = now(), end = start + secs;
	unsigned long long n = 0;
	for (;;) {
		for (int i = 0; i < 100; i++) getppid();
		n += 100;
		double t = now();
		if (t >= end) break;
		if (rate > 0) while (n > (t - start) * rate && t < end) t = now();
	}
	printf("%llu\n", n);
	return 0;
}

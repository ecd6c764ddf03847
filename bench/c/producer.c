// Producer for the `ringbuf` benchmark: calls getppid() in a tight loop for argv[1] seconds, after a
// line on stdin says go. Prints the number of calls.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	double secs = argc > 1 ? atof(argv[1]) : 2;
	char line[16];
	if (!fgets(line, sizeof(line), stdin)) return 1;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double end = t.tv_sec + t.tv_nsec / 1e9 + secs;
	unsigned long long n = 0;
	for (;;) {
		for (int i = 0; i < 1000; i++) getppid();
		n += 1000;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec + t.tv_nsec / 1e9 >= end) break;
	}
	printf("%llu\n", n);
	return 0;
}

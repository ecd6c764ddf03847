// Producer for the `ringbuf` and `perfbuf` benchmarks: THREADS threads call getppid() (each call
// one record from the benchmark's tracepoint program). Each line on stdin, "RATE SECONDS COUNT",
// is one run: until COUNT calls in all (0: no limit) or SECONDS have passed, paced at RATE calls per
// second for all threads together (0: flat out); the run prints its number of calls. A paced
// thread calls in small batches (about one every 50 µs) with absolute sleeps in between, so records
// arrive evenly, and the CPU is left to the consumer instead of spinning.
//
//   producer THREADS
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int threads;
static double rate, secs;
static long long count;
static struct timespec start;

static double since(const struct timespec *t0) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

struct worker {
	pthread_t th;
	long long done;
	char pad[48]; /* a cache line each */
};

static void *run(void *arg) {
	struct worker *w = arg;
	long long mine = count ? count / threads : -1;
	double per = rate / threads;
	int batch = per > 0 ? (int)(per / 20000) + 1 : 100;
	prctl(PR_SET_TIMERSLACK, 1UL); /* sleeps end on time, not up to 50 µs late */
	while (mine < 0 || w->done < mine) {
		int b = batch;
		if (mine >= 0 && mine - w->done < b) b = mine - w->done;
		for (int i = 0; i < b; i++) getppid();
		w->done += b;
		double t = since(&start);
		if (t >= secs) break;
		if (per > 0 && w->done > t * per) {
			double at = w->done / per; /* when this thread is due for its next batch */
			struct timespec ts = start;
			ts.tv_sec += (time_t)at;
			ts.tv_nsec += (long)((at - (time_t)at) * 1e9);
			if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
	}
	return NULL;
}

int main(int argc, char **argv) {
	threads = argc > 1 ? atoi(argv[1]) : 1;
	if (threads < 1 || threads > 64) return 2;
	struct worker w[64];
	while (scanf("%lf %lf %lld", &rate, &secs, &count) == 3) {
		clock_gettime(CLOCK_MONOTONIC, &start);
		for (int i = 0; i < threads; i++) w[i].done = 0, pthread_create(&w[i].th, NULL, run, &w[i]);
		long long total = 0;
		for (int i = 0; i < threads; i++) pthread_join(w[i].th, NULL), total += w[i].done;
		printf("%lld\n", total);
		fflush(stdout);
	}
	return 0;
}

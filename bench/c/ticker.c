// Event source for the `startup` benchmark: every MS milliseconds, one event a tracer can see —
//   ticker exec MS         fork + execve("/bin/true", ["true", "tsbpf-startup-tick"])
//   ticker connect MS PORT [N]  N TCP connects (default 1) to 127.0.0.1:PORT (closed: the SYN is
//                          sent, a RST comes back); the ticks are paced on absolute times
// The process is named tsbpf-tick (what tcpconnect prints as its COMM).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	prctl(PR_SET_NAME, "tsbpf-tick");
	prctl(PR_SET_TIMERSLACK, 1UL);
	long ms = atol(argv[2]);
	int per = argc > 4 ? atoi(argv[4]) : 1;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(argc > 3 ? atoi(argv[3]) : 9);
	for (;;) {
		if (!strcmp(argv[1], "exec")) {
			pid_t p = fork();
			if (p == 0) {
				execl("/bin/true", "true", "tsbpf-startup-tick", (char *)NULL);
				_exit(127);
			}
			waitpid(p, NULL, 0);
		} else {
			for (int i = 0; i < per; i++) {
				int s = socket(AF_INET, SOCK_STREAM, 0);
				connect(s, (void *)&a, sizeof(a));
				close(s);
			}
		}
		next.tv_nsec += ms * 1000000L;
		while (next.tv_nsec >= 1000000000L) next.tv_sec++, next.tv_nsec -= 1000000000L;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}

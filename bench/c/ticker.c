// Event source for the `startup` benchmark: every MS milliseconds, one event a tracer can see —
//   ticker exec MS         fork + execve("/bin/true", ["true", "tsbpf-startup-tick"])
//   ticker connect MS PORT a TCP connect to 127.0.0.1:PORT (closed: the SYN is sent, a RST comes back)
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
	long ms = atol(argv[2]);
	struct timespec gap = { ms / 1000, (ms % 1000) * 1000000L };
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
			int s = socket(AF_INET, SOCK_STREAM, 0);
			connect(s, (void *)&a, sizeof(a));
			close(s);
		}
		nanosleep(&gap, NULL);
	}
}

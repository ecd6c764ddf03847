// A C connect loop for the load test: node's per-socket overhead caps it far below what the kernel
// does (about 15,000-20,000 connects/s on this machine). Compiled with gcc at test time.
//   connloop serve PORTFILE       listen on 127.0.0.1:0, write the port to PORTFILE, accept and reset forever
//   connloop connect PORT N NAME  N sequential connects; prints each source port (a failed one as
//                                 "!PORT ERRNO": it was still a connect); comm = NAME
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const SOURCE = `
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void reset_close(int fd) {
  struct linger l = { 1, 0 };
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

int main(int argc, char **argv) {
  struct sockaddr_in a = { .sin_family = AF_INET };
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (argc == 3 && !strcmp(argv[1], "serve")) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (void *)&a, sizeof(a)) || listen(s, 4096)) { perror("listen"); return 1; }
    socklen_t len = sizeof(a);
    getsockname(s, (void *)&a, &len);
    FILE *f = fopen(argv[2], "w");
    fprintf(f, "%d\\n", ntohs(a.sin_port));
    fclose(f);
    for (;;) { int c = accept(s, NULL, NULL); if (c >= 0) reset_close(c); }
  }
  if (argc == 5 && !strcmp(argv[1], "connect")) {
    prctl(PR_SET_NAME, argv[4]);
    a.sin_port = htons(atoi(argv[2]));
    long n = atol(argv[3]), fails = 0;
    char *buf = malloc(n * 12 + 64), *p = buf;
    for (long i = 0; i < n; i++) {
      int s = socket(AF_INET, SOCK_STREAM, 0);
      int bad = connect(s, (void *)&a, sizeof(a)) ? errno : 0;
      struct sockaddr_in me = { 0 }; socklen_t len = sizeof(me);
      getsockname(s, (void *)&me, &len);
      if (bad) { fails++; p += sprintf(p, "!%d %d\\n", ntohs(me.sin_port), bad); close(s); continue; }
      p += sprintf(p, "%d\\n", ntohs(me.sin_port));
      reset_close(s);
    }
    fwrite(buf, 1, p - buf, stdout);
    fprintf(stdout, "fails %ld\\n", fails);
    return 0;
  }
  fprintf(stderr, "usage: connloop serve PORTFILE | connect PORT N NAME\\n");
  return 2;
}
`;

const built = new Map<string, string>();

/** Compiles a C source with gcc once per process; returns the binary's path. */
export function compileC(name: string, source: string, flags: string[] = ['-O2'], libs: string[] = []): string {
  const have = built.get(name);
  if (have) return have;
  const dir = mkdtempSync(join(tmpdir(), `tsbpf-${name}-`));
  writeFileSync(join(dir, `${name}.c`), source);
  execFileSync('gcc', [...flags, '-o', join(dir, name), join(dir, `${name}.c`), ...libs]);
  built.set(name, join(dir, name));
  return join(dir, name);
}

/** Path of the compiled connloop binary. */
export function connloop(): string {
  return compileC('connloop', SOURCE);
}

/** sleeper N NAME: set comm, read one byte of stdin, then N times sleep 1 ms (one wakeup each). */
export function sleeper(): string {
  return compileC(
    'sleeper',
    `#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  prctl(PR_SET_NAME, argv[2]);
  char c;
  if (read(0, &c, 1) != 1) return 1;
  struct timespec ts = { 0, 1000000 };
  for (long i = 0, n = atol(argv[1]); i < n; i++) nanosleep(&ts, NULL);
  return 0;
}
`,
  );
}

/**
 * sysloop N NAME: set comm, read one byte of stdin, then N times getppid() and N/2 times close(-1)
 * (EBADF) through syscall(2), so the counts are exact.
 */
export function sysloop(): string {
  return compileC(
    'sysloop',
    `#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  prctl(PR_SET_NAME, argv[2]);
  char c;
  if (read(0, &c, 1) != 1) return 1;
  long n = atol(argv[1]);
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  for (long i = 0; i < n / 2; i++) syscall(SYS_close, -1);
  return 0;
}
`,
  );
}

/**
 * cpuhog MODE SECONDS NAME: burn CPU in spin_outer() -> spin_inner() (MODE user) or in getppid()
 * syscalls (MODE sys) after reading one byte of stdin. -O0: every function keeps its frame pointer
 * (gcc drops it in leaf functions even with -fno-omit-frame-pointer), so user stacks unwind.
 */
export function cpuhog(): string {
  return compileC(
    'cpuhog',
    `#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
volatile unsigned long sink;
__attribute__((noinline)) void spin_inner(void) { for (int i = 0; i < 100000; i++) sink += i * 7; }
__attribute__((noinline)) void spin_outer(void) { spin_inner(); }
__attribute__((noinline)) void sys_spin(void) { for (int i = 0; i < 1000; i++) syscall(SYS_getppid); }
int main(int argc, char **argv) {
  prctl(PR_SET_NAME, argv[3]);
  char c;
  if (read(0, &c, 1) != 1) return 1;
  double end = now() + atof(argv[2]);
  int user = !strcmp(argv[1], "user");
  while (now() < end) { if (user) spin_outer(); else sys_spin(); }
  return 0;
}
`,
    ['-O0', '-fno-omit-frame-pointer'],
  );
}

/** execstorm N: after one byte of stdin, N times fork + execve("/bin/true", "storm", i) + wait. */
export function execstorm(): string {
  return compileC(
    'execstorm',
    `#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char c, num[32];
  if (read(0, &c, 1) != 1) return 1;
  for (long i = 0, n = atol(argv[1]); i < n; i++) {
    snprintf(num, sizeof(num), "%ld", i);
    pid_t p = fork();
    if (p == 0) { char *args[] = { "/bin/true", "storm", num, NULL }; execv(args[0], args); _exit(127); }
    int st;
    waitpid(p, &st, 0);
  }
  return 0;
}
`,
  );
}

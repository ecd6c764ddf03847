// A minimal libbpf loader, what the seed's loader.c does for any object: open, load, attach every
// program where its SEC() says, then wait for Ctrl+C. The reference for "tsbpf does what libbpf does".
export const LIBBPF_RUN = String.raw`
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  if (argc != 2) { fprintf(stderr, "usage: %s OBJECT\n", argv[0]); return 2; }
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (libbpf_get_error(obj)) { fprintf(stderr, "open %s failed\n", argv[1]); return 1; }
  if (bpf_object__load(obj)) { fprintf(stderr, "load failed\n"); return 1; }
  struct bpf_program *p;
  bpf_object__for_each_program(p, obj) {
    struct bpf_link *l = bpf_program__attach(p);
    if (libbpf_get_error(l)) { fprintf(stderr, "attach %s failed\n", bpf_program__name(p)); return 1; }
  }
  printf("attached\n");
  fflush(stdout);
  while (!stop) usleep(50000);
  bpf_object__close(obj);
  return 0;
}
`;

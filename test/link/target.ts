// A tiny C program the link tests trigger events with (built once per machine into the temp dir).
// Modes: getpid N | call N (calls tsbpf_target N times) | spin MS | exec (re-execs itself as "true").
// It waits for a line on stdin first, so a test can set up filters with the child's pid before it runs.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
__attribute__((noinline)) int tsbpf_target(int x) { __asm__ volatile("" ::: "memory"); return x * 2; }
int main(int argc, char **argv) {
  char line[16];
  if (argc < 3) return 2;
  if (!fgets(line, sizeof line, stdin)) return 3;
  long n = atol(argv[2]);
  if (!strcmp(argv[1], "getpid")) { for (long i = 0; i < n; i++) syscall(SYS_getpid); }
  else if (!strcmp(argv[1], "call")) { volatile int s = 0; for (long i = 0; i < n; i++) s += tsbpf_target((int)i); }
  else if (!strcmp(argv[1], "spin")) {
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b); while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < n);
  } else if (!strcmp(argv[1], "exec")) { execl("/bin/true", "true", (char *)0); return 4; }
  return 0;
}
`;

export function targetBinary(): string {
  const hash = createHash('sha256').update(SOURCE).digest('hex').slice(0, 12);
  const bin = join(tmpdir(), `tsbpf-target-${hash}`);
  if (!existsSync(bin)) {
    const src = `${bin}.c`;
    writeFileSync(src, SOURCE);
    execFileSync('gcc', ['-O1', '-o', `${bin}.tmp`, src]);
    execFileSync('mv', [`${bin}.tmp`, bin]);
  }
  return bin;
}

/**
 * Start the target; `beforeRun(pid)` runs before it is released (set filters there). Resolves with
 * the child's pid once it has exited successfully.
 */
export async function runTarget(mode: string, n: number, beforeRun: (pid: number) => void = () => {}): Promise<number> {
  const child = spawn(targetBinary(), [mode, String(n)], { stdio: ['pipe', 'ignore', 'inherit'] });
  const pid = child.pid!;
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(pid) : reject(new Error(`target ${mode} exited with ${code}`))));
  });
  beforeRun(pid);
  child.stdin!.end('go\n');
  return exited;
}

// A small C program built with the compilers and DWARF versions tsbpf must read (clang's DWARF 5
// with .debug_str_offsets and DW_FORM_strx, gcc's with .debug_line_str, both compilers' DWARF 4),
// for the reader's tests and the script's uprobe args tests.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOURCE = String.raw`
#include <unistd.h>
struct point { int x; long y; const char *name; struct point *next; };
// bitfields and char arrays: bpftrace 0.17 finds no member at all of such a struct (kept apart from point)
struct tagged { unsigned flags : 3; char tag[8]; struct point *p; };
typedef unsigned int u32t;
// a loop through a typedef'd function pointer (glibc's __gconv_fct and struct __gconv_step)
struct step;
typedef int (*step_fn)(struct step *);
struct step { step_fn fn; int n; };
enum color { RED, GREEN = 5 };
union number { int i; long l; };
__attribute__((noinline)) int add(int x, long y) { return x + (int)y; }
__attribute__((noinline)) int greet(const char *s, u32t n) { return s[0] + n; }
__attribute__((noinline)) long walk(struct point *p, unsigned char c, short neg) { return p->x + p->y + c + neg; }
__attribute__((noinline)) int paint(enum color c, union number *n, int (*cb)(int, long), volatile int *v) { return c + n->i + (cb ? 1 : 0) + *v; }
__attribute__((noinline)) int seven(int a, int b, int c, int d, int e, int f, int g) { return a + b + c + d + e + f + g; }
__attribute__((noinline)) void nothing(void) {}
__attribute__((noinline)) int run(struct step *s) { return s->n; }
__attribute__((noinline)) int mark(struct tagged *t) { return t->flags + t->tag[0]; }
int main(int argc, char **argv) {
  struct point q = { 7, 8, "second", 0 };
  struct point p = { 3, -4, "first", &q };
  struct tagged tg = { 5, "tagged", &p };
  struct step st = { 0, 4 };
  union number n = { 11 };
  volatile int v = 1;
  int rounds = argc > 1 ? 1000 : 1;
  for (int i = 0; i < rounds; i++) {
    add(42, -5); greet("hello", 9); walk(&p, 200, -3); paint(GREEN, &n, add, &v); seven(1, 2, 3, 4, 5, 6, 7); nothing(); mark(&tg); run(&st);
    if (argc > 1) usleep(100000);
  }
  return 0;
}
`;

export const BUILDS = {
  'clang-dwarf5': ['clang', '-g', '-O0'],
  'clang-dwarf4': ['clang', '-gdwarf-4', '-O0'],
  'gcc-dwarf5': ['gcc', '-g', '-O0'],
  'gcc-dwarf4': ['gcc', '-gdwarf-4', '-O0'],
} as const;
export type Build = keyof typeof BUILDS;

let dir: string | undefined;

/** The program built one way (once per test process); undefined when that compiler is missing. */
export function built(build: Build): string | undefined {
  dir ??= mkdtempSync(join(tmpdir(), 'tsbpf-dwarf-'));
  const out = join(dir, build);
  if (existsSync(out)) return out;
  const src = join(dir, 'prog.c');
  if (!existsSync(src)) writeFileSync(src, SOURCE);
  const [cc, ...flags] = BUILDS[build];
  try {
    execFileSync(cc, [...flags, '-o', out, src], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return out;
}

// BPF objects of the benchmarks (bench/c/NAME.bpf.c), compiled at run time into bench/bin/ (ignored
// by git) with the project's own clang driver; rebuilt when the source is newer.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileBpf } from '../../src/build/clang.js';
import { root } from '../report.js';

export function buildBpf(name: string): string {
  const src = join(root, 'bench/c', `${name}.bpf.c`);
  const dir = join(root, 'bench/bin');
  const out = join(dir, `${name}.bpf.o`);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) compileBpf(src, { output: out });
  return out;
}

// The shape every benchmark ends with: its last stdout line is one JSON object
//   {"name", "ours", "reference", "unit", "ratio", "better": "higher"|"lower", ...details}
// where ratio = ours / reference, both measured in the same run. scripts/bench.js saves it to
// bench/results/<name>.json.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/sys/native.js';

export interface BenchResult {
  name: string;
  ours: number;
  reference: number;
  unit: string;
  better: 'higher' | 'lower';
  /** the reference measured, e.g. "libbpf 1.1 (C)" */
  referenceName: string;
  /** the target the issue sets for ratio, if any */
  target?: number;
  [detail: string]: unknown;
}

export function report(r: BenchResult): void {
  const ratio = Math.round((r.ours / r.reference) * 1000) / 1000;
  const { name, ours, reference, unit, better, ...rest } = r;
  const met = r.target === undefined ? undefined : better === 'lower' ? ratio <= r.target : ratio >= r.target;
  process.stdout.write(`${name}: ours ${fmt(ours)} ${unit}, ${r.referenceName} ${fmt(reference)} ${unit}, ratio ${ratio}` +
    `${r.target !== undefined ? ` (target ${better === 'lower' ? '≤' : '≥'} ${r.target}: ${met ? 'met' : 'NOT met'})` : ''}\n`);
  process.stdout.write(JSON.stringify({ name, ours, reference, unit, ratio, better, ...rest, targetMet: met }) + '\n');
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));

export const root = packageRoot();

/** Build bench/c/<name>.c with gcc -O2 -lbpf into bench/bin/ (once; rebuilt when the source is newer). */
export function buildC(name: string): string {
  const src = join(root, 'bench/c', `${name}.c`);
  const dir = join(root, 'bench/bin');
  const out = join(dir, name);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    execFileSync('gcc', ['-O2', '-Wall', src, '-o', out, '-lbpf'], { stdio: 'inherit' });
  }
  return out;
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

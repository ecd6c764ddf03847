// The shape every benchmark ends with: its last stdout line is one JSON object
//   {"name", "ours", "reference", "unit", "ratio", "better": "higher"|"lower", ...details}
// where ratio = ours / reference, both measured in the same run. scripts/bench.js saves it to
// bench/results/<name>.json.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/sys/native.js';
import { MAX_SPREAD, spread } from './lib/rounds.js';

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
  /**
   * The ratio of each round (ours / reference of interleaved rounds). When given, the result carries
   * their spread and is refused (exit status 3, nothing saved) if they disagree by more than MAX_SPREAD.
   */
  roundRatios?: number[];
  [detail: string]: unknown;
}

export function report(r: BenchResult): void {
  const ratio = Math.round((r.ours / r.reference) * 1000) / 1000;
  const { name, ours, reference, unit, better, roundRatios, ...rest } = r;
  const met = r.target === undefined ? undefined : better === 'lower' ? ratio <= r.target : ratio >= r.target;
  const s = roundRatios?.length ? spread(roundRatios) : undefined;
  process.stdout.write(`${name}: ours ${fmt(ours)} ${unit}, ${r.referenceName} ${fmt(reference)} ${unit}, ratio ${ratio}` +
    `${s ? ` (rounds ${s.min}..${s.median}..${s.max}, spread ${(s.spread * 100).toFixed(1)} %)` : ''}` +
    `${r.target !== undefined ? ` (target ${better === 'lower' ? '≤' : '≥'} ${r.target}: ${met ? 'met' : 'NOT met'})` : ''}\n`);
  const extra = s ? { roundRatios: roundRatios!.map((x) => Math.round(x * 1000) / 1000), ratioSpread: s } : {};
  process.stdout.write(JSON.stringify({ name, ours, reference, unit, ratio, better, ...rest, ...extra, targetMet: met }) + '\n');
  if (s && s.spread > MAX_SPREAD) {
    process.stderr.write(`${name}: REFUSED — its rounds disagree by ${(s.spread * 100).toFixed(1)} % (> ${MAX_SPREAD * 100} %): ` +
      `the machine is too noisy for this figure; rerun when it is quiet (uptime's load average below 1)\n`);
    process.exitCode = 3;
  }
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
    execFileSync('gcc', ['-O2', '-Wall', src, '-o', out, '-lbpf', '-lpthread'], { stdio: 'inherit' });
  }
  return out;
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

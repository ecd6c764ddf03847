// The aggregations, each described once: how it is called (`@m[k] = hist(v)`), what the map keeps
// per CPU (its value's layout), how the program folds a value in, and how user space combines the
// CPUs' values. Aggregation maps are per-CPU hashes; hist and lhist key each bucket separately (the
// bucket number is the last 8 bytes of the key).
import { FP, R0, R1, R2, imm } from '../../isa/builder.js';
import type { CallExpr } from '../ast.js';
import type { AggValue } from '../output.js';
import type { AggKind } from '../types.js';
import type { CheckContext, GenContext } from './context.js';

/** Per-CPU values of one key: u64/s64 at a byte offset of CPU i's value. */
export interface PerCpu {
  cpus: number;
  u64(cpu: number, off: number): bigint;
  s64(cpu: number, off: number): bigint;
}

export interface Aggregation {
  name: AggKind;
  signature: string;
  /** arguments: the value (none for count), then any parameters */
  args: number;
  /** bytes of the map value (per CPU) */
  valueSize: 8 | 16;
  /** keyed per bucket (hist, lhist); fold() then counts the bucket */
  bucketed: boolean;
  /** the checker's rule for the parameters (lhist's range) */
  params?(c: CheckContext, call: CallExpr): { min: number; max: number; step: number };
  /** r0 = the bucket of the value in r1 (bucketed aggregations) */
  bucket?(g: GenContext, l?: { min: number; max: number; step: number }): void;
  /** fold the value in r2 into the existing value at r0; may jump to `done` */
  fold(g: GenContext, done: string): void;
  /** the first value, from the value in r1, written at fp+val */
  init(g: GenContext, val: number): void;
  /** the CPUs' values combined, as printed */
  combine(v: PerCpu): AggValue;
}

/** value += r2: count, sum and the bucket counts of hist and lhist. */
const add = (g: GenContext): void => void g.b.ldx('u64', R1, R0, 0).add64(R1, R2).stx('u64', R0, R1, 0);
const first = (g: GenContext, val: number): void => void g.b.stx('u64', FP, R1, val);
const total = (v: PerCpu, signed: boolean): AggValue => {
  let t = 0n;
  for (let i = 0; i < v.cpus; i++) t += signed ? v.s64(i, 0) : v.u64(i, 0);
  return { kind: 'scalar', value: t };
};

/** min, max: [value, set] (set: some CPU has seen a value). */
function extreme(name: 'min' | 'max'): Aggregation {
  return {
    name, signature: `${name}(n)`, args: 1, valueSize: 16, bucketed: false,
    fold: (g, done) => {
      const set = g.b.newLabel('set');
      g.b.ldx('u64', R1, R0, 8).jmp('==', R1, imm(0), set).ldx('u64', R1, R0, 0).jmp(name === 'min' ? 's>=' : 's<=', R2, R1, done);
      g.b.label(set).stx('u64', R0, R2, 0).st('u64', R0, 8, 1);
    },
    init: (g, val) => void g.b.stx('u64', FP, R1, val).st('u64', FP, val + 8, 1),
    combine: (v) => {
      let best: bigint | undefined;
      for (let i = 0; i < v.cpus; i++) {
        if (v.u64(i, 8) === 0n) continue;
        const x = v.s64(i, 0);
        if (best === undefined || (name === 'min' ? x < best : x > best)) best = x;
      }
      return { kind: 'scalar', value: best ?? 0n };
    },
  };
}

/** avg, stats: [count, total]. */
function mean(name: 'avg' | 'stats'): Aggregation {
  return {
    name, signature: `${name}(n)`, args: 1, valueSize: 16, bucketed: false,
    fold: (g) => void g.b.ldx('u64', R1, R0, 0).add64(R1, imm(1)).stx('u64', R0, R1, 0).ldx('u64', R1, R0, 8).add64(R1, R2).stx('u64', R0, R1, 8),
    init: (g, val) => void g.b.st('u64', FP, val, 1).stx('u64', FP, R1, val + 8),
    combine: (v) => {
      let n = 0n;
      let t = 0n;
      for (let i = 0; i < v.cpus; i++) {
        n += v.u64(i, 0);
        t += v.s64(i, 8);
      }
      return { kind: name, count: n, total: t };
    },
  };
}

/** r0 = bpftrace's log2 histogram bucket of the signed value in r1 (0: negative, 1: zero, n+2: [2^n, 2^n+1)). */
function log2Bucket(g: GenContext): void {
  const b = g.b;
  const neg = b.newLabel('neg');
  const zero = b.newLabel('zero');
  const done = b.newLabel('bucket');
  b.jmp('s<', R1, imm(0), neg).jmp('==', R1, imm(0), zero).mov64(R0, imm(2));
  for (const shift of [32, 16, 8, 4, 2, 1]) {
    const skip = b.newLabel('skip');
    b.mov64(R2, R1).rsh64(R2, imm(shift)).jmp('==', R2, imm(0), skip).mov64(R1, R2).add64(R0, imm(shift)).label(skip);
  }
  b.ja(done).label(neg).mov64(R0, imm(0)).ja(done).label(zero).mov64(R0, imm(1)).label(done);
}

/** r0 = lhist bucket of r1: 0 below min, 1 + (v - min) / step inside, last at or above max. */
function linearBucket(g: GenContext, l: { min: number; max: number; step: number }): void {
  const b = g.b;
  const n = Math.ceil((l.max - l.min) / l.step);
  const below = b.newLabel('below');
  const above = b.newLabel('above');
  const done = b.newLabel('bucket');
  b.jmp('s<', R1, imm(l.min), below).jmp('s>=', R1, imm(l.max), above);
  b.mov64(R0, R1).sub64(R0, imm(l.min)).div64(R0, imm(l.step)).add64(R0, imm(1)).ja(done);
  b.label(below).mov64(R0, imm(0)).ja(done).label(above).mov64(R0, imm(n + 1)).label(done);
}

/** lhist(v, min, max, step): integer literals, at most 1000 buckets. */
function linearParams(c: CheckContext, call: CallExpr): { min: number; max: number; step: number } {
  const [mn, mx, st] = call.args.slice(1).map((a) => {
    if (a.kind !== 'int') throw c.err('lhist(): min, max and step must be integer literals', a.pos);
    return Number(a.value);
  }) as [number, number, number];
  if (st <= 0) throw c.err('lhist() step must be >= 1', call.args[3]!.pos);
  if (mn < 0) throw c.err('lhist() min must be non-negative', call.args[1]!.pos);
  if (mx <= mn) throw c.err('lhist() max must be greater than min', call.args[2]!.pos);
  if ((mx - mn) / st > 1000) throw c.err('lhist() too many buckets, maximum is 1000', call.pos);
  return { min: mn, max: mx, step: st };
}

const LIST: Aggregation[] = [
  { name: 'count', signature: 'count()', args: 0, valueSize: 8, bucketed: false, fold: add, init: first, combine: (v) => total(v, false) },
  { name: 'sum', signature: 'sum(n)', args: 1, valueSize: 8, bucketed: false, fold: add, init: first, combine: (v) => total(v, true) },
  mean('avg'),
  extreme('min'),
  extreme('max'),
  mean('stats'),
  { name: 'hist', signature: 'hist(n)', args: 1, valueSize: 8, bucketed: true, bucket: log2Bucket, fold: add, init: first, combine: (v) => total(v, false) },
  {
    name: 'lhist', signature: 'lhist(n, min, max, step)', args: 4, valueSize: 8, bucketed: true, params: linearParams,
    bucket: (g, l) => linearBucket(g, l!), fold: add, init: first, combine: (v) => total(v, false),
  },
];

export const AGGREGATIONS: ReadonlyMap<string, Aggregation> = new Map(LIST.map((a) => [a.name, a]));

// ringbuf: records per consumer CPU-second from a BPF ring buffer — tsbpf's RingBuffer against
// cilium/ebpf's ringbuf.Reader (the peer; goal ≥ 1.2×) and libbpf's ring_buffer__poll, each in a
// process of its own on the same map and producer (bench/lib/buffers.ts says how): draining a
// pre-filled ring, and following one at a fixed paced rate that every consumer keeps up with (zero
// loss required), for 32 B and 1 KiB records, 1 and 2 producers. The ratio is the geometric
// mean over those conditions of tsbpf / cilium, per round; rounds that disagree by more than 15 %
// are refused. tsbpf follows with consume() as it comes: coalescing wakeups while records arrive
// faster than one a millisecond (at most 1 ms of latency); `tsbpf-eager` is the same reader woken
// for every record, reported beside it. CURVE=0 skips the drain across record sizes (32 B .. 4 KiB)
// drawn in the report.
import { report } from './report.js';
import { BufferBench, summarize, type Condition, type Consumer } from './lib/buffers.js';
import { ciliumVersion } from './lib/go.js';
import { geomean, spread, waitQuiet } from './lib/rounds.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RATE = Number(process.env.RATE ?? 100_000);
const sizes = [32, 1024];
const drainRecords = (size: number): number => Math.min(1_000_000, Math.floor(((64 << 20) * 0.8) / (size + 8)));

const conditions: Condition[] = [
  ...sizes.map((size): Condition => ({ kind: 'ring', mode: 'drain', size, producers: 1, records: drainRecords(size) })),
  ...sizes.flatMap((size) => [1, 2].map((producers): Condition => ({ kind: 'ring', mode: 'paced', size, producers, rate: RATE }))),
];
const consumers: Consumer[] = ['tsbpf', 'cilium', 'libbpf', 'tsbpf-eager'];

const load = await waitQuiet();
const bench = new BufferBench();
const measured = await bench.measure(conditions, consumers, ROUNDS);
const summaries = conditions.map((c) => summarize(c, measured.get(c)!));
// per round: the geometric mean over the conditions of tsbpf / peer
const roundRatio = (peer: string): number[] =>
  Array.from({ length: ROUNDS }, (_, r) => geomean(conditions.map((c) => measured.get(c)!.tsbpf![r]! / measured.get(c)![peer]![r]!)));
const vsCilium = roundRatio('cilium');
const vsLibbpf = roundRatio('libbpf');

// the curve: drain rate against record size, every consumer (3 rounds each)
let curve: unknown;
if (process.env.CURVE !== '0') {
  const curveSizes = [32, 128, 512, 1024, 4096];
  const cs = curveSizes.map((size): Condition => ({ kind: 'ring', mode: 'drain', size, producers: 1, records: drainRecords(size) }));
  const m = await bench.measure(cs, consumers, 3);
  curve = {
    x: 'record bytes',
    y: 'records per consumer CPU-second (drain of a pre-filled ring)',
    series: Object.fromEntries(['tsbpf', 'cilium', 'libbpf'].map((w) => [w, cs.map((c) => ({ x: c.size, ...spread(m.get(c)![w]!) }))])),
  };
}

report({
  name: 'ringbuf',
  // geometric means over the conditions: their ratio is the geometric mean of the conditions' ratios
  ours: Math.round(geomean(summaries.map((s) => s.figures.tsbpf!.median))),
  reference: Math.round(geomean(summaries.map((s) => s.figures.cilium!.median))),
  unit: 'records per consumer CPU-second (geomean of conditions)',
  better: 'higher',
  referenceName: `cilium/ebpf ${ciliumVersion()} ringbuf.Reader (Go)`,
  target: 1.2,
  roundRatios: vsCilium,
  vsLibbpf: spread(vsLibbpf),
  rounds: ROUNDS,
  pacedRate: RATE,
  loadAverageAtStart: load,
  conditions: summaries,
  curve,
});

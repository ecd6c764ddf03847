// perfbuf: records per consumer CPU-second from a BPF perf event array — tsbpf's PerfBuffer against
// cilium/ebpf's perf.Reader and libbpf's perf_buffer__poll, each in a process of its own on the
// same map and producer (bench/lib/buffers.ts says how): draining pre-filled per-CPU buffers and
// following them at a paced rate, 32 B and 1 KiB records. The ratio is the
// geometric mean over the conditions of tsbpf / cilium, per round; rounds that disagree by more
// than 15 % are refused.
import { report } from './report.js';
import { BufferBench, summarize, type Condition, type Consumer } from './lib/buffers.js';
import { ciliumVersion } from './lib/go.js';
import { geomean, spread, waitQuiet } from './lib/rounds.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
// Each perf sample raises an irq_work for its wakeup — a self-IPI, which in a VM is a VM exit of
// ~15 µs: producers are slow here, so fewer records and a lower rate than the ring buffer's.
const RATE = Number(process.env.RATE ?? 20_000);
const drainRecords = (size: number): number => Math.min(100_000, Math.floor(((64 << 20) * 0.8) / (size + 16)));

const conditions: Condition[] = [
  ...[32, 1024].map((size): Condition => ({ kind: 'perf', mode: 'drain', size, producers: 1, records: drainRecords(size) })),
  ...[32, 1024].map((size): Condition => ({ kind: 'perf', mode: 'paced', size, producers: 2, rate: RATE })),
];
const consumers: Consumer[] = ['tsbpf', 'cilium', 'libbpf', 'tsbpf-eager'];

const load = await waitQuiet();
const measured = await new BufferBench().measure(conditions, consumers, ROUNDS);
const summaries = conditions.map((c) => summarize(c, measured.get(c)!));
const roundRatio = (peer: string): number[] =>
  Array.from({ length: ROUNDS }, (_, r) => geomean(conditions.map((c) => measured.get(c)!.tsbpf![r]! / measured.get(c)![peer]![r]!)));
const vsCilium = roundRatio('cilium');
report({
  name: 'perfbuf',
  // geometric means over the conditions: their ratio is the geometric mean of the conditions' ratios
  ours: Math.round(geomean(summaries.map((s) => s.figures.tsbpf!.median))),
  reference: Math.round(geomean(summaries.map((s) => s.figures.cilium!.median))),
  unit: 'records per consumer CPU-second (geomean of conditions)',
  better: 'higher',
  referenceName: `cilium/ebpf ${ciliumVersion()} perf.Reader (Go)`,
  roundRatios: vsCilium,
  vsLibbpf: spread(roundRatio('libbpf')),
  rounds: ROUNDS,
  pacedRate: RATE,
  loadAverageAtStart: load,
  conditions: summaries,
});

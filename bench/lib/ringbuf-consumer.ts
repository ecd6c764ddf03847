// tsbpf's consumer for the `ringbuf` and `perfbuf` benchmarks, a process of its own like the
// references (so each side's CPU time is its own process's), on a map pinned by the benchmark,
// summing each record's first u64. Draining a filled buffer is drain() (what consume() runs on each
// wakeup); following one is consume() (zero-copy views, no queue: the fastest way to follow a
// buffer; `-eager`: without coalescing wakeups) or, as `ring-iter`, the async iterator events().
//
//   node ringbuf-consumer.js ring|ring-eager|ring-iter|perf|perf-eager PIN [PERF_PAGES]
//
// The protocol of every consumer of the benchmarks: bench/go/ringbuf/main.go says it in full.
import { BpfMap } from '../../src/maps/map.js';
import { RingBuffer } from '../../src/maps/ringbuf.js';
import { PerfBuffer } from '../../src/maps/perfbuf.js';

const [mode, pin, pages] = process.argv.slice(2) as [string, string, string | undefined];
const map = BpfMap.fromPin(pin);
let count = 0;
// the sum of sequence numbers in a double: exact below 2^53, far above the counts measured here
let sum = 0;
let target = 0;
let t0 = 0n;
let cpu0 = 0;
const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

function result(): void {
  // (stdout is a pipe: written synchronously on Linux)
  process.stdout.write(`${count} ${sum} ${process.hrtime.bigint() - t0} ${Math.round(cpuNs() - cpu0)}\n`);
}

const onRecord = (view: DataView, offset: number): void => {
  sum += view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x100000000;
  count++;
};
const onPerfRecord = (_cpu: number, view: DataView, offset: number): void => onRecord(view, offset);
const following = (view: DataView, offset: number): void => {
  onRecord(view, offset);
  if (count >= target && target > 0) finish();
};

function finish(): never {
  result();
  return process.exit(0);
}

const ring = mode.startsWith('perf') ? undefined : new RingBuffer(map);
const perf = mode.startsWith('perf') ? new PerfBuffer(map, { pages: Number(pages ?? 8) }) : undefined;
const coalesce = mode.endsWith('-eager') ? 0 : undefined;

process.stdout.write('ready\n');
let buf = '';
process.stdin.on('data', (d: Buffer) => {
  buf += d.toString();
  for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
    const line = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    if (line.startsWith('drain ')) drain(Number(line.slice(6)));
    else if (line === 'go') follow();
    else if (line) {
      target = Number(line);
      if (count >= target) finish();
    }
  }
});

function begin(): void {
  count = 0;
  sum = 0;
  t0 = process.hrtime.bigint();
  cpu0 = cpuNs();
}

function drain(n: number): void {
  begin();
  while (count < n) {
    if (perf) perf.drain(onPerfRecord);
    else ring!.drain(onRecord);
  }
  result();
}

function follow(): void {
  begin();
  if (perf) void perf.consume((_cpu, view, offset) => following(view, offset), { coalesce });
  else if (mode === 'ring-iter') {
    void (async () => {
      for await (const rec of ring!.events()) following(new DataView(rec.buffer, rec.byteOffset, rec.byteLength), 0);
    })();
  } else void ring!.consume(following, { coalesce });
}

// ringbuf: records/s consumed from a BPF ring buffer, tsbpf's RingBuffer reader vs libbpf's
// ring_buffer__poll (bench/c/ringbuf.c), with the same producer: a program on the
// syscalls:sys_enter_getppid tracepoint, fired by a C loop (bench/c/producer.c) for SECONDS.
// Records the producer could not reserve (ring full) are counted by the program: that is the loss.
// Two rounds: the producer flat out (throughput: the ratio), then paced at a fixed rate that the C
// consumer sustains, where both consumers must lose nothing (a flat-out producer runs at different
// speeds against different consumers: kernel wakeups slow it down while the consumer keeps up).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { Collection } from '../src/kernel/collection.js';
import { ensureBpffs } from '../src/sys/mounts.js';
import { buildC, report, root } from './report.js';

const SECONDS = Number(process.env.SECONDS ?? 3);
const object = join(root, 'bench/objects/ringbuf.bpf.o');
const producerBin = buildC('producer');
const consumerBin = buildC('ringbuf');

interface Run {
  produced: number;
  consumed: number;
  dropped: number;
  seconds: number;
}

/** A producer process, started paused; `go()` starts its loop and resolves with its call count. */
function producer(rate: number): { pid: number; go: () => Promise<number> } {
  const child = spawn(producerBin, [String(SECONDS), String(rate)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number>((r) => child.on('close', () => r(Number(out.trim()))));
  return { pid: child.pid!, go: () => (child.stdin!.end('go\n'), done) };
}

function stats(c: Collection): { produced: number; dropped: number } {
  const m = c.map('stats');
  return { produced: Number(m.get(0)), dropped: Number(m.get(1)) };
}

/** tsbpf's reader: `consume` (a callback per record, like ring_buffer__poll) or the async iterator. */
async function ours(rate = 0, mode: 'consume' | 'iterator' = 'consume'): Promise<Run> {
  const p = producer(rate);
  const c = Collection.load(object, { constants: { targ_tgid: p.pid } });
  try {
    c.attach();
    const rb = c.ringBuffer('events');
    const stop = new AbortController();
    let consumed = 0;
    const t0 = process.hrtime.bigint();
    const reading = mode === 'consume'
      ? rb.consume(() => void consumed++, { signal: stop.signal }).then(() => undefined)
      : (async () => {
          for await (const _rec of rb.events({ signal: stop.signal })) consumed++;
        })();
    await p.go();
    // Let the reader catch up with what is still in the ring, then stop.
    while (rb.available > 0) await new Promise((r) => setImmediate(r));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    stop.abort();
    await reading;
    return { ...stats(c), consumed, seconds };
  } finally {
    c.close();
  }
}

async function reference(rate = 0): Promise<Run> {
  const p = producer(rate);
  const c = Collection.load(object, { constants: { targ_tgid: p.pid } });
  const pin = join(ensureBpffs(), `tsbpf-bench-ringbuf-${process.pid}`);
  try {
    c.attach();
    c.map('events').pin(pin);
    const consumer = spawn(consumerBin, [pin, String(SECONDS + 0.5)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((r) => consumer.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) r(); }));
    await p.go();
    await new Promise((r) => consumer.on('close', r));
    const [consumed, seconds] = out.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
    return { ...stats(c), consumed, seconds };
  } finally {
    rmSync(pin, { force: true });
    c.close();
  }
}

const ref = await reference();
const our = await ours();
const PACE = Number(process.env.PACE ?? Math.round((ref.produced / SECONDS) * 0.8));
const refPaced = await reference(PACE);
const ourPaced = await ours(PACE);
const ourIter = await ours(0, 'iterator');
const rate = (r: Run): number => r.consumed / r.seconds;
for (const [who, r] of [['libbpf', ref], ['tsbpf', our], [`libbpf at ${PACE}/s`, refPaced], [`tsbpf at ${PACE}/s`, ourPaced], ['tsbpf async iterator', ourIter]] as const) {
  console.log(`${who}: produced ${r.produced}, consumed ${r.consumed}, dropped ${r.dropped} in ${r.seconds.toFixed(2)}s = ${Math.round(rate(r))}/s`);
}
report({
  name: 'ringbuf',
  ours: Math.round(our.consumed / SECONDS),
  reference: Math.round(ref.consumed / SECONDS),
  unit: 'records/s',
  better: 'higher',
  referenceName: 'libbpf ring_buffer__poll (C)',
  target: 0.8,
  oursProduced: our.produced,
  oursConsumed: our.consumed,
  oursLost: our.dropped,
  referenceProduced: ref.produced,
  referenceConsumed: ref.consumed,
  referenceLost: ref.dropped,
  // every record is either consumed or counted as lost
  oursAccounted: our.consumed + our.dropped === our.produced,
  iteratorPerSecond: Math.round(ourIter.consumed / SECONDS),
  iteratorLost: ourIter.dropped,
  pacedRate: PACE,
  pacedOursLost: ourPaced.dropped,
  pacedReferenceLost: refPaced.dropped,
  pacedOursConsumed: ourPaced.consumed,
  pacedReferenceConsumed: refPaced.consumed,
  seconds: SECONDS,
});

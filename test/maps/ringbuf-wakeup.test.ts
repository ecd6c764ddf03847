// Wakeup batching against this kernel: records submitted with BPF_RB_NO_WAKEUP do not wake the
// reader, the drain timer delivers them, and past the threshold BPF_RB_FORCE_WAKEUP wakes it at
// once; batches() hands a drain's records over as one array; decodeAt reads in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuffer } from '../../src/maps/ringbuf.js';
import { needsRoot } from '../helpers/kernel.js';
import { MARKER, decodeRec, ringbufBatchedProgram, type Rec, withBuffers } from './buffers.js';

const PACKET = new Uint8Array(64);
const REC = 32; // 8-byte header + 24 bytes
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(5);
}

test('ring buffer wakeups: below the threshold nobody is woken, past it the reader is, at once', { timeout: 20000 }, async (t) => {
  if (!needsRoot(t)) return;
  // wake once 10 records wait
  await withBuffers({ ringbuf: 1 << 16 }, ({ map, seq, lost }) => ringbufBatchedProgram(map, seq, lost, 10 * REC), async ({ map: rbMap, lost, prog }) => {
    using rb = new RingBuffer(rbMap, { lost });
    const ac = new AbortController();
    const seqs: number[] = [];
    const done = rb.consume((v, off) => void seqs.push(Number(v.getBigUint64(off + 8, true))), { signal: ac.signal });
    await sleep(20);
    prog.testRun(PACKET, { repeat: 5 });
    await sleep(300);
    assert.deepEqual(seqs, [], 'records below the threshold did not wake the reader');
    assert.equal(rb.available, 5 * REC, 'they wait in the ring');
    // the 11th record finds 10 waiting: forced wakeup; the reader takes everything there is
    prog.testRun(PACKET, { repeat: 6 });
    await until(() => seqs.length === 11, 2000);
    assert.deepEqual(seqs, Array.from({ length: 11 }, (_, i) => i));
    assert.equal(rb.available, 0);
    ac.abort();
    assert.equal(await done, 11);
    assert.equal(rb.lost, 0);
  });
});

test('ring buffer wakeups: the drain timer delivers a trickle the kernel does not wake for', { timeout: 20000 }, async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers({ ringbuf: 1 << 16 }, ({ map, seq, lost }) => ringbufBatchedProgram(map, seq, lost, 1 << 14), async ({ map: rbMap, prog }) => {
    using rb = new RingBuffer<Rec>(rbMap, { decode: decodeRec, drainInterval: 20 });

    // events(): the ring's drainInterval is the default
    const ac = new AbortController();
    const got: number[] = [];
    const consumer = (async () => {
      for await (const r of rb.events({ signal: ac.signal })) {
        assert.equal(r.marker, MARKER);
        got.push(r.seq);
        if (got.length === 6) ac.abort();
      }
    })();
    for (let i = 0; i < 3; i++) {
      await sleep(30);
      prog.testRun(PACKET, { repeat: 2 });
    }
    const t0 = Date.now();
    await consumer;
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5]);
    assert.ok(Date.now() - t0 < 1000, 'delivered within a few timer periods');

    // consume(): an interval of its own; a bad one is refused
    prog.testRun(PACKET, { repeat: 3 });
    const ac2 = new AbortController();
    const seqs: number[] = [];
    const done = rb.consume((v, off) => {
      seqs.push(Number(v.getBigUint64(off + 8, true)));
      if (seqs.length === 5) ac2.abort();
    }, { signal: ac2.signal, interval: 10 });
    await sleep(30);
    prog.testRun(PACKET, { repeat: 2 });
    assert.equal(await done, 5);
    assert.deepEqual(seqs, [6, 7, 8, 9, 10]);
    await assert.rejects(rb.consume(() => {}, { interval: 0 }), RangeError);
    assert.throws(() => rb.events({ interval: -5 }), RangeError);
    assert.throws(() => rb.batches({ interval: Number.NaN }), RangeError);
  });
});

test('ring buffer: batches() yields each drain as one array; decodeAt reads in place', { timeout: 20000 }, async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers({ ringbuf: 1 << 16 }, ({ map, seq, lost }) => ringbufBatchedProgram(map, seq, lost, 1 << 14), async ({ map: rbMap, prog }) => {
    const views = new Set<ArrayBufferLike>();
    using rb = new RingBuffer<{ seq: number; triple: number }>(rbMap, {
      drainInterval: 10,
      decodeAt: (v, off, len) => {
        views.add(v.buffer);
        assert.equal(len, 24);
        return { seq: Number(v.getBigUint64(off + 8, true)), triple: Number(v.getBigUint64(off + 16, true)) };
      },
    });
    prog.testRun(PACKET, { repeat: 40 });
    const ac = new AbortController();
    const it = rb.batches({ signal: ac.signal });
    const first = await it.next();
    assert.equal(first.done, false);
    assert.equal(first.value!.length, 40, 'everything waiting came in one drain');
    first.value!.forEach((r, i) => assert.deepEqual(r, { seq: i, triple: 3 * i }));
    assert.equal(views.size, 1, 'one view (the ring) for every record');
    prog.testRun(PACKET, { repeat: 2 });
    const second = await it.next();
    assert.deepEqual((second.value as { seq: number }[]).map((r) => r.seq), [40, 41]);
    ac.abort();
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });
});

test('ring buffer: batches() holds at most 4096 records per array, the rest follow', { timeout: 20000 }, async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers({ ringbuf: 1 << 18 }, ({ map, seq, lost }) => ringbufBatchedProgram(map, seq, lost, 1 << 20), async ({ map: rbMap, lost, prog }) => {
    using rb = new RingBuffer<Rec>(rbMap, { decode: decodeRec, lost });
    prog.testRun(PACKET, { repeat: 5000 });
    assert.equal(rb.lost, 0);
    const ac = new AbortController();
    const sizes: number[] = [];
    const seqs: number[] = [];
    for await (const batch of rb.batches({ signal: ac.signal })) {
      sizes.push(batch.length);
      for (const r of batch) seqs.push(r.seq);
      if (seqs.length >= 5000) break;
    }
    assert.deepEqual(sizes, [4096, 904], 'readiness came back for what the first drain left');
    assert.deepEqual(seqs, Array.from({ length: 5000 }, (_, i) => i));
  });
});

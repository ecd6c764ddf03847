import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuffer } from '../../src/maps/ringbuf.js';
import { needsRoot } from '../helpers/kernel.js';
import { MARKER, decodeRec, ringbufOutputProgram, ringbufReserveProgram, type Rec, counter, withBuffers } from './buffers.js';

const PACKET = new Uint8Array(64);

test('ring buffer: every record in order, wrap-around through the double mapping, drops counted by the program', async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers({ ringbuf: 4096 }, ({ map, seq, lost }) => ringbufOutputProgram(map, seq, lost), async ({ map: rbMap, lost, prog }) => {
    using rb = new RingBuffer<Rec>(rbMap, { decode: decodeRec, lost });

    // 200 records of 32 bytes (8 header + 24) into 4096 bytes: 127 fit, 73 are refused.
    prog.testRun(PACKET, { repeat: 200 });
    assert.ok(rb.available > 0);
    const first = rb.read();
    assert.equal(first.length, 127);
    assert.equal(rb.lost, 73);
    first.forEach((r, i) => {
      assert.equal(r.marker, MARKER);
      assert.equal(r.seq, i);
      assert.equal(r.triple, 3 * i);
    });
    assert.equal(rb.available, 0);
    // Consumer is now at 4064: the next records wrap around the end of the data area.
    prog.testRun(PACKET, { repeat: 50 });
    const second = rb.read();
    assert.equal(second.length, 50);
    second.forEach((r, i) => {
      assert.equal(r.marker, MARKER);
      assert.equal(r.seq, 200 + i);
      assert.equal(r.triple, 3 * (200 + i));
    });
    // drain() hands out views without copying
    prog.testRun(PACKET, { repeat: 3 });
    let seen = 0;
    assert.equal(rb.drain((v, off, len) => {
      assert.equal(len, 24);
      assert.equal(v.getBigUint64(off, true), MARKER);
      seen++;
    }), 3);
    assert.equal(seen, 3);
  });
});

test('ring buffer: discarded reservations are skipped, submitted ones delivered', async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers({ ringbuf: 16384 }, ({ map, seq }) => ringbufReserveProgram(map, seq), async ({ map: rbMap, prog }) => {
    using rb = new RingBuffer(rbMap, { decode: (v) => Number(v.getBigUint64(8, true)) });
    prog.testRun(PACKET, { repeat: 20 });
    assert.deepEqual(rb.read(), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });
});

test('ring buffer: async iteration wakes on readiness and ends on abort', async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers({ ringbuf: 1 << 16 }, ({ map, seq, lost }) => ringbufOutputProgram(map, seq, lost), async ({ map: rbMap, prog }) => {
    using rb = new RingBuffer<Rec>(rbMap, { decode: decodeRec });
    const ac = new AbortController();
    const got: number[] = [];
    const consumer = (async () => {
      for await (const r of rb.events({ signal: ac.signal })) {
        got.push(r.seq);
        if (got.length === 10) ac.abort();
      }
    })();
    // Produce after the consumer waits: the records must arrive through poll readiness.
    setImmediate(() => prog.testRun(PACKET, { repeat: 10 }));
    await consumer;
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // An already-aborted signal ends at once.
    const it = rb.events({ signal: AbortSignal.abort() });
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });
});

test('ring buffer: wrong map type and bad size are refused', (t) => {
  if (!needsRoot(t)) return;
  using m = counter();
  assert.throws(() => new RingBuffer(m), /RINGBUF/);
  assert.throws(() => new RingBuffer({ fd: m.fd, maxEntries: 3000 }), /power of two/);
});

test('ring buffer: consume() drains on readiness through a callback until aborted', async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers({ ringbuf: 1 << 16 }, ({ map, seq, lost }) => ringbufOutputProgram(map, seq, lost), async ({ map: rbMap, prog }) => {
    using rb = new RingBuffer(rbMap);
    prog.testRun(PACKET, { repeat: 3 }); // already waiting: drained at once
    const ac = new AbortController();
    const seqs: number[] = [];
    const done = rb.consume((v, off, len) => {
      assert.equal(len, 24);
      seqs.push(Number(v.getBigUint64(off + 8, true)));
      if (seqs.length === 10) ac.abort();
    }, { signal: ac.signal });
    setImmediate(() => prog.testRun(PACKET, { repeat: 7 }));
    assert.equal(await done, 10);
    assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // a throwing callback rejects
    prog.testRun(PACKET, { repeat: 1 });
    await assert.rejects(rb.consume(() => {
      throw new Error('stop');
    }), /stop/);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerfBuffer } from '../../src/maps/perfbuf.js';
import { onlineCpus } from '../../src/sys/cpus.js';
import { ownedFds } from '../../src/sys/fds.js';
import { needsRoot } from '../helpers/kernel.js';
import { MARKER, decodeRec, perfOutputProgram, type Rec, withBuffers } from './buffers.js';

const PACKET = new Uint8Array(64);
PACKET.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);

test('perf buffer: samples in order across wrap-around, PERF_RECORD_LOST counted when a ring overflows', async (t) => {
  if (!needsRoot(t)) return;
  const fdsBefore = ownedFds().size;
  await withBuffers('perf', ({ map, seq }) => perfOutputProgram(map, seq), async ({ map: pea, prog }) => {
    {
      using pb = new PerfBuffer<Rec>(pea, { pages: 1, decode: decodeRec });
      assert.deepEqual(pb.cpus, onlineCpus());
      // One test run stays on one CPU (migration is disabled while it repeats), so one ring sees
      // each batch. Each sample takes 40 bytes of a 4096-byte ring.
      const run = (n: number): void => void prog.testRun(PACKET, { repeat: n });
      let next = 0;
      for (let round = 0; round < 5; round++) {
        run(60);
        const recs = pb.read();
        assert.equal(recs.length, 60, `round ${round}`);
        for (const r of recs) {
          assert.ok(onlineCpus().includes(r.cpu));
          assert.equal(r.data.marker, MARKER);
          assert.equal(r.data.seq, next);
          assert.equal(r.data.triple, 3 * next);
          next++;
        }
      }
      assert.equal(pb.lost, 0);
      // Overflow: 300 samples without reading; the kernel drops what does not fit and says so.
      run(300);
      const recs = pb.read();
      assert.ok(recs.length > 50 && recs.length < 300, `read ${recs.length}`);
      recs.forEach((r, i) => assert.equal(r.data.seq, next + i));
      // The kernel writes PERF_RECORD_LOST once there is room again: before the next sample.
      run(1);
      const after = pb.read();
      assert.equal(after.length, 1);
      assert.equal(after[0]!.data.seq, next + 300);
      assert.equal(recs.length + pb.lost, 300);
    }
  });
  assert.equal(ownedFds().size, fdsBefore, 'perf event fds closed');
});

test('perf buffer: async iteration over all CPUs', async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers('perf', ({ map, seq }) => perfOutputProgram(map, seq), async ({ map: pea, prog }) => {
    using pb = new PerfBuffer<Rec>(pea, { decode: decodeRec });
    const got: number[] = [];
    const ac = new AbortController();
    const done = (async () => {
      for await (const r of pb.events({ signal: ac.signal })) {
        got.push(r.data.seq);
        if (got.length === 20) break;
      }
    })();
    setImmediate(() => {
      prog.testRun(PACKET, { repeat: 10 });
      prog.testRun(PACKET, { repeat: 10 });
    });
    await done;
    assert.equal(got.length, 20);
    assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
  });
});

test('perf buffer: consume() follows every CPU through a callback until aborted', async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers('perf', ({ map, seq }) => perfOutputProgram(map, seq), async ({ map: pea, prog }) => {
    using pb = new PerfBuffer(pea);
    const ac = new AbortController();
    const seqs: number[] = [];
    const done = pb.consume((cpu, v, off, len) => {
      assert.ok(onlineCpus().includes(cpu));
      assert.ok(len >= 24);
      seqs.push(Number(v.getBigUint64(off + 8, true)));
      if (seqs.length === 15) ac.abort();
    }, { signal: ac.signal });
    setImmediate(() => prog.testRun(PACKET, { repeat: 15 }));
    assert.equal(await done, 15);
    assert.deepEqual(seqs, Array.from({ length: 15 }, (_, i) => i));
  });
});

test('perf buffer: wakeupEvents above 1 with a drain timer: a trickle below it still arrives; close() ends consume()', { timeout: 20000 }, async (t) => {
  if (!needsRoot(t)) return;
  await withBuffers('perf', ({ map, seq }) => perfOutputProgram(map, seq), async ({ map: pea, prog }) => {
    const pb = new PerfBuffer<Rec>(pea, { decode: decodeRec, wakeupEvents: 1000 });
    // without the timer, 3 samples (of 1000 before a wakeup) stay in the rings
    const seqs: number[] = [];
    const first = pb.consume((_cpu, v, off) => void seqs.push(Number(v.getBigUint64(off + 8, true))));
    await new Promise((r) => setTimeout(r, 20));
    prog.testRun(PACKET, { repeat: 3 });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seqs, [], 'no wakeup below wakeupEvents');
    pb.close();
    assert.equal(await first, 0, 'close() ended consume()');

    using timed = new PerfBuffer<Rec>(pea, { decode: decodeRec, wakeupEvents: 1000, drainInterval: 20 });
    const got: number[] = [];
    const ac = new AbortController();
    const done = (async () => {
      for await (const r of timed.events({ signal: ac.signal })) {
        got.push(r.data.seq);
        if (got.length === 3) break;
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    prog.testRun(PACKET, { repeat: 3 });
    await done;
    assert.deepEqual([...got].sort((a, b) => a - b), [3, 4, 5]);
  });
});

// runqlat and biolatency against this kernel: a compiled sleeper wakes up a known number of times;
// fsync'ed writes reach the disk; the histogram totals match what was generated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, writeSync, fsyncSync, closeSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runqlat } from '../../src/tools/runqlat/index.js';
import { Biolatency } from '../../src/tools/biolatency/index.js';
import { printHist } from '../../src/tools/common/histmap.js';
import { needsRoot, needsCommand } from '../helpers/kernel.js';
import { sleeper } from './connloop.js';
import { startBinary, assertReleased, sleep } from './workload.js';

test('runqlat per thread: one count per wakeup of a sleeping thread', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'gcc')) return;
  const N = 300;
  const c = startBinary(sleeper(), [String(N), 'rq-sleeper']);
  const r = await Runqlat.open({ pid: c.pid, perThread: true });
  const ids = r.kernelIds();
  try {
    await sleep(50);
    c.go();
    assert.equal(await c.exited, 0);
    const hists = r.snapshot();
    assert.equal(hists.length, 1, 'one thread');
    const h = hists[0]!;
    assert.equal(h.key, c.pid);
    assert.equal(h.comm, 'rq-sleeper');
    assert.equal(h.unit, 'usecs');
    // N sleeps, the wakeup from reading stdin (none if the read found the byte already there); a few
    // preemptions may add to it. A 1 ms timer that fires before its thread has left the CPU (the
    // thread held up on a loaded machine) wakes a running thread: no run-queue wait, nothing counted
    // (libbpf-tools' runqlat alike); CI saw 298 of 300 once
    assert.ok(h.total >= N - 10 && h.total <= N + 1 + 20, `total ${h.total} for ${N} sleeps`);
    assert.equal(h.slots.reduce((a, b) => a + b, 0), h.total);
    const text = printHist(h, `tid = ${h.key} ${h.comm}`, 'bcc');
    assert.match(text, /^\ntid = \d+ rq-sleeper\n     usecs +: count +distribution\n/);
    assert.match(printHist(h, undefined, 'bpftrace'), /^@usecs: \n/);
  } finally {
    r.close();
  }
  await assertReleased(ids);
});

test('runqlat for all tasks, in milliseconds, cleared by interval reads', async (t) => {
  if (!needsRoot(t)) return;
  const r = await Runqlat.open({ milliseconds: true });
  try {
    await sleep(300);
    const first = r.snapshot(true);
    assert.equal(first.length, 1);
    assert.equal(first[0]!.key, 0);
    assert.equal(first[0]!.unit, 'msecs');
    assert.ok(first[0]!.total > 0, 'this machine schedules something in 300 ms');
    const after = r.snapshot();
    assert.ok(after.length === 0 || after[0]!.total < first[0]!.total + 100000);
  } finally {
    r.close();
  }
});

function diskOf(path: string): string {
  // the block device of the filesystem holding `path` (for / on this VM: vda)
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' '));
  let best = '';
  let dev = '';
  for (const [src, mnt] of mounts) if (src?.startsWith('/dev/') && mnt && path.startsWith(mnt) && mnt.length > best.length) [best, dev] = [mnt, src.slice(5)];
  return dev;
}

test("biolatency per disk: fsync'ed writes are counted on the disk that holds the file", async (t) => {
  if (!needsRoot(t)) return;
  const dir = mkdtempSync('/var/tmp/tsbpf-bio-');
  const disk = diskOf(dir);
  if (!disk) return t.skip('no block device under /var/tmp');
  const b = await Biolatency.open({ perDisk: true });
  const ids = b.kernelIds();
  const N = 20;
  try {
    const fd = openSync(join(dir, 'data'), 'w');
    const block = Buffer.alloc(4096, 7);
    for (let i = 0; i < N; i++) {
      writeSync(fd, block, 0, block.length, i * 4096);
      fsyncSync(fd);
    }
    closeSync(fd);
    await sleep(100);
    const hists = b.snapshot();
    const mine = hists.find((h) => h.key.disk === disk);
    assert.ok(mine, `a histogram for ${disk} (got ${hists.map((h) => h.key.disk).join(', ')})`);
    assert.ok(mine.total >= N, `${mine.total} I/Os for ${N} fsync'ed writes`);
    const flags = await Biolatency.open({ perFlag: true, disk });
    try {
      const fd2 = openSync(join(dir, 'data'), 'r+');
      writeSync(fd2, block, 0, block.length, 0);
      fsyncSync(fd2);
      closeSync(fd2);
      await sleep(100);
      const f = flags.snapshot();
      assert.ok(f.some((h) => h.key.flags?.includes('W')), `a write histogram (flags: ${f.map((h) => h.key.flags).join(', ')})`);
    } finally {
      flags.close();
    }
  } finally {
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await assertReleased(ids);
  await assert.rejects(Biolatency.open({ disk: 'no-such-disk' }), /no block device/);
});

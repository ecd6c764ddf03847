// The object loader against the real kernel: the seed's example end to end, global data, kconfig,
// BTF-typed maps, ring buffers with CO-RE reads, and the error paths (kprobe and fentry on a kernel
// without them, verifier rejections with C lines, CO-RE failures naming the field). Nothing stays loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Collection, CollectionError } from '../../src/kernel/collection.js';
import { SyscallError, VerifierError } from '../../src/sys/errors.js';
import { fentry } from '../../src/kernel/features.js';
import { ensureTracefs } from '../../src/sys/mounts.js';
import { drainTracePipe } from '../../src/tracefs/drain.js';
import { isParsed, tracePipe } from '../../src/tracefs/pipe.js';
import { needsRoot } from '../helpers/kernel.js';
import { buildObject, repoPath } from '../helpers/objects.js';
import { connectOnce, getpidLater } from '../helpers/workload.js';
import { assertGone } from './leaks.js';

/** Ids of everything a collection holds, to check they are gone after close(). */
function idsOf(c: Collection): { progs: number[]; maps: number[] } {
  return { progs: [...c.programs.values()].map((p) => p.id), maps: [...c.maps.values()].map((m) => m.id) };
}

async function assertReleased(ids: { progs: number[]; maps: number[] }): Promise<void> {
  await assertGone('prog', ids.progs);
  await assertGone('map', ids.maps);
}

test("the seed's example: PID <pid> -> <ip>:<port> for a real connect", async (t) => {
  if (!needsRoot(t)) return;
  ensureTracefs();
  const coll = Collection.load(repoPath('examples/tcpconnect/tcpconnect.bpf.o'));
  const ids = idsOf(coll);
  try {
    drainTracePipe();
    assert.equal(coll.attach().length, 1);
    const stop = new AbortController();
    const lines: string[] = [];
    const reading = (async () => {
      for await (const l of tracePipe({ signal: stop.signal })) if (isParsed(l)) lines.push(l.message);
    })();
    const { pid, port } = await connectOnce();
    const want = `PID ${pid} -> 127.0.0.1:${port}`;
    const deadline = Date.now() + 5000;
    while (!lines.includes(want) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await reading;
    assert.ok(lines.includes(want), `expected "${want}" in ${JSON.stringify(lines)}`);
  } finally {
    coll.close();
  }
  await assertReleased(ids);
});

test('globals, kconfig externs and BTF-typed maps', async (t) => {
  if (!needsRoot(t)) return;
  using child = getpidLater(5);
  const coll = Collection.load(buildObject('test/kernel/fixtures/globals.bpf.c'), { constants: { targ_tgid: child.pid } });
  const ids = idsOf(coll);
  try {
    coll.attach();
    await child.go();
    const stats = coll.map('stats');
    const s = stats.get(child.pid);
    assert.ok(s, 'an entry for the child');
    assert.equal(s.pid, child.pid);
    assert.equal(s.tid, child.pid);
    assert.equal(s.comm, 'python3');
    assert.ok(s.count >= 5n || s.count >= 5, `count ${s.count}`);
    const hz = Number(/CONFIG_HZ=(\d+)/.exec(spawnSync('sh', ['-c', 'zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r)'], { encoding: 'utf8' }).stdout)?.[1]);
    assert.equal(s.hz, hz);
    const [maj, min] = (await import('node:os')).release().split('.').map(Number);
    assert.equal(s.kver >> 16, maj);
    assert.equal((s.kver >> 8) & 0xff, min);
    assert.equal(s.jit, true);
    const perCpu = coll.map('percpu').getPerCpu(0) as bigint[];
    assert.equal(perCpu.reduce((a, b) => a + BigInt(b), 0n), BigInt(s.count));
    // .bss / .data are maps too: the program's global counters are readable.
    const data = coll.map('.bss').get(0) as Record<string, unknown>;
    assert.equal(BigInt(data.calls as bigint), BigInt(s.count));
  } finally {
    coll.close();
  }
  await assertReleased(ids);
});

test('ring buffer records decoded from BTF, with CO-RE reads (multi-program object)', async (t) => {
  if (!needsRoot(t)) return;
  // sys_enter_openat fires for the child's file opens; ppid comes from a CO-RE read of real_parent.
  const coll = Collection.load(repoPath('bench/objects/multi.bpf.o'), { constants: { targ_tgid: 0 } });
  const ids = idsOf(coll);
  try {
    assert.ok(coll.attach().length >= 6);
    const rb = coll.ringBuffer<{ pid: number; ppid: number; comm: string; ts: bigint }>('events', { type: 'struct event' });
    const r = spawnSync('python3', ['-c', 'import os; open("/dev/null").close(); print(os.getpid())'], { encoding: 'utf8' });
    const pid = Number(r.stdout.trim());
    const recs = rb.read();
    const mine = recs.filter((e) => e.pid === pid);
    assert.ok(mine.length > 0, `records of pid ${pid} among ${recs.length}`);
    for (const e of mine) {
      assert.equal(e.ppid, process.pid);
      assert.equal(typeof e.ts, 'bigint');
    }
    // Before its execve the child is still a copy of node; its opens after that are python3's.
    assert.ok(mine.some((e) => e.comm === 'python3'), JSON.stringify(mine.map((e) => e.comm)));
  } finally {
    coll.close();
  }
  await assertReleased(ids);
});

test('Collection.ringBuffer(name, { signal }): the signal ends its iterators and consume() loops', async (t) => {
  if (!needsRoot(t)) return;
  const coll = Collection.load(repoPath('bench/objects/multi.bpf.o'), { constants: { targ_tgid: 0 } });
  try {
    // one follower of the ring at a time (one readiness watch per fd)
    const follow: [string, (rb: ReturnType<typeof coll.ringBuffer>) => Promise<unknown>][] = [
      ['events', async (rb) => { for await (const _ of rb.events()) void _; }],
      ['batches', async (rb) => { for await (const _ of rb.batches()) void _; }],
      ['consume', (rb) => rb.consume(() => {})],
    ];
    for (const [name, loop] of follow) {
      const ac = new AbortController();
      const rb = coll.ringBuffer('events', { type: 'struct event', signal: ac.signal });
      setTimeout(() => ac.abort(), 100);
      const ended = await Promise.race([loop(rb).then(() => 'ended'), new Promise((r) => setTimeout(() => r('still running'), 5000))]);
      assert.equal(ended, 'ended', name);
    }
  } finally {
    coll.close();
  }
});

test('fentry: loads where permitted, else a clear EPERM with the way out', async (t) => {
  if (!needsRoot(t)) return;
  const obj = buildObject('test/kernel/fixtures/fentry.bpf.c');
  if (fentry().ok) {
    const coll = Collection.load(obj);
    coll.close();
    return;
  }
  assert.throws(() => Collection.load(obj), (e: unknown) => {
    assert.ok(e instanceof SyscallError);
    assert.equal(e.code, 'EPERM');
    assert.match(String(e.hint), /tp_btf|tracepoint/);
    return true;
  });
});

test('a verifier rejection carries the log, the instruction and the C line', (t) => {
  if (!needsRoot(t)) return;
  const obj = buildObject('test/kernel/fixtures/core_reject.bpf.c');
  assert.throws(() => Collection.load(obj, { programs: ['bad_bounds'] }), (e: unknown) => {
    assert.ok(e instanceof VerifierError, String(e));
    assert.match(e.log, /invalid access to map value/);
    assert.ok(e.instruction !== undefined);
    assert.match(String(e.source), /core_reject\.bpf\.c:\d+: .*\(char \*\)v \+ 8/);
    return true;
  });
});

test('a CO-RE relocation that cannot resolve names the type and field', (t) => {
  if (!needsRoot(t)) return;
  const obj = buildObject('test/kernel/fixtures/core_reject.bpf.c');
  assert.throws(() => Collection.load(obj, { programs: ['bad_core'] }), (e: unknown) => {
    assert.ok(e instanceof CollectionError, String(e));
    assert.match(e.message, /no_such_field_xyz/);
    assert.match(e.message, /task_struct/);
    return true;
  });
});

test('unknown program and map names list what exists', (t) => {
  if (!needsRoot(t)) return;
  assert.throws(() => Collection.load(repoPath('examples/tcpconnect/tcpconnect.bpf.o'), { programs: ['nope'] }), /no program 'nope'.*|tcp_connect/);
  const coll = Collection.load(repoPath('examples/tcpconnect/tcpconnect.bpf.o'));
  try {
    assert.throws(() => coll.map('nope'), CollectionError);
    assert.throws(() => coll.program('nope'), (e: unknown) => e instanceof CollectionError && /tcp_connect/.test(String(e.hint)));
  } finally {
    coll.close();
  }
});

// execsnoop against this kernel: a child runs an exec storm with known arguments; every exec is
// reported with pid, parent, comm, arguments and return code; failures only with `failed`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecsnoopTracer, type Exec } from '../../src/tools/execsnoop/index.js';
import { needsRoot } from '../helpers/kernel.js';
import { startChild, collectUntil, assertReleased, sleep } from './workload.js';

const STORM = `
const { spawnSync } = require('child_process');
const out = [];
for (let i = 0; i < args.n; i++) {
  const r = spawnSync('/bin/echo', ['arg-' + i, 'with space', 'é'], { stdio: 'ignore' });
  out.push({ pid: r.pid, status: r.status });
}
const bad = spawnSync('/nonexistent/tsbpf-missing', ['x'], { stdio: 'ignore' });
out.push({ pid: bad.pid, error: bad.error && bad.error.code });
return out;
`;

test('exec storm: every exec with pid, ppid, comm, exact arguments and return code', async (t) => {
  if (!needsRoot(t)) return;
  const N = 40;
  const tracer = await ExecsnoopTracer.open({ failed: true });
  const ids = tracer.kernelIds();
  try {
    const child = await startChild('ex-storm', STORM, { n: N });
    const ac = new AbortController();
    const seen = collectUntil(tracer.events(ac.signal), (l) => l.filter((e) => e.ppid === child.pid).length >= N + 1, 15000, ac);
    await sleep(50);
    child.go();
    const results: { pid: number; status?: number; error?: string }[] = await child.result;
    const mine = (await seen).filter((e) => e.ppid === child.pid);
    assert.equal(mine.length, N + 1, 'each exec once, the failed one included');
    for (let i = 0; i < N; i++) {
      const e = mine[i]!;
      assert.equal(e.pid, results[i]!.pid);
      assert.equal(e.tid, e.pid);
      assert.equal(e.ppid, child.pid);
      assert.equal(e.uid, 0);
      assert.equal(e.comm, 'echo', 'comm after exec');
      assert.equal(e.ret, 0);
      assert.deepEqual(e.args, ['/bin/echo', `arg-${i}`, 'with space', 'é']);
      assert.equal(e.truncated, false);
    }
    const bad = mine[N]!;
    assert.equal(results[N]!.error, 'ENOENT');
    assert.equal(bad.ret, -2, 'ENOENT');
    assert.deepEqual(bad.args, ['/nonexistent/tsbpf-missing', 'x']);
    assert.equal(bad.comm, 'ex-storm', 'a failed exec keeps the old comm');
    assert.equal(tracer.lost, 0);
  } finally {
    tracer.close();
  }
  await assertReleased(ids);
});

test('failed execs are left out by default (in the kernel); long argument lists are cut at maxArgs', async (t) => {
  if (!needsRoot(t)) return;
  const tracer = await ExecsnoopTracer.open({ maxArgs: 3 });
  try {
    const body = `
const { spawnSync } = require('child_process');
spawnSync('/nonexistent/tsbpf-missing', ['x'], { stdio: 'ignore' });
return spawnSync('/bin/true', ['a', 'b', 'c', 'd', 'e'], { stdio: 'ignore' }).pid;
`;
    const child = await startChild('ex-cut', body, {});
    const ac = new AbortController();
    const seen = collectUntil(tracer.events(ac.signal), (l) => l.some((e) => e.ppid === child.pid), 8000, ac);
    await sleep(50);
    child.go();
    const pid: number = await child.result;
    // the first event of the child ends the wait (not a fixed sleep, which a loaded machine outlasts):
    // the failed exec came first, so an event for it would be this one, with another pid
    const mine = (await seen).filter((e: Exec) => e.ppid === child.pid);
    assert.equal(mine.length, 1, 'only the successful exec');
    assert.equal(mine[0]!.pid, pid);
    assert.deepEqual(mine[0]!.args, ['/bin/true', 'a', 'b']);
    assert.equal(mine[0]!.truncated, true);
  } finally {
    tracer.close();
  }
  await assert.rejects(ExecsnoopTracer.open({ maxArgs: 61 }), /maxArgs/);
});

// syscount against this kernel: a compiled loop makes known numbers of syscalls; the kernel counts
// them exactly, per syscall and per process, with failures and errno filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Syscount } from '../../src/tools/syscount/index.js';
import { syscallName, syscallNumber } from '../../src/tools/syscount/syscalls.js';
import { table } from '../../src/tools/syscount/cli.js';
import { needsRoot, needsCommand } from '../helpers/kernel.js';
import { sysloop } from './connloop.js';
import { startBinary, assertReleased, sleep } from './workload.js';

const N = 3000;

test('exact counts per syscall for one process, with latency', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'gcc')) return;
  const c = startBinary(sysloop(), [String(N), 'sc-loop']);
  const s = await Syscount.open({ pid: c.pid, latency: true });
  const ids = s.kernelIds();
  try {
    await sleep(50);
    c.go();
    assert.equal(await c.exited, 0);
    const rows = s.snapshot();
    const by = new Map(rows.map((r) => [r.name, r]));
    assert.equal(by.get('getppid')?.count, N);
    assert.equal(by.get('getppid')?.key, syscallNumber('getppid'));
    assert.ok((by.get('close')?.count ?? 0) >= N / 2);
    assert.ok(by.get('getppid')!.totalNs > 0, 'latency measured');
    const top = s.top(1);
    assert.equal(top.length, 1);
    const text = table(rows.slice(0, 2), { latency: true });
    assert.match(text, /^SYSCALL\s+COUNT\s+TIME \(us\)\n/);
  } finally {
    s.close();
  }
  await assertReleased(ids);
});

test('failures by errno, and per process', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'gcc')) return;
  const c = startBinary(sysloop(), [String(N), 'sc-fail']);
  const bad = await Syscount.open({ pid: c.pid, errno: 9 });
  const proc = await Syscount.open({ pid: c.pid, perProcess: true });
  try {
    await sleep(50);
    c.go();
    await c.exited;
    assert.deepEqual(bad.snapshot().map((r) => [r.name, r.count]), [['close', N / 2]], 'only close(-1) fails with EBADF');
    const p = proc.snapshot();
    assert.equal(p.length, 1);
    assert.equal(p[0]!.key, c.pid);
    assert.equal(p[0]!.name, 'sc-fail');
    assert.ok(p[0]!.count >= N + N / 2);
  } finally {
    bad.close();
    proc.close();
  }
  assert.equal(syscallName(0), 'read');
  assert.equal(syscallName(100000), '[unknown: 100000]');
});

// opensnoop against this kernel: a child opens files that exist, do not, and cannot be opened;
// each open is reported with its path, flags, fd or errno; the pid and failed filters run in the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, constants as C } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OpensnoopTracer } from '../../src/tools/opensnoop/index.js';
import { needsRoot } from '../helpers/kernel.js';
import { startChild, collectUntil, assertReleased, sleep } from './workload.js';

const O_CLOEXEC = 0o2000000;

const OPENS = `
const fs = require('fs');
const out = [];
for (const [path, flags] of args.opens) {
  try { out.push({ path, fd: fs.openSync(path, flags) }); }
  catch (e) { out.push({ path, err: e.errno }); }
}
return out;
`;

test('opens that succeed and fail: path, flags, fd and errno exact, pid filtered in the kernel', async (t) => {
  if (!needsRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-opensnoop-'));
  writeFileSync(join(dir, 'present'), 'x');
  const opens: [string, number][] = [
    [join(dir, 'present'), C.O_RDONLY],
    [join(dir, 'missing'), C.O_RDONLY],
    [join(dir, 'created'), C.O_WRONLY | C.O_CREAT | C.O_TRUNC],
    [dir, C.O_WRONLY],
  ];
  try {
    const child = await startChild('os-child', OPENS, { opens });
    const tracer = await OpensnoopTracer.open({ pid: child.pid });
    const ids = tracer.kernelIds();
    try {
      const ac = new AbortController();
      const seen = collectUntil(tracer.events(ac.signal), (l) => l.filter((e) => e.path.startsWith(dir)).length >= opens.length, 8000, ac);
      await sleep(50);
      child.go();
      const results: { path: string; fd?: number; err?: number }[] = await child.result;
      const evs = await seen;
      assert.ok(evs.every((e) => e.pid === child.pid), 'only the child (pid filter)');
      const mine = evs.filter((e) => e.path.startsWith(dir));
      assert.equal(mine.length, opens.length);
      mine.forEach((e, i) => {
        const [path, flags] = opens[i]!;
        const r = results[i]!;
        assert.equal(e.path, path);
        assert.equal(e.comm, 'os-child');
        assert.equal(e.tid, child.pid);
        assert.equal(e.syscall, 'openat');
        assert.equal(e.flags & ~O_CLOEXEC, flags, 'flags as given (node adds O_CLOEXEC)');
        if (r.fd !== undefined) {
          assert.equal(e.fd, r.fd);
          assert.equal(e.errno, 0);
        } else {
          assert.equal(e.fd, -1);
          assert.equal(-e.errno, r.err, 'errno as the child saw it');
        }
        assert.ok(e.latencyNs > 0);
      });
      assert.equal(mine[1]!.errno, 2, 'ENOENT');
      assert.equal(mine[3]!.errno, 21, 'EISDIR');
    } finally {
      tracer.close();
    }
    await assertReleased(ids);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('failed: only failed opens are sent', async (t) => {
  if (!needsRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-opensnoop-'));
  writeFileSync(join(dir, 'present'), 'x');
  try {
    const child = await startChild('os-fail', OPENS, { opens: [[join(dir, 'present'), 0], [join(dir, 'nope'), 0], [join(dir, 'present'), 0]] });
    const tracer = await OpensnoopTracer.open({ pid: child.pid, failed: true });
    try {
      const ac = new AbortController();
      const seen = collectUntil(tracer.events(ac.signal), () => false, 1500, ac);
      await sleep(50);
      child.go();
      await child.result;
      const mine = (await seen).filter((e) => e.path.startsWith(dir));
      assert.deepEqual(mine.map((e) => [e.path, e.errno]), [[join(dir, 'nope'), 2]]);
    } finally {
      tracer.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Output under load to a reader that does not keep up (the issue measured 97 -> 843 MB in 120 s of
// tcpconnect): `trace` printing a line per system call of the whole machine into a full pipe nobody
// reads keeps its memory bounded, drops what does not fit and says how much (stderr, and a JSON
// line with -f json), and Ctrl+C still detaches everything at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { needsRoot } from '../helpers/kernel.js';
import { devFull, headOne, kernelMark, leftAfter, running, sleep, stalledPipe } from '../helpers/endings.js';

const rssMb = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

test('a stalled reader under load: bounded memory, lost records reported, Ctrl+C still detaches', async (t) => {
  if (!needsRoot(t)) return;
  const names = /^tracepoint_raw_/;
  const mark = kernelMark();
  const rss: number[] = [];
  const r = await stalledPipe(
    ['trace', '-f', 'json', 'tracepoint:raw_syscalls:sys_enter { printf("%d %s %d\\n", pid, comm, nsecs); }'],
    { summary: /./, names },
    async (pid) => {
      assert.deepEqual(await leftAfter(mark, names, 8000), [], 'programs left while stalled');
      assert.ok(running(pid));
    },
    async (pid) => {
      // every system call of the machine, its own included, makes a line: the queue fills in moments
      for (let i = 0; i < 15; i++) {
        rss.push(rssMb(pid));
        await sleep(200);
      }
    },
  );
  assert.equal(r.code, 0, r.stderr);
  const lost = [...r.stderr.matchAll(/^Lost (\d+) records: standard output is not read fast enough \((\d+) in total\)$/gm)];
  assert.ok(lost.length > 0 && Number(lost.at(-1)![2]) > 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; cause?: string; lost?: number; total?: number });
  const reported = lines.filter((l) => l.type === 'lost');
  assert.ok(reported.length > 0 && reported.every((l) => l.cause === 'output' && l.lost! > 0), 'lost records in the JSON output');
  assert.ok(Math.max(...rss) - rss[0]! < 64, `memory grew from ${rss[0]} to ${Math.max(...rss)} MB`);
  assert.ok(lines.some((l) => l.type === 'printf'), 'what fitted arrived');
});

test('commands that print and exit: | head -1 ends them quietly (141), /dev/full is one line and exit 1', async (t) => {
  if (!needsRoot(t)) return;
  for (const args of [['btf', 'dump'], ['syscount', '--list'], ['trace', '-l', '*']]) {
    const h = await headOne(args);
    assert.ok(h.status === 141 || h.status === 0, `${args.join(' ')} | head -1: status ${h.status} ${h.stderr}`);
    assert.equal(h.stderr, '', args.join(' '));
    assert.equal(h.stdout.split('\n').length, 2);
    const f = await devFull(args);
    assert.equal(f.code, 1, `${args.join(' ')}: ${f.stderr}`);
    assert.equal(f.stderr, 'tsbpf: cannot write to standard output: No space left on device (ENOSPC)\n', args.join(' '));
  }
});

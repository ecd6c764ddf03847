import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { u32 } from '../../src/maps/codec.js';
import { attachTracepoint } from '../../src/link/tracepoint.js';
import { isParsed, parseTraceLine, tracePipe, type TraceLine } from '../../src/tracefs/pipe.js';
import { ownedFds } from '../../src/sys/fds.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { Helper, add64Imm, call, exit, mov64Imm, mov64Reg, onlyTgidFrom, stackString } from '../kernel/asm.js';
import { runTarget } from '../link/target.js';

test('parses trace_pipe lines, with and without tgid, comm with dashes and spaces; raw fallback', () => {
  const a = parseTraceLine('           <...>-1234    [001] d..31  5123.456789: bpf_trace_printk: hello world');
  assert.ok(isParsed(a));
  assert.deepEqual({ ...a, raw: '' }, { comm: '<...>', pid: 1234, cpu: 1, flags: 'd..31', timestamp: 5123.456789, event: 'bpf_trace_printk', message: 'hello world', raw: '' });
  const b = parseTraceLine(' my-prog name-77   (     70) [000] ..... 12.000001: bpf_trace_printk: x: 1');
  assert.ok(isParsed(b));
  assert.equal(b.comm, 'my-prog name');
  assert.equal(b.pid, 77);
  assert.equal(b.tgid, 70);
  assert.equal(b.message, 'x: 1');
  const c = parseTraceLine('kworker/0:1-12 [000] 99.5: sched_switch: prev=a');
  assert.ok(isParsed(c));
  assert.equal(c.flags, '');
  assert.equal(c.comm, 'kworker/0:1');
  for (const raw of ['', 'garbage', 'CPU:1 [LOST 12 EVENTS]', '-1 [0] 1.0']) {
    const r = parseTraceLine(raw);
    assert.equal(isParsed(r), false);
    assert.equal(r.raw, raw);
  }
});

test('bpf_trace_printk from a tracepoint: the line arrives with the child\'s pid and the message', async (t) => {
  if (!needsRoot(t)) return;
  const token = `tsbpf-${process.pid}-${Date.now() % 100000}`;
  const maps: number[] = [], progs: number[] = [];
  const fdsBefore = ownedFds().size;
  {
    using filter = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, key: u32, value: u32 });
    maps.push(filter.id);
    const fmt = `${token} %d\n`;
    const fmtLen = new TextEncoder().encode(fmt).length + 1;
    const fmtOff = -((fmtLen + 7) & ~7) - 8;
    using prog = Program.load({
      type: ProgramType.TRACEPOINT,
      license: 'GPL',
      name: 'printk',
      instructions: [
        mov64Reg(6, 1),
        ...onlyTgidFrom(filter.fd),
        ...stackString(fmt, fmtOff),
        mov64Reg(1, 10),
        add64Imm(1, fmtOff),
        mov64Imm(2, fmtLen),
        mov64Reg(3, 7),
        call(Helper.trace_printk),
        mov64Imm(0, 0),
        exit(),
      ],
    });
    progs.push(prog.id);
    using _link = attachTracepoint(prog, 'syscalls', 'sys_enter_getpid');
    const signal = AbortSignal.timeout(10_000);
    const lines = tracePipe({ signal });
    const pid = await runTarget('getpid', 3, (p) => filter.set(0, p));
    const mine: TraceLine[] = [];
    for await (const l of lines) {
      if (isParsed(l) && l.message.startsWith(token)) mine.push(l);
      if (mine.length === 3) break;
    }
    assert.equal(mine.length, 3);
    for (const l of mine) {
      assert.equal(l.pid, pid);
      assert.equal(l.message, `${token} ${pid}`);
      assert.equal(l.event, 'bpf_trace_printk');
      assert.ok(l.comm.startsWith('tsbpf-target'));
      assert.ok(l.timestamp > 0);
    }
  }
  assert.equal(ownedFds().size, fdsBefore, 'trace_pipe fd closed when the loop ended');
  await assertGone('prog', progs);
  await assertGone('map', maps);
});

test('tracePipe stops on abort with nothing to read', async (t) => {
  if (!needsRoot(t)) return;
  const ac = new AbortController();
  const it = tracePipe({ signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  const seen: unknown[] = [];
  for await (const l of it) seen.push(l); // other processes' lines may arrive; the loop must end
  assert.ok(Array.isArray(seen));
});

test('trace line parser: fuzzed and pathological lines never throw or hang', () => {
  const base = '  some-comm-1234  (  1234) [001] d..31  5123.456789: bpf_trace_printk: hello: world';
  let seed = 5;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const chars = ' -[]():.0123456789abc\t';
  for (let i = 0; i < 2000; i++) {
    const a = base.split('');
    for (let j = 0; j < 5; j++) a[rnd() % a.length] = chars[rnd() % chars.length]!;
    const l = parseTraceLine(a.join(''));
    assert.equal(typeof l.raw, 'string');
  }
  const t0 = Date.now();
  parseTraceLine(`${'-'.repeat(20000)}1 [0] 1.0: x: y`);
  parseTraceLine(`${'a-1 '.repeat(5000)}`);
  assert.ok(Date.now() - t0 < 2000, 'no catastrophic backtracking');
});

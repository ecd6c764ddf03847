// profile against this kernel: compiled CPU-bound loops with known function names are sampled;
// user stacks resolve to those functions in call order, kernel stacks to kernel functions, and
// the folded stacks and the flame graph carry them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Profile } from '../../src/tools/profile/index.js';
import { renderFlameGraph, foldedText } from '../../src/tools/common/flamegraph.js';
import { needsRoot, needsCommand } from '../helpers/kernel.js';
import { cpuhog } from './connloop.js';
import { startBinary, assertReleased, sleep } from './workload.js';

/** utime + stime of a process in seconds, from /proc/PID/stat (clock ticks of 100 Hz). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

test('user stacks of a CPU loop: spin_inner <- spin_outer <- main, at the asked frequency', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'gcc')) return;
  const HZ = 99;
  const SECS = 2;
  const c = startBinary(cpuhog(), ['user', String(SECS), 'pf-user']);
  const p = await Profile.open({ pid: c.pid, frequency: HZ });
  const ids = p.kernelIds();
  try {
    await sleep(50);
    c.go();
    await sleep(SECS * 1000 - 100);
    // symbolize while the process still runs (its maps are read now), with the CPU time it had
    const cpu = cpuSeconds(c.pid);
    const samples = p.samples();
    await c.exited;
    const total = samples.reduce((a, s) => a + s.count, 0);
    assert.ok(samples.every((s) => s.pid === c.pid && s.comm === 'pf-user'), 'pid filter in the kernel');
    // samples follow the CPU time the process got (the machine may be shared): HZ per CPU second
    t.diagnostic(`${total} samples for ${cpu.toFixed(2)} s of CPU at ${HZ} Hz`);
    assert.ok(Math.abs(total - cpu * HZ) <= cpu * HZ * 0.25 + 5, `${total} samples for ${cpu.toFixed(2)} CPU seconds`);
    const inLoop = samples.filter((s) => s.user[0] === 'spin_inner');
    const inLoopCount = inLoop.reduce((a, s) => a + s.count, 0);
    assert.ok(inLoopCount >= total * 0.8, `${inLoopCount} of ${total} samples in spin_inner`);
    for (const s of inLoop) assert.deepEqual(s.user.slice(0, 3), ['spin_inner', 'spin_outer', 'main'], s.user.join(' <- '));
    const folded = p.folded(samples);
    const line = [...folded.keys()].find((k) => k.includes('main;spin_outer;spin_inner'));
    assert.ok(line?.startsWith('pf-user;'), `folded: ${foldedText(folded).slice(0, 300)}`);
    const svg = renderFlameGraph(folded);
    assert.match(svg, /<title>spin_inner \(\d+ samples, [\d.]+%\)<\/title>/);
  } finally {
    p.close();
    c.proc.kill();
  }
  await assertReleased(ids);
});

test('kernel stacks of a syscall loop resolve through /proc/kallsyms', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'gcc')) return;
  const c = startBinary(cpuhog(), ['sys', '1.5', 'pf-sys']);
  const p = await Profile.open({ pid: c.pid, frequency: 199 });
  try {
    await sleep(50);
    c.go();
    await sleep(1300);
    const samples = p.samples();
    await c.exited;
    const withKernel = samples.filter((s) => s.kernel.length > 0);
    assert.ok(withKernel.length > 0, 'some samples in the kernel');
    const names = new Set(withKernel.flatMap((s) => s.kernel));
    assert.ok([...names].some((n) => /getppid|do_syscall_64|entry_SYSCALL_64/.test(n)), [...names].slice(0, 20).join(' '));
    assert.ok([...names].every((n) => !/^0x/.test(n)), 'every kernel frame symbolized');
    assert.ok(samples.some((s) => s.user.includes('sys_spin')), 'user side of the syscall loop');
    const folded = foldedText(p.folded(samples));
    assert.match(folded, /_\[k\];?/);
  } finally {
    p.close();
    c.proc.kill();
  }
});

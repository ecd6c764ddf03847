// The seed's worked example on this kernel, as its users run it: the kprobe form through `tsbpf run`
// and through the TypeScript loader prints "PID <pid> -> <a.b.c.d>:<port>" with the real destination;
// the listing as the seed wrote it (the socket read at the entry of tcp_v4_connect) prints
// 0.0.0.0:0, and libbpf, loading the same object, prints the same. Where the kernel has no kprobes
// the attach fails with the reason and the tracepoint to use, and nothing stays loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { hasKprobes } from '../../src/kernel/features.js';
import { tracePipe, isParsed } from '../../src/tracefs/pipe.js';
import { drainTracePipe } from '../../src/tracefs/drain.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';
import { connectOnce } from '../helpers/workload.js';
import { compileC } from '../tools/connloop.js';
import { start, tsbpf, type Running } from './cli.js';
import { leftBehind, programsNow } from './cli.js';
import { LIBBPF_RUN } from './libbpf-run.js';

const KPROBE_FORM = repoPath('examples/tcpconnect/tcpconnect_kprobe.bpf.o');
const AT_ENTRY = repoPath('examples/tcpconnect/tcpconnect_sk_at_entry.bpf.o');
const LOADER = fileURLToPath(new URL('../../examples/tcpconnect/loader.js', import.meta.url));

/** A connect made while `r` runs, and the line `r` printed for it. */
async function connectSeen(r: Running, expect: (pid: number, port: number) => RegExp): Promise<string> {
  const c = await connectOnce();
  const m = await r.waitFor(expect(c.pid, c.port));
  return m[0];
}

const realDestination = (pid: number, port: number): RegExp => new RegExp(`PID ${pid} -> 127\\.0\\.0\\.1:${port}\\b`);

test('seed example, kprobe form: the real destination through tsbpf run and the TypeScript loader', async (t) => {
  if (!needsRoot(t)) return;
  const before = programsNow();
  if (!hasKprobes()) {
    const r = tsbpf(['run', KPROBE_FORM, '--duration', '30']);
    assert.notEqual(await r.exited, 0);
    assert.match(r.err, /kprobe tcp_v4_connect/);
    assert.match(r.err, /CONFIG_KPROBES/);
    assert.match(r.err, /sock\/inet_sock_set_state/);
    assert.deepEqual(leftBehind(before, ['tcp_connect']), [], 'nothing left loaded');
    return;
  }
  for (const [name, r] of [['tsbpf run', () => tsbpf(['run', KPROBE_FORM])], ['loader.ts', () => start(process.execPath, [LOADER, KPROBE_FORM])]] as const) {
    const run = r();
    try {
      await run.waitFor(/attached|Press Ctrl\+C/);
      await connectSeen(run, realDestination);
      assert.equal(await run.stop(), 0, `${name} ends cleanly on Ctrl+C:\n${run.err}`);
    } finally {
      await run.stop();
    }
  }
  assert.deepEqual(leftBehind(before, ['tcp_connect']), [], 'nothing left loaded');
});

test("seed listing as written: the socket read at tcp_v4_connect's entry gives 0.0.0.0:0, as libbpf gives", async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'gcc')) return;
  if (!hasKprobes()) {
    const r = tsbpf(['run', AT_ENTRY, '--duration', '30']);
    assert.notEqual(await r.exited, 0);
    assert.match(r.err, /CONFIG_KPROBES/);
    return;
  }
  const ours = tsbpf(['run', AT_ENTRY]);
  let line: string;
  try {
    await ours.waitFor(/Press Ctrl\+C/);
    line = await connectSeen(ours, (pid) => new RegExp(`PID ${pid} -> \\S+`));
  } finally {
    await ours.stop();
  }
  assert.match(line, / -> 0\.0\.0\.0:0$/);

  // libbpf loads the same object; its bpf_printk lines are read from trace_pipe here
  const bin = compileC('libbpf-run', LIBBPF_RUN, ['-O1'], ['-lbpf']);
  drainTracePipe();
  const theirs = start(bin, [AT_ENTRY]);
  const ac = new AbortController();
  try {
    await theirs.waitFor(/attached/);
    const c = await connectOnce();
    let seen: string | undefined;
    const timer = setTimeout(() => ac.abort(), 60_000);
    for await (const l of tracePipe({ signal: ac.signal })) {
      if (isParsed(l) && l.message.startsWith(`PID ${c.pid} -> `)) {
        seen = l.message.trim();
        break;
      }
    }
    clearTimeout(timer);
    assert.equal(seen?.replace(/^PID \d+/, 'PID'), line.replace(/^PID \d+/, 'PID'), 'libbpf prints the same line');
  } finally {
    ac.abort();
    await theirs.stop();
  }
});

// `tsbpf trace` with the function probes, as users write them: kprobe/kretprobe (arguments, retval,
// wildcards) and kfunc/kretfunc (BTF-typed args, retval, wildcards), fired by a connect from a child
// with a known name. Where the kernel lacks kprobes or refuses fentry, the script fails at attach
// with the reason, and nothing stays loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fentry, hasKprobes } from '../../src/kernel/features.js';
import { spawnSync } from 'node:child_process';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { CLI } from '../net-tools/topology.js';
import { startChild, CONNECT_BODY, listen } from '../tools/workload.js';
import { start, tsbpf } from './cli.js';
import { leftBehind, programsNow } from './cli.js';

const MARK = 'trace-kmark';

/** Runs the script; once attached, the child connects to a local listener once; returns stdout after Ctrl+C. */
async function traceConnect(script: string, until: RegExp): Promise<string> {
  const srv = await listen('127.0.0.1');
  const r = tsbpf(['trace', script]);
  try {
    await r.waitFor(/Attaching \d+ probes?\.\.\./);
    const child = await startChild(MARK, CONNECT_BODY, { targets: [{ host: '127.0.0.1', port: srv.port }] });
    child.go();
    await child.result;
    await r.waitFor(until);
    assert.equal(await r.stop(), 0, r.err);
    return r.out;
  } finally {
    await r.stop();
    srv.server.close();
  }
}

/** The script must fail at attach with `reason`, promptly, leaving nothing loaded. */
async function refused(script: string, reason: RegExp): Promise<void> {
  const before = programsNow();
  const r = tsbpf(['trace', script]);
  const code = await r.exited;
  assert.notEqual(code, 0);
  assert.match(r.err, reason);
  assert.deepEqual(leftBehind(before, /^k(ret)?(probe|func)_/), [], 'nothing left loaded');
}

const filter = `/comm == "${MARK}"/`;

test('kprobe and kretprobe: arguments, func, retval and a wildcard, or the reason kprobes are missing', async (t) => {
  if (!needsRoot(t)) return;
  const script = [
    `kprobe:tcp_v4_connect ${filter} { printf("entry %s len=%d\\n", func, arg2); }`,
    `kretprobe:tcp_v4_connect ${filter} { printf("return %d\\n", retval); }`,
    `kprobe:tcp_v*_connect ${filter} { @[probe] = count(); }`,
  ].join('\n');
  if (!hasKprobes()) return refused(script, /CONFIG_KPROBES/);
  const out = await traceConnect(script, /return 0/);
  assert.match(out, /^entry tcp_v4_connect len=16$/m);
  assert.match(out, /^return 0$/m);
  assert.match(out, /^@\[kprobe:tcp_v4_connect\]: 1$/m, 'the wildcard matched tcp_v4_connect and counted it once');
});

test('kfunc and kretfunc: BTF-typed args (through a pointer), retval and a wildcard, or the reason fentry is refused', async (t) => {
  if (!needsRoot(t)) return;
  const script = [
    `kfunc:tcp_v4_connect ${filter} { printf("kfunc len=%d family=%d\\n", args->addr_len, args->uaddr->sa_family); }`,
    `kretfunc:tcp_v4_connect ${filter} { printf("kretfunc len=%d ret=%d\\n", args->addr_len, retval); }`,
    `kfunc:tcp_v*_connect ${filter} { @[probe] = count(); }`,
  ].join('\n');
  if (!fentry().ok) return refused(script, /not permitted|EPERM/);
  const out = await traceConnect(script, /kretfunc len=16 ret=0/);
  assert.match(out, /^kfunc len=16 family=2$/m);
  assert.match(out, /^@\[kfunc:tcp_v4_connect\]: 1$/m);
});

test('kstack where the kernel gives one: a kprobe names its function; a syscall tracepoint as bpftrace sees it', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'bpftrace')) return;
  if (hasKprobes()) {
    const out = await traceConnect(`kprobe:tcp_v4_connect ${filter} { printf("stack:%s\\n", kstack(2)); }`, /stack:\n(\s+\S+\n){1,2}/);
    assert.match(out, /^stack:\n\s+tcp_v4_connect\+\d+\n/m, 'the first frame is the probed function');
  }
  // syscall tracepoints: kernels before 6.2 hand BPF the user registers only (an empty kernel
  // stack); whatever this kernel does, both tools print the same
  const script = 'tracepoint:syscalls:sys_enter_getppid /comm == "trace-kstack"/ { @[kstack(3)] = count(); }';
  const run = async (cmd: string[]): Promise<string> => {
    const r = start(cmd[0]!, [...cmd.slice(1), script]);
    try {
      await r.waitFor(/Attaching \d+ probes?\.\.\./);
      await new Promise((res) => setTimeout(res, 1000));
      spawnSync('python3', ['-c', 'import ctypes, os\nctypes.CDLL(None).prctl(15, b"trace-kstack")\nfor _ in range(3): os.getppid()']);
      await new Promise((res) => setTimeout(res, 500));
    } finally {
      await r.stop();
    }
    return r.out.slice(r.out.indexOf('@'));
  };
  const ours = await run([process.execPath, ...CLI, 'trace']);
  const theirs = await run(['bpftrace', '-e']);
  const frames = (s: string): string[] => s.split('\n').filter((l) => /^\s+\S/.test(l)).map((l) => l.trim().replace(/\+\d+$/, ''));
  assert.deepEqual(frames(ours), frames(theirs), `tsbpf:\n${ours}\nbpftrace:\n${theirs}`);
  assert.match(ours, /\]: 3$/m, 'three calls, one key');
});

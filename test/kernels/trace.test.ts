// `tsbpf trace` with the function probes, as users write them: kprobe/kretprobe (arguments, retval,
// wildcards) and kfunc/kretfunc (BTF-typed args, retval, wildcards), fired by a connect from a child
// with a known name. Where the kernel lacks kprobes or refuses fentry, the script fails at attach
// with the reason, and nothing stays loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fentry, hasKprobes } from '../../src/sys/features.js';
import { needsRoot } from '../helpers/kernel.js';
import { startChild, CONNECT_BODY, listen } from '../tools/workload.js';
import { tsbpf } from './cli.js';
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

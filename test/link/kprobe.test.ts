import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Program } from '../../src/kernel/program.js';
import { attachKprobe, attachKprobeMulti } from '../../src/link/kprobe.js';
import { attachTracing } from '../../src/link/tracepoint.js';
import { SyscallError } from '../../src/sys/errors.js';
import { ownedFds } from '../../src/sys/fds.js';
import { pendingCleanups } from '../../src/sys/cleanup.js';
import { fentry, hasKprobes } from '../../src/sys/features.js';
import { funcBtfId } from '../../src/sys/vmlinux.js';
import { AttachType, ProgramType } from '../../src/uapi/bpf.js';
import { needsRoot } from '../helpers/kernel.js';
import { exit, mov64Imm } from '../kernel/asm.js';

test('kprobe: without CONFIG_KPROBES the error names the config and the tracepoint to use instead, and nothing is left', (t) => {
  if (!needsRoot(t)) return;
  if (hasKprobes()) {
    // A kernel with kprobes: the attachment must work (and leave nothing behind on close).
    using prog = Program.load({ type: ProgramType.KPROBE, license: 'GPL', instructions: [mov64Imm(0, 0), exit()] });
    const fds = ownedFds().size;
    const link = attachKprobe(prog, 'tcp_v4_connect');
    link.close();
    assert.equal(ownedFds().size, fds);
    assert.deepEqual(pendingCleanups().filter((c) => c.includes('kprobe')), []);
    return;
  }
  using prog = Program.load({ type: ProgramType.KPROBE, license: 'GPL', instructions: [mov64Imm(0, 0), exit()] });
  const before = ownedFds().size;
  const err = (() => {
    try {
      attachKprobe(prog, 'tcp_v4_connect');
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof SyscallError);
  assert.equal(err.code, 'EOPNOTSUPP');
  assert.match(err.message, /kprobe tcp_v4_connect/);
  assert.match(err.message, /CONFIG_KPROBES/);
  assert.match(err.message, /sock\/inet_sock_set_state/);
  assert.throws(() => attachKprobe(prog, 'tcp_v4_connect', { retprobe: true }), /kretprobe tcp_v4_connect.*CONFIG_KPROBES/);
  assert.equal(ownedFds().size, before);
  assert.deepEqual(pendingCleanups().filter((c) => c.includes('kprobe')), []);
  const events = '/sys/kernel/tracing/kprobe_events';
  if (existsSync(events)) assert.doesNotMatch(readFileSync(events, 'utf8'), new RegExp(`tsbpf_${process.pid}_`));
});

test('fentry: EPERM here, with the hint to use tp_btf or a tracepoint', (t) => {
  if (!needsRoot(t)) return;
  const probe = fentry();
  if (probe.ok) {
    // Permitted here: load and attach for real.
    using p = Program.load({ type: ProgramType.TRACING, expectedAttachType: AttachType.TRACE_FENTRY, attachBtfId: funcBtfId('tcp_v4_connect'), license: 'GPL', instructions: [mov64Imm(0, 0), exit()] });
    attachTracing(p).close();
    return;
  }
  assert.equal(probe.errno, 1);
  assert.throws(
    () => Program.load({ type: ProgramType.TRACING, expectedAttachType: AttachType.TRACE_FENTRY, attachBtfId: funcBtfId('tcp_v4_connect'), license: 'GPL', instructions: [mov64Imm(0, 0), exit()] }),
    (e: unknown) => e instanceof SyscallError && e.code === 'EPERM' && /attach not permitted on this kernel — use tp_btf or a tracepoint/.test(e.message),
  );
});

test('kprobe.multi: attaches where kprobes exist, else the same CONFIG_KPROBES explanation', (t) => {
  if (!needsRoot(t)) return;
  let prog: Program;
  try {
    prog = Program.load({ type: ProgramType.KPROBE, expectedAttachType: AttachType.TRACE_KPROBE_MULTI, license: 'GPL', instructions: [mov64Imm(0, 0), exit()] });
  } catch (e) {
    // Loading already fails without kprobe_multi support: the error must say what failed.
    assert.ok(e instanceof SyscallError);
    assert.match(e.message, /BPF_PROG_LOAD KPROBE/);
    return;
  }
  using _p = prog;
  const before = ownedFds().size;
  if (hasKprobes()) {
    attachKprobeMulti(prog, { symbols: ['tcp_v4_connect', 'tcp_v6_connect'] }).close();
  } else {
    assert.throws(() => attachKprobeMulti(prog, { symbols: ['tcp_v4_connect', 'tcp_v6_connect'] }),
      (e: unknown) => e instanceof SyscallError && /kprobe\.multi tcp_v4_connect,tcp_v6_connect/.test(e.message) && /CONFIG_KPROBES/.test(e.message));
  }
  assert.equal(ownedFds().size, before);
  assert.throws(() => attachKprobeMulti(prog, { symbols: ['a', 'b'], cookies: [1n] }), RangeError);
});

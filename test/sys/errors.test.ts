import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Errno, HINT_FENTRY_DENIED, HINT_NO_KPROBES, SyscallError, VerifierError, check, describeErrno, failingInstruction, verifierReason,
} from '../../src/sys/errors.js';

const LOG = `func#0 @0
0: R1=ctx() R10=fp0
0: (b7) r0 = 0                        ; R0_w=0
1: (79) r0 = *(u64 *)(r2 +0)
R2 !read_ok
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`;

test('errno names and messages, including the kernel-only ENOTSUPP', () => {
  assert.deepEqual(describeErrno(1), ['EPERM', 'Operation not permitted']);
  assert.equal(describeErrno(Errno.EACCES)[0], 'EACCES');
  assert.equal(describeErrno(Errno.ENOTSUPP)[0], 'ENOTSUPP');
  assert.equal(describeErrno(99999)[0].startsWith('E'), true);
});

test('SyscallError carries errno, code, syscall, operation and a hint; check() passes results through', () => {
  const e = new SyscallError('bpf', Errno.EPERM, 'BPF_PROG_LOAD KPROBE');
  assert.equal(e.errno, 1);
  assert.equal(e.code, 'EPERM');
  assert.equal(e.syscall, 'bpf');
  assert.equal(e.operation, 'BPF_PROG_LOAD KPROBE');
  assert.ok(e.hint && /lockdown|CAP_BPF/.test(e.hint));
  assert.match(e.message, /^BPF_PROG_LOAD KPROBE: EPERM \(Operation not permitted\) — /);
  assert.ok(e instanceof Error);
  assert.equal(new SyscallError('bpf', Errno.EPERM, 'x', HINT_FENTRY_DENIED).hint, HINT_FENTRY_DENIED);
  assert.match(new SyscallError('perf_event_open', Errno.EOPNOTSUPP, 'attach kprobe f', HINT_NO_KPROBES).message, /CONFIG_KPROBES/);
  assert.match(new SyscallError('bpf', Errno.ENOSPC, 'BPF_PROG_LOAD x').message, /log buffer/);
  assert.match(new SyscallError('bpf', Errno.ENOSPC, 'update on map').message, /map is full/);
  assert.match(new SyscallError('bpf', Errno.E2BIG, 'x').message, /too big/);
  assert.match(new SyscallError('bpf', Errno.EINVAL, 'x').message, /rejected an argument/);
  assert.equal(check(5, 'bpf', 'x'), 5);
  assert.throws(() => check(-Errno.EBADF, 'bpf', 'op'), (err: unknown) => err instanceof SyscallError && err.code === 'EBADF');
});

test('verifier logs: failing instruction and reason are found; odd logs do not break', () => {
  assert.equal(failingInstruction(LOG), 1);
  assert.equal(verifierReason(LOG), 'R2 !read_ok');
  assert.equal(failingInstruction(''), undefined);
  assert.equal(verifierReason(''), undefined);
  assert.equal(failingInstruction('last insn is not an exit or jmp\nprocessed 0 insns'), undefined);
  assert.equal(verifierReason('last insn is not an exit or jmp\nprocessed 0 insns'), 'last insn is not an exit or jmp');
  assert.equal(failingInstruction('invalid insn idx 7'), 7);
  const v = new VerifierError(Errno.EACCES, 'BPF_PROG_LOAD SOCKET_FILTER', LOG, (slot) => `x.c:${slot + 10}: r0 = *p;`);
  assert.equal(v.instruction, 1);
  assert.equal(v.source, 'x.c:11: r0 = *p;');
  assert.equal(v.reason, 'R2 !read_ok');
  assert.equal(v.log, LOG);
  assert.match(v.message, /verifier rejected the program at instruction 1: R2 !read_ok\n  source: x\.c:11/);
  assert.ok(v instanceof SyscallError);
  const throwing = new VerifierError(Errno.EACCES, 'x', LOG, () => {
    throw new Error('bad line info');
  });
  assert.equal(throwing.source, undefined);
  // fuzz: random text never throws from the parsers
  let seed = 11;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 300; i++) {
    const a = LOG.split('');
    for (let j = 0; j < 10; j++) a[rnd() % a.length] = String.fromCharCode(rnd() % 128);
    const s = a.join('');
    failingInstruction(s);
    verifierReason(s);
    void new VerifierError(Errno.EACCES, 'x', s);
  }
});

test('map-specific hints: a full map or an index out of range', () => {
  assert.match(new SyscallError('bpf', Errno.E2BIG, 'update on map "h" (HASH)').message, /map is full/);
});

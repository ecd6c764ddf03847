// The function-level attach types against this kernel: kprobe, kretprobe, kprobe.multi, fentry,
// fexit and uprobe.multi. Where the feature probe says the kernel has one, it attaches and fires for
// a known process (counted per tgid, and per cookie for the multi links); where it does not, the
// attach fails with an error that names what is missing and what to use instead, and nothing leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { u64 } from '../../src/maps/codec.js';
import { attachKprobe, attachKprobeMulti, attachUprobeMulti } from '../../src/link/kprobe.js';
import { attachTracing } from '../../src/link/tracepoint.js';
import { SyscallError } from '../../src/sys/errors.js';
import { ownedFds } from '../../src/sys/fds.js';
import { pendingCleanups } from '../../src/sys/cleanup.js';
import { fentry, hasKprobes, kprobeMulti, uprobeMulti } from '../../src/kernel/features.js';
import { funcBtfId } from '../../src/kernel/vmlinux.js';
import { AttachType, MapType, ProgramType } from '../../src/uapi/bpf.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { needsRoot } from '../helpers/kernel.js';
import { connectOnce } from '../helpers/workload.js';
import { assertGone } from '../kernel/leaks.js';
import { insn } from '../../src/isa/instruction.js';
import * as op from '../../src/isa/opcodes.js';
import { DW, Helper, add64Imm, atomicAdd, call, exit, jneImm, ldMapFd, mov64Imm, mov64Reg, rsh64Imm, stx, st } from '../kernel/asm.js';
import { runTarget, targetBinary } from '../link/target.js';

const GET_ATTACH_COOKIE = 174;
const lsh64Imm = (dst: number, imm: number): Instruction => insn(op.BPF_ALU64 | op.BPF_LSH | op.BPF_K, dst, 0, 0, imm);
const or64Reg = (dst: number, src: number): Instruction => insn(op.BPF_ALU64 | op.BPF_OR | op.BPF_X, dst, src);

/** counts[tgid << 32 | cookie] += 1 (the cookie only when `cookie`: multi links set one per target) */
function countingProgram(map: BpfMap<bigint, bigint>, o: { type: ProgramType; expectedAttachType?: AttachType; attachBtfId?: number; cookie?: boolean }): Program {
  const first: Instruction[] = [
    st(DW, 10, -16, 1),
    ...ldMapFd(1, map.fd),
    mov64Reg(2, 10),
    add64Imm(2, -8),
    mov64Reg(3, 10),
    add64Imm(3, -16),
    mov64Imm(4, 0), // BPF_ANY
    call(Helper.map_update_elem),
    mov64Imm(0, 0),
    exit(),
  ];
  const insns: Instruction[] = [
    mov64Imm(7, 0),
    ...(o.cookie ? [call(GET_ATTACH_COOKIE), mov64Reg(7, 0)] : []), // r1 is still the context here
    call(Helper.get_current_pid_tgid),
    rsh64Imm(0, 32),
    lsh64Imm(0, 32),
    or64Reg(0, 7),
    stx(DW, 10, 0, -8),
    ...ldMapFd(1, map.fd),
    mov64Reg(2, 10),
    add64Imm(2, -8),
    call(Helper.map_lookup_elem),
    jneImm(0, 0, first.length), // found: count; else insert 1
    ...first,
    mov64Imm(1, 1),
    atomicAdd(DW, 0, 1, 0),
    mov64Imm(0, 0),
    exit(),
  ];
  return Program.load({ ...o, license: 'GPL', name: 'count_tgid', instructions: insns });
}

const counts = (): BpfMap<bigint, bigint> => BpfMap.create({ type: MapType.HASH, keySize: 8, valueSize: 8, maxEntries: 1024, key: u64, value: u64 });
const key = (pid: number, cookie = 0n): bigint => (BigInt(pid) << 32n) | cookie;

function failure(f: () => unknown): SyscallError {
  try {
    f();
  } catch (e) {
    if (e instanceof SyscallError) return e;
    throw e;
  }
  assert.fail('expected the attach to fail');
}

test('kprobe and kretprobe on tcp_v4_connect fire once per connect (else: CONFIG_KPROBES and the tracepoint to use)', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  {
    using onEntry = counts();
    using onReturn = counts();
    using entry = countingProgram(onEntry, { type: ProgramType.KPROBE });
    using ret = countingProgram(onReturn, { type: ProgramType.KPROBE });
    ids.push(entry.id, ret.id);
    const fds = ownedFds().size;
    if (!hasKprobes()) {
      const e = failure(() => attachKprobe(entry, 'tcp_v4_connect'));
      assert.equal(e.code, 'EOPNOTSUPP');
      assert.match(e.message, /kprobe tcp_v4_connect.*CONFIG_KPROBES.*sock\/inet_sock_set_state/s);
      assert.throws(() => attachKprobe(ret, 'tcp_v4_connect', { retprobe: true }), /kretprobe tcp_v4_connect.*CONFIG_KPROBES/s);
    } else {
      using _a = attachKprobe(entry, 'tcp_v4_connect');
      using _b = attachKprobe(ret, 'tcp_v4_connect', { retprobe: true });
      const c = await connectOnce();
      assert.equal(onEntry.get(key(c.pid)), 1n, 'kprobe fired once for the connect');
      assert.equal(onReturn.get(key(c.pid)), 1n, 'kretprobe fired once for the connect');
    }
    assert.equal(ownedFds().size, fds, 'links closed, or never opened');
  }
  assert.deepEqual(pendingCleanups().filter((c) => c.includes('kprobe')), []);
  await assertGone('prog', ids);
});

test('kprobe.multi with cookies fires per function (else: the kernel config it needs)', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  {
    using map = counts();
    let prog: Program;
    try {
      prog = countingProgram(map, { type: ProgramType.KPROBE, expectedAttachType: AttachType.TRACE_KPROBE_MULTI, cookie: true });
    } catch (e) {
      // kernels before 5.18 do not know the attach type
      assert.equal(kprobeMulti().ok, false);
      assert.ok(e instanceof SyscallError, String(e));
      return;
    }
    using _p = prog;
    ids.push(prog.id);
    const probe = kprobeMulti();
    if (!probe.ok) {
      const e = failure(() => attachKprobeMulti(prog, { symbols: ['tcp_v4_connect', 'tcp_v6_connect'] }));
      assert.match(e.message, /kprobe\.multi tcp_v4_connect,tcp_v6_connect/);
      assert.match(e.message, hasKprobes() ? /CONFIG_FPROBE.*attachKprobe/ : /CONFIG_KPROBES/);
    } else {
      using _l = attachKprobeMulti(prog, { symbols: ['tcp_v4_connect', 'tcp_v6_connect'], cookies: [1n, 2n] });
      const c = await connectOnce();
      assert.equal(map.get(key(c.pid, 1n)), 1n, 'tcp_v4_connect, cookie 1');
      assert.equal(map.get(key(c.pid, 2n)), undefined, 'tcp_v6_connect not called');
    }
    assert.throws(() => attachKprobeMulti(prog, { symbols: ['a', 'b'], cookies: [1n] }), RangeError);
  }
  await assertGone('prog', ids);
});

test('fentry and fexit on tcp_v4_connect fire once per connect (else: EPERM with tp_btf to use)', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  {
    using map = counts();
    using map2 = counts();
    const target = funcBtfId('tcp_v4_connect');
    const load = (m: BpfMap<bigint, bigint>, at: AttachType): Program => countingProgram(m, { type: ProgramType.TRACING, expectedAttachType: at, attachBtfId: target });
    if (!fentry().ok) {
      assert.equal(fentry().errno, 1);
      assert.throws(() => load(map, AttachType.TRACE_FENTRY), (e: unknown) => e instanceof SyscallError && e.code === 'EPERM' && /use tp_btf or a tracepoint/.test(e.message));
      return;
    }
    using entry = load(map, AttachType.TRACE_FENTRY);
    using exitProg = load(map2, AttachType.TRACE_FEXIT);
    ids.push(entry.id, exitProg.id);
    using _a = attachTracing(entry);
    using _b = attachTracing(exitProg);
    const c = await connectOnce();
    assert.equal(map.get(key(c.pid)), 1n, 'fentry fired once');
    assert.equal(map2.get(key(c.pid)), 1n, 'fexit fired once');
  }
  await assertGone('prog', ids);
});

test('uprobe.multi with cookies counts the calls of two functions of a binary (else: the kernel it needs)', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  {
    using map = counts();
    let prog: Program;
    try {
      prog = countingProgram(map, { type: ProgramType.KPROBE, expectedAttachType: AttachType.TRACE_UPROBE_MULTI, cookie: true });
    } catch (e) {
      // before 6.6 the attach type itself is unknown
      assert.equal(uprobeMulti().ok, false);
      assert.ok(e instanceof SyscallError, String(e));
      return;
    }
    using _p = prog;
    ids.push(prog.id);
    const bin = targetBinary();
    if (!uprobeMulti().ok) {
      const e = failure(() => attachUprobeMulti(prog, { path: bin, symbols: ['tsbpf_target', 'main'] }));
      assert.match(e.message, /uprobe\.multi/);
    } else {
      using _l = attachUprobeMulti(prog, { path: bin, symbols: ['tsbpf_target', 'main'], cookies: [1n, 2n] });
      const pid = await runTarget('call', 5);
      assert.equal(map.get(key(pid, 1n)), 5n, 'tsbpf_target called 5 times');
      assert.equal(map.get(key(pid, 2n)), 1n, 'main entered once');
    }
  }
  await assertGone('prog', ids);
});

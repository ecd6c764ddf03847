// Programs that emit numbered records, run with PROG_TEST_RUN so the tests know exactly what was sent.
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { u32, u64 } from '../../src/maps/codec.js';
import { possibleCpuCount } from '../../src/sys/cpus.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { assertGone } from '../kernel/leaks.js';
import { insn } from '../../src/isa/instruction.js';
import * as op from '../../src/isa/opcodes.js';
import {
  DW, Helper, W, add64Imm, jaTo, and64Imm, assemble, atomicAdd, atomicFetchAdd, call, exit, jeqTo, jneTo, label, ld64, ldMapFd,
  mov64Imm, mov64Reg, mul64Imm, st, stx,
} from '../kernel/asm.js';

export const MARKER = 0x1122334455667788n;

/** r7 = counter[0]++ (jumps to "out" if the lookup fails). */
const nextSeq = (counterFd: number) => [
  st(W, 10, -4, 0),
  ...ldMapFd(1, counterFd),
  mov64Reg(2, 10),
  add64Imm(2, -4),
  call(Helper.map_lookup_elem),
  jeqTo(0, 0, 'out'),
  mov64Imm(7, 1),
  atomicFetchAdd(0, 7, 0),
];

/** The 24-byte record {marker, seq, seq*3} at fp-32. */
const record = [
  ...ld64(1, MARKER),
  stx(DW, 10, 1, -32),
  stx(DW, 10, 7, -24),
  mov64Reg(1, 7),
  mul64Imm(1, 3),
  stx(DW, 10, 1, -16),
];

/** lost[0]++ */
const countLost = (lostFd: number) => [
  st(W, 10, -4, 0),
  ...ldMapFd(1, lostFd),
  mov64Reg(2, 10),
  add64Imm(2, -4),
  call(Helper.map_lookup_elem),
  jeqTo(0, 0, 'out'),
  mov64Imm(1, 1),
  atomicAdd(DW, 0, 1, 0),
];

/** bpf_ringbuf_output(ring, fp-32, 24, r4), a failure counted in lost[0]; then exit 0. */
const outputRecord = (rbFd: number, lostFd: number) => [
  ...ldMapFd(1, rbFd),
  mov64Reg(2, 10),
  add64Imm(2, -32),
  mov64Imm(3, 24),
  call(Helper.ringbuf_output),
  jeqTo(0, 0, 'out'),
  ...countLost(lostFd),
  label('out'),
  mov64Imm(0, 0),
  exit(),
];

/** bpf_ringbuf_output of {marker, seq, seq*3}; failures counted in lost[0] (the libbpf-tools convention). */
export function ringbufOutputProgram(rbFd: number, counterFd: number, lostFd: number): Program {
  return Program.load({
    type: ProgramType.SOCKET_FILTER,
    license: 'GPL',
    name: 'rb_output',
    instructions: assemble([
      mov64Reg(6, 1),
      ...nextSeq(counterFd),
      ...record,
      mov64Imm(4, 0),
      ...outputRecord(rbFd, lostFd),
    ]),
  });
}

const RINGBUF_QUERY = 134;
const BPF_RB_NO_WAKEUP = 1;
const BPF_RB_FORCE_WAKEUP = 2;

/**
 * bpf_ringbuf_output of {marker, seq, seq*3} the way src/tools/common/events.bpf.h submits: with
 * BPF_RB_NO_WAKEUP while fewer than `wakeupBytes` wait unread (bpf_ringbuf_query AVAIL_DATA), with
 * BPF_RB_FORCE_WAKEUP from there on.
 */
export function ringbufBatchedProgram(rbFd: number, counterFd: number, lostFd: number, wakeupBytes: number): Program {
  return Program.load({
    type: ProgramType.SOCKET_FILTER,
    license: 'GPL',
    name: 'rb_batched',
    instructions: assemble([
      ...nextSeq(counterFd),
      ...record,
      ...ldMapFd(1, rbFd),
      mov64Imm(2, 0), // BPF_RB_AVAIL_DATA
      call(RINGBUF_QUERY),
      mov64Imm(4, BPF_RB_FORCE_WAKEUP),
      { to: 'output', make: (off) => insn(op.BPF_JMP | op.BPF_JGE | op.BPF_K, 0, 0, off, wakeupBytes) },
      mov64Imm(4, BPF_RB_NO_WAKEUP),
      label('output'),
      ...outputRecord(rbFd, lostFd),
    ]),
  });
}

/** bpf_ringbuf_reserve 16 bytes {marker, seq}; odd seqs are discarded, even ones submitted. */
export function ringbufReserveProgram(rbFd: number, counterFd: number): Program {
  return Program.load({
    type: ProgramType.SOCKET_FILTER,
    license: 'GPL',
    name: 'rb_reserve',
    instructions: assemble([
      ...nextSeq(counterFd),
      ...ldMapFd(1, rbFd),
      mov64Imm(2, 16),
      mov64Imm(3, 0),
      call(Helper.ringbuf_reserve),
      jeqTo(0, 0, 'out'),
      ...ld64(1, MARKER),
      stx(DW, 0, 1, 0),
      stx(DW, 0, 7, 8),
      mov64Reg(1, 0),
      mov64Imm(2, 0),
      and64Imm(7, 1),
      jneTo(7, 0, 'discard'),
      call(Helper.ringbuf_submit),
      jaTo('out'),
      label('discard'),
      call(Helper.ringbuf_discard),
      label('out'),
      mov64Imm(0, 0),
      exit(),
    ]),
  });
}

/** bpf_perf_event_output(skb, map, BPF_F_CURRENT_CPU, {marker, seq, seq*3}, 24) from a tc program. */
export function perfOutputProgram(perfFd: number, counterFd: number): Program {
  return Program.load({
    type: ProgramType.SCHED_CLS,
    license: 'GPL',
    name: 'perf_output',
    instructions: assemble([
      mov64Reg(6, 1),
      ...nextSeq(counterFd),
      ...record,
      mov64Reg(1, 6),
      ...ldMapFd(2, perfFd),
      ...ld64(3, 0xffffffffn),
      mov64Reg(4, 10),
      add64Imm(4, -32),
      mov64Imm(5, 24),
      call(Helper.perf_event_output),
      label('out'),
      mov64Imm(0, 0),
      exit(),
    ]),
  });
}

export interface Rec {
  marker: bigint;
  seq: number;
  triple: number;
}

export const decodeRec = (v: DataView): Rec => ({
  marker: v.getBigUint64(0, true),
  seq: Number(v.getBigUint64(8, true)),
  triple: Number(v.getBigUint64(16, true)),
});

export interface Buffers {
  /** the ring buffer or perf event array the program writes to */
  map: BpfMap;
  /** the program's sequence counter and its lost-record counter (array maps of one u64) */
  seq: BpfMap<number, bigint>;
  lost: BpfMap<number, bigint>;
  prog: Program;
}

export const counter = (): BpfMap<number, bigint> => BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, key: u32, value: u64 });

/**
 * Runs `body` with an output map (`{ ringbuf: bytes }`, or `'perf'` for a perf event array over
 * every possible CPU), the two counters and the program `load` makes from their fds; then closes them
 * all and checks that the kernel let go of every map and the program.
 */
export async function withBuffers(
  out: { ringbuf: number } | 'perf',
  load: (fds: { map: number; seq: number; lost: number }) => Program,
  body: (b: Buffers) => Promise<void> | void,
): Promise<void> {
  const maps: number[] = [], progs: number[] = [];
  {
    using map = out === 'perf'
      ? BpfMap.create({ type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: possibleCpuCount() })
      : BpfMap.create({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: out.ringbuf });
    using seq = counter();
    using lost = counter();
    maps.push(map.id, seq.id, lost.id);
    using prog = load({ map: map.fd, seq: seq.fd, lost: lost.fd });
    progs.push(prog.id);
    await body({ map, seq, lost, prog });
  }
  await assertGone('prog', progs);
  await assertGone('map', maps);
}

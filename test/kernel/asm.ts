// Tiny instruction helpers for the kernel-runtime tests (hand-written programs, no assembler needed).
import { insn, splitImm64, LDDW, type Instruction } from '../../src/isa/instruction.js';
import * as op from '../../src/isa/opcodes.js';

export const mov64Imm = (dst: number, imm: number): Instruction => insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst, 0, 0, imm);
export const mov64Reg = (dst: number, src: number): Instruction => insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, dst, src);
export const add64Imm = (dst: number, imm: number): Instruction => insn(op.BPF_ALU64 | op.BPF_ADD | op.BPF_K, dst, 0, 0, imm);
export const rsh64Imm = (dst: number, imm: number): Instruction => insn(op.BPF_ALU64 | op.BPF_RSH | op.BPF_K, dst, 0, 0, imm);
export const exit = (): Instruction => insn(op.BPF_JMP | op.BPF_EXIT);
export const call = (helper: number): Instruction => insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, helper);
/** r_dst = *(size *)(r_src + off) */
export const ldx = (size: number, dst: number, src: number, off: number): Instruction => insn(op.BPF_LDX | op.BPF_MEM | size, dst, src, off);
/** *(size *)(r_dst + off) = r_src */
export const stx = (size: number, dst: number, src: number, off: number): Instruction => insn(op.BPF_STX | op.BPF_MEM | size, dst, src, off);
/** *(size *)(r_dst + off) = imm */
export const st = (size: number, dst: number, off: number, imm: number): Instruction => insn(op.BPF_ST | op.BPF_MEM | size, dst, 0, off, imm);
/** lock *(size *)(r_dst + off) += r_src */
export const atomicAdd = (size: number, dst: number, src: number, off: number): Instruction => insn(op.BPF_STX | op.BPF_ATOMIC | size, dst, src, off, op.BPF_ADD);
export const jeqImm = (dst: number, imm: number, off: number): Instruction => insn(op.BPF_JMP | op.BPF_JEQ | op.BPF_K, dst, 0, off, imm);
export const jneImm = (dst: number, imm: number, off: number): Instruction => insn(op.BPF_JMP | op.BPF_JNE | op.BPF_K, dst, 0, off, imm);
export const jeqReg = (dst: number, src: number, off: number): Instruction => insn(op.BPF_JMP | op.BPF_JEQ | op.BPF_X, dst, src, off);
export const ja = (off: number): Instruction => insn(op.BPF_JMP | op.BPF_JA, 0, 0, off);

/** lddw r_dst, map fd (two slots). */
export function ldMapFd(dst: number, fd: number): Instruction[] {
  return [insn(LDDW, dst, op.BPF_PSEUDO_MAP_FD, 0, fd), insn(0, 0, 0, 0, 0)];
}

/** lddw r_dst, 64-bit constant (two slots). */
export function ld64(dst: number, v: bigint): Instruction[] {
  const [lo, hi] = splitImm64(v);
  return [insn(LDDW, dst, 0, 0, lo), insn(0, 0, 0, 0, hi)];
}

export const { BPF_W: W, BPF_DW: DW, BPF_H: H, BPF_B: B } = op;

/** Helper ids used by the tests (enum bpf_func_id). */
export const Helper = {
  map_lookup_elem: 1, map_update_elem: 2, map_delete_elem: 3, ktime_get_ns: 5, trace_printk: 6,
  get_smp_processor_id: 8, get_current_pid_tgid: 14, get_current_comm: 16, perf_event_output: 25,
  map_push_elem: 87, ringbuf_output: 130, ringbuf_reserve: 131, ringbuf_submit: 132, ringbuf_discard: 133,
} as const;

/** r0 = imm; exit — the smallest valid program. */
export const returnImm = (imm: number): Instruction[] => [mov64Imm(0, imm), exit()];

/**
 * Increment the u64 at index 0 of an array map (key on the stack at fp-4):
 * the core of most event-counting test programs.
 */
export function countInArray(mapFd: number, ret = 0): Instruction[] {
  return [
    st(W, 10, -4, 0),
    ...ldMapFd(1, mapFd),
    mov64Reg(2, 10),
    add64Imm(2, -4),
    call(Helper.map_lookup_elem),
    jeqImm(0, 0, 2),
    mov64Imm(1, 1),
    atomicAdd(DW, 0, 1, 0),
    mov64Imm(0, ret),
    exit(),
  ];
}

/** Store a NUL-terminated string on the stack at fp+off (off negative, 4-byte aligned). */
export function stackString(s: string, off: number): Instruction[] {
  const b = new TextEncoder().encode(`${s}\0`);
  const padded = new Uint8Array((b.length + 3) & ~3);
  padded.set(b);
  const v = new DataView(padded.buffer);
  const out: Instruction[] = [];
  for (let i = 0; i < padded.length; i += 4) out.push(st(W, 10, off + i, v.getInt32(i, true)));
  return out;
}

/** r0 = atomic_fetch_add((u64 *)(r_dst + off), r_src) into r_src */
export const atomicFetchAdd = (dst: number, src: number, off: number): Instruction =>
  insn(op.BPF_STX | op.BPF_ATOMIC | op.BPF_DW, dst, src, off, op.BPF_ADD | op.BPF_FETCH);

/** if (pid_tgid >> 32) != *(u32 *)filterMap[0]: return 0 — keeps r6 = ctx; clobbers r0-r5, r7. */
export function onlyTgidFrom(filterMapFd: number): Instruction[] {
  return [
    call(Helper.get_current_pid_tgid),
    rsh64Imm(0, 32),
    mov64Reg(7, 0),
    st(W, 10, -4, 0),
    ...ldMapFd(1, filterMapFd),
    mov64Reg(2, 10),
    add64Imm(2, -4),
    call(Helper.map_lookup_elem),
    jneImm(0, 0, 2),
    mov64Imm(0, 0),
    exit(),
    ldx(W, 1, 0, 0),
    jeqReg(7, 1, 2),
    mov64Imm(0, 0),
    exit(),
  ];
}

/** A jump to a label, resolved by assemble(). */
export interface JumpTo {
  to: string;
  make: (off: number) => Instruction;
}
export type Item = Instruction | Instruction[] | { label: string } | JumpTo;

/** Flatten items, resolving jumps to labels (offsets count slots after the jump). */
export function assemble(items: Item[]): Instruction[] {
  const flat: (Instruction | JumpTo | { label: string })[] = items.flatMap((i) => (Array.isArray(i) ? i : [i]));
  const labels = new Map<string, number>();
  let pc = 0;
  for (const i of flat) {
    if ('label' in i) labels.set(i.label, pc);
    else pc++;
  }
  const out: Instruction[] = [];
  for (const i of flat) {
    if ('label' in i) continue;
    if ('to' in i) {
      const target = labels.get(i.to);
      if (target === undefined) throw new Error(`no label ${i.to}`);
      out.push(i.make(target - out.length - 1));
    } else out.push(i);
  }
  return out;
}
export const label = (name: string): { label: string } => ({ label: name });
export const jeqTo = (dst: number, imm: number, to: string): JumpTo => ({ to, make: (off) => jeqImm(dst, imm, off) });
export const jaTo = (to: string): JumpTo => ({ to, make: (off) => ja(off) });
export const jneTo = (dst: number, imm: number, to: string): JumpTo => ({ to, make: (off) => jneImm(dst, imm, off) });
export const mul64Imm = (dst: number, imm: number): Instruction => insn(op.BPF_ALU64 | op.BPF_MUL | op.BPF_K, dst, 0, 0, imm);
export const and64Imm = (dst: number, imm: number): Instruction => insn(op.BPF_ALU64 | op.BPF_AND | op.BPF_K, dst, 0, 0, imm);

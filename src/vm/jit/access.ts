// Memory accesses in compiled code: each load and store gets its address checked against the region
// of its origin (provenance.ts) before it happens, and a failed check traps with the reason left in
// the control block (memory.ts, CONTROL) for the engine to report.
import { BPF_ABS, BPF_ADD, BPF_AND, BPF_CLASS, BPF_CMPXCHG, BPF_FETCH, BPF_IND, BPF_LD, BPF_MODE, BPF_OR, BPF_ST, BPF_STX, BPF_XCHG } from '../../isa/opcodes.js';
import type { Instruction } from '../../isa/instruction.js';
import { BPF_LOAD_ACQ } from '../check.js';
import { CONTROL, type Region } from '../memory.js';
import type { Origin } from '../provenance.js';
import { STACK_SIZE } from '../runtime.js';
import { accessSize } from '../semantics.js';
import { ADDR, CACHE, MA, R, TA } from './locals.js';
import { Code, Op, T } from './wasm.js';

/** What the access emitters need of the function being compiled. */
export interface AccessContext {
  /** The VM's stack area (all frames). */
  stack: Region;
  plan: Origin[];
  /** Control-block addresses this function reads, each cached in a local (CACHE + index). */
  cache: Map<number, number>;
  /** Function index of the host's `check` import. */
  F: { check: number };
}

/** Fault kinds passed to the `fault` import, or left in the control block by a trap (memory faults
 *  leave the access's `how` there instead: size | 0x10 for a write). */
export const FAULT = { callDepth: 0x41, fuel: 0x42, ldAbsInSubprog: 0x43 } as const;

/**
 * Stop the program: record why at CONTROL.fault (the word `(pc + 1) << 8 | code`, then for memory
 * faults the address) and trap. The engine turns the trap into the error. A trap, not a call to the
 * host: a call inside a check's cold branch made the hot path of every check measurably slower.
 */
export function trap(c: Code, pc: number, code: number, address?: () => void): void {
  c.i32(0).i32(((pc + 1) << 8) | code).mem(Op.i32_store, CONTROL.fault);
  if (address) {
    c.i32(0);
    address();
    c.mem(Op.i64_store, CONTROL.fault + 8);
  }
  c.op(Op.unreachable);
}

/** The `how` operand of the `check` import: the access size, and 0x10 for a write. */
export const accessHow = (size: number, write: boolean): number => size | (write ? 0x10 : 0);

/**
 * The control-block words (context and packet start and limits) a function's accesses need: loaded
 * into locals on entry, and the packet's again after every call (a helper may move the packet), so a
 * checked access in a loop compares registers, not memory.
 */
export function controlWords(insns: readonly Instruction[], plan: Origin[], start: number, end: number): Map<number, number> {
  const words = new Map<number, number>();
  const add = (a: number): void => void (words.has(a) || words.set(a, words.size));
  for (let pc = start; pc < end; pc++) {
    const o = plan[pc];
    const i = insns[pc]!;
    if (BPF_CLASS(i.code) === BPF_LD && (BPF_MODE(i.code) === BPF_ABS || BPF_MODE(i.code) === BPF_IND)) {
      // legacy packet loads read the packet's start and read limit too (ldPacket, inline)
      add(CONTROL.packet);
      add(limitWord(CONTROL.packet, accessSize(i.code), false));
      continue;
    }
    if (o?.kind !== 'ctx' && o?.kind !== 'packet') continue;
    const cls = BPF_CLASS(i.code);
    const write = cls === BPF_ST || (cls === BPF_STX && i.imm !== BPF_LOAD_ACQ);
    const cb = CONTROL[o.kind];
    add(cb);
    add(limitWord(cb, accessSize(i.code), write));
  }
  return words;
}

const LOG2: Record<number, number> = { 1: 0, 2: 1, 4: 2, 8: 3 };
const limitWord = (cb: number, size: number, write: boolean): number => cb + (write ? 40 : 8) + 8 * LOG2[size]!;

/** Load the cached control-block words (all, or only the packet's). */
export function loadControl(c: Code, cx: AccessContext, packetOnly: boolean): void {
  for (const [a, k] of cx.cache) {
    if (packetOnly && (a < CONTROL.packet || a >= CONTROL.packet + 72)) continue;
    c.i32(0).mem(Op.i64_load, a).set(CACHE + k);
  }
}

export const LOAD: Record<number, number> = { 1: Op.i64_load8_u, 2: Op.i64_load16_u, 4: Op.i64_load32_u, 8: Op.i64_load };
export const LOADSX: Record<number, number> = { 1: Op.i64_load8_s, 2: Op.i64_load16_s, 4: Op.i64_load32_s };
export const STORE: Record<number, number> = { 1: Op.i64_store8, 2: Op.i64_store16, 4: Op.i64_store32, 8: Op.i64_store };

/**
 * Leave the i32 address of a `size`-byte access at base register + off on the wasm stack, checked
 * against the region of the access's origin; returns the memarg offset the load or store must add.
 * Checks made inline compare `addr - start` (one unsigned compare covers both ends, no wrapping)
 * with a limit: a constant for the stack and array maps, the control block's for the context and
 * the packet (which move between runs). A failed check traps; the engine then gives the error the
 * interpreter gives. Other origins are checked by the host's `check`.
 */
export function address(c: Code, cx: AccessContext, pc: number, base: number, off: number, size: number, write: boolean): number {
  const o = cx.plan[pc];
  const how = accessHow(size, write);
  const fail = (lo = 0): void => {
    c.op(Op.if, T.void);
    trap(c, pc, how, () => (lo ? c.get(MA).i64(BigInt(lo)).op(Op.i64_add) : c.get(MA)));
    c.op(Op.end);
  };
  if (o?.kind === 'stack' && o.off !== undefined && o.off + off >= -STACK_SIZE && o.off + off + size <= 0) {
    // The current frame pointer plus a constant inside the frame: in the stack area on every run
    // (a frame pointer is never below the stack's start plus one frame; calls check that).
    c.get(base);
    if (off !== 0) c.i64(BigInt(off)).op(Op.i64_add);
    c.op(Op.i32_wrap_i64);
    return 0;
  }
  const region = o?.kind === 'stack' ? cx.stack : o?.kind === 'map' ? (o.map as { region?: Region }).region : undefined;
  if (region && (region.writable || !write) && region.end - region.start >= size) {
    // addr - start < end - start - size + 1, and the access adds start back as its memarg offset.
    const lo = region.start;
    c.get(base).i64(BigInt(off - lo)).op(Op.i64_add).tee(MA).i64(BigInt(region.end - lo - size + 1)).op(Op.i64_ge_u);
    fail(lo);
    c.get(MA).op(Op.i32_wrap_i64);
    return lo;
  }
  c.get(base);
  if (off !== 0) c.i64(BigInt(off)).op(Op.i64_add);
  if (o?.kind === 'ctx' || o?.kind === 'packet') {
    const cb = CONTROL[o.kind];
    c.tee(MA).get(CACHE + cx.cache.get(cb)!).op(Op.i64_sub).get(CACHE + cx.cache.get(limitWord(cb, size, write))!).op(Op.i64_ge_u);
    fail();
    c.get(MA).op(Op.i32_wrap_i64);
    return 0;
  }
  c.i32(how).i32(pc).call(cx.F.check);
  return 0;
}

/**
 * A legacy packet load (BPF_LD | BPF_ABS/IND) of the offset on the wasm stack (i64, already
 * sign-extended from 32 bits): big-endian bytes from the packet's start, or the program ends
 * returning 0 when [off, off + size) is not inside the packet, as the kernel's LD_ABS does. The
 * packet's start and limit come from the control block, like every checked packet access.
 */
export function packetLoad(c: Code, cx: AccessContext, size: 1 | 2 | 4, returnZero: () => void): void {
  const cb = CONTROL.packet;
  c.tee(MA).get(CACHE + cx.cache.get(limitWord(cb, size, false))!).op(Op.i64_ge_u, Op.if, T.void);
  returnZero();
  c.op(Op.end);
  c.get(CACHE + cx.cache.get(cb)!).get(MA).op(Op.i64_add, Op.i32_wrap_i64);
  if (size === 1) c.mem(Op.i64_load8_u);
  else if (size === 2) {
    // byte-swapped 16 bits
    c.mem(Op.i32_load16_u).tee(ADDR).i32(8).op(Op.i32_shl).get(ADDR).i32(8).op(Op.i32_shr_u, Op.i32_or).i32(0xffff).op(Op.i32_and, Op.i64_extend_i32_u);
  } else {
    // byte-swapped 32 bits: bytes 0 and 2 rotate left into place, 1 and 3 right
    c.mem(Op.i32_load).tee(ADDR).i32(8).op(Op.i32_rotl).i32(0x00ff00ff).op(Op.i32_and).get(ADDR).i32(8).op(Op.i32_rotr).i32(0xff00ff00 | 0).op(Op.i32_and, Op.i32_or, Op.i64_extend_i32_u);
  }
}

/** An atomic operation on the checked address `at` left on the wasm stack (see address()). */
export function atomic(c: Code, i: Instruction, d: number, s: number, size: number, at: number): void {
  const mask = size === 8 ? -1n : 0xffffffffn;
  // The checked address is on the stack; TA holds the old value.
  c.tee(ADDR).mem(LOAD[size]!, at).set(TA); // old value, zero-extended
  if (i.imm === BPF_CMPXCHG) {
    c.get(TA).get(R[0]!);
    if (size === 4) c.i64(mask).op(Op.i64_and);
    c.op(Op.i64_eq, Op.if, T.void).get(ADDR).get(s).mem(STORE[size]!, at).op(Op.end);
    c.get(TA).set(R[0]!);
    return;
  }
  c.get(ADDR);
  const base = i.imm & ~BPF_FETCH;
  if (i.imm === BPF_XCHG) c.get(s);
  else {
    c.get(TA).get(s).op(base === BPF_ADD ? Op.i64_add : base === BPF_OR ? Op.i64_or : base === BPF_AND ? Op.i64_and : Op.i64_xor);
  }
  c.mem(STORE[size]!, at);
  if (i.imm & BPF_FETCH) c.get(TA).set(s);
}

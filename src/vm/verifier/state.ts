// Abstract machine state of the verifier: register kinds and bounds, stack slots, call frames and
// acquired references; cloning, printing, and the comparisons state pruning needs.
import type { VmMap } from '../maps/map.js';
import { isConstScalar, scalarStr, scalarWithin, sConst, sUnknown, type Scalar } from './scalar.js';

export type Kind =
  | 'not_init'
  | 'scalar'
  | 'ctx'
  | 'stack'
  | 'map_ptr'
  | 'map_value'
  | 'map_value_or_null'
  | 'pkt'
  | 'pkt_end'
  | 'pkt_meta'
  | 'ringbuf_mem'
  | 'ringbuf_mem_or_null'
  /** A tracing program's argument (the kernel's PTR_TO_BTF_ID, or a plain number: without the
   *  kernel's BTF both are possible): loads through it are probe reads, never faults. */
  | 'btf_ptr';

/** A register (or spilled register). Immutable: operations build new ones. */
export interface Reg {
  kind: Kind;
  /** The value of a scalar; the variable part of a pointer's offset. */
  s: Scalar;
  /** Fixed offset of a pointer. */
  off: number;
  /** Shared by copies of one maybe-null pointer / one variable-offset packet pointer. */
  id: number;
  /** Reference (ring-buffer record) this pointer holds, 0 if none. */
  ref: number;
  /** Packet bytes past the pointer's base proven in bounds. */
  range: number;
  map?: VmMap;
  /** Stack pointers: the frame they point into. */
  frame: number;
  /** Size of the memory a map value / ring-buffer pointer reaches. */
  size: number;
}

const ZERO = sConst(0n);
export const NOT_INIT: Reg = { kind: 'not_init', s: ZERO, off: 0, id: 0, ref: 0, range: 0, map: undefined, frame: 0, size: 0 };
// Built field by field in one shape (spreads allocate twice and make objects of many shapes).
export const scalar = (s: Scalar): Reg => ({ kind: 'scalar', s, off: 0, id: 0, ref: 0, range: 0, map: undefined, frame: 0, size: 0 });
export const unknownScalar = (): Reg => scalar(sUnknown());
export const ptr = (kind: Kind, x?: Partial<Reg>): Reg =>
  x === undefined
    ? { kind, s: ZERO, off: 0, id: 0, ref: 0, range: 0, map: undefined, frame: 0, size: 0 }
    : { kind, s: x.s ?? ZERO, off: x.off ?? 0, id: x.id ?? 0, ref: x.ref ?? 0, range: x.range ?? 0, map: x.map, frame: x.frame ?? 0, size: x.size ?? 0 };

export const isPtr = (r: Reg): boolean => r.kind !== 'scalar' && r.kind !== 'not_init';

export interface Slot {
  /** A whole register spilled to this 8-byte slot. */
  spill?: Reg;
  /** Bit i set: byte i of the slot has been written. */
  init: number;
}

export const EMPTY_SLOT: Slot = { init: 0 };
export const SLOTS = 64;

export interface Frame {
  regs: Reg[];
  stack: Slot[];
  /** pc of the call instruction that created this frame (-1 for the entry). */
  callsite: number;
  /** Index of the subprogram running in this frame. */
  subprog: number;
  /** `stack` is shared with a copy of this state: copy it before writing (setSlot). */
  shared: boolean;
}

/** Write stack slot `k` of a frame, copying a shared stack first. */
export function setSlot(f: Frame, k: number, s: Slot): void {
  if (f.shared) {
    f.stack = f.stack.slice();
    f.shared = false;
  }
  f.stack[k] = s;
}

export interface State {
  frames: Frame[];
  /** Acquired references (ring-buffer records): id and the pc that reserved it. */
  refs: { id: number; pc: number }[];
}

/** A copy to change independently: registers are copied, stacks shared until either side writes. */
export function cloneState(s: State): State {
  const frames: Frame[] = new Array(s.frames.length);
  for (let k = 0; k < frames.length; k++) {
    const f = s.frames[k]!;
    f.shared = true;
    frames[k] = { regs: f.regs.slice(), stack: f.stack, callsite: f.callsite, subprog: f.subprog, shared: true };
  }
  return { frames, refs: s.refs.slice() };
}

export function regStr(r: Reg): string {
  switch (r.kind) {
    case 'not_init': return 'uninitialised';
    case 'scalar': return scalarStr(r.s);
  }
  const parts: string[] = [];
  if (r.map) parts.push(`map=${r.map.name}`);
  if (r.kind === 'stack') parts.push(`fp${r.frame ? `[frame ${r.frame}]` : ''}${r.off >= 0 ? '+' : ''}${r.off}`);
  else if (r.off) parts.push(`off=${r.off}`);
  if (!isConstScalar(r.s) || r.s.umin !== 0n) parts.push(`var_off=${scalarStr(r.s)}`);
  if (r.kind === 'pkt' || r.kind === 'pkt_meta') parts.push(`range=${r.range}`);
  if (r.kind.startsWith('map_value') || r.kind.startsWith('ringbuf')) parts.push(`size=${r.size}`);
  if (r.id && r.kind.endsWith('_or_null')) parts.push(`id=${r.id}`);
  if (r.ref) parts.push(`ref=${r.ref}`);
  return `${r.kind}(${parts.join(', ')})`;
}

type IdMap = Map<number, number>;

function idOk(map: IdMap, old: number, cur: number): boolean {
  if (old === 0 || cur === 0) return old === cur;
  const m = map.get(old);
  if (m === undefined) {
    map.set(old, cur);
    return true;
  }
  return m === cur;
}

/** Is `cur` at least as safe as `old` (every behaviour from cur was covered when old was explored)? */
export function regSafe(old: Reg, cur: Reg, ids: IdMap, exact: boolean): boolean {
  if (old.kind === 'not_init') return exact ? cur.kind === 'not_init' : true;
  if (cur.kind !== old.kind) return false;
  if (old.kind === 'scalar') return exact ? scalarEq(old.s, cur.s) : scalarWithin(old.s, cur.s);
  if (old.off !== cur.off || old.map !== cur.map || old.frame !== cur.frame || old.size !== cur.size) return false;
  if (exact ? !scalarEq(old.s, cur.s) : !scalarWithin(old.s, cur.s)) return false;
  if ((old.kind === 'pkt' || old.kind === 'pkt_meta') && (exact ? cur.range !== old.range : cur.range < old.range)) return false;
  return idOk(ids, old.id, cur.id) && idOk(ids, old.ref + 1e9, cur.ref + 1e9);
}

const scalarEq = (a: Scalar, b: Scalar): boolean => a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax && a.t.value === b.t.value && a.t.mask === b.t.mask;

const idScratch: IdMap = new Map();

/**
 * Is `cur` covered by `old` (or, exact, the same state)? With `live` (live-in registers per slot, and
 * the slot both states are at), registers no path from here reads are ignored: in the innermost
 * frame those dead at `pc`, in a caller's frame those dead after its call returns (r0-r5 are then
 * rewritten anyway). With `slotsRead` (not exact), so are stack slots no path from old read.
 */
export function statesSafe(old: State, cur: State, exact: boolean, allowUninitStack: boolean, live?: Uint16Array, pc = 0, slotsRead?: ReadonlySet<number>): boolean {
  if (old.frames.length !== cur.frames.length || old.refs.length !== cur.refs.length) return false;
  const ids = idScratch;
  ids.clear();
  const last = old.frames.length - 1;
  // Registers first: they differ far more often than the stack, and are cheaper to compare.
  for (let f = 0; f <= last; f++) {
    const of = old.frames[f]!;
    const cf = cur.frames[f]!;
    if (of.callsite !== cf.callsite) return false;
    const mask = !live ? 0x7ff : f === last ? live[pc]! : live[old.frames[f + 1]!.callsite + 1]! & ~0x3f;
    for (let r = 0; r < 11; r++) {
      if (!(mask & (1 << r))) continue;
      const o = of.regs[r]!;
      if (o === cf.regs[r] && !o.id && !o.ref) continue;
      if (!regSafe(o, cf.regs[r]!, ids, exact)) return false;
    }
  }
  if (slotsRead && !exact) {
    // Only the slots some path from old reads (usually a handful of the 64 per frame).
    for (const key of slotsRead) {
      const f = (key / SLOTS) | 0;
      if (f > last) continue;
      const k = key % SLOTS;
      if (!slotSafe(old.frames[f]!.stack[k]!, cur.frames[f]!.stack[k]!, ids, allowUninitStack)) return false;
    }
  } else {
    for (let f = 0; f <= last; f++) {
      const os = old.frames[f]!.stack;
      const cs = cur.frames[f]!.stack;
      for (let k = 0; k < SLOTS; k++) {
        if (exact ? !slotSame(os[k]!, cs[k]!, ids) : !slotSafe(os[k]!, cs[k]!, ids, allowUninitStack)) return false;
      }
    }
  }
  for (let i = 0; i < old.refs.length; i++) if (!idOk(ids, old.refs[i]!.id + 1e9, cur.refs[i]!.id + 1e9)) return false;
  return true;
}

/** The same slot object is the same slot, unless it holds an id or reference: those must still map
 *  consistently with the rest of the state (a copy linked to a register in old but not in cur). */
const sameObject = (os: Slot, cs: Slot): boolean => os === cs && !(os.spill && (os.spill.id || os.spill.ref));

function slotSame(os: Slot, cs: Slot, ids: IdMap): boolean {
  if (sameObject(os, cs)) return true;
  return os.init === cs.init && !!os.spill === !!cs.spill && (!os.spill || regSafe(os.spill, cs.spill!, ids, true));
}

function slotSafe(os: Slot, cs: Slot, ids: IdMap, allowUninitStack: boolean): boolean {
  if (sameObject(os, cs)) return true;
  if (os.spill) {
    if (cs.spill) return regSafe(os.spill, cs.spill, ids, false);
    return os.spill.kind === 'scalar' && regSafe(os.spill, unknownScalar(), ids, false) && (cs.init === 0xff || allowUninitStack);
  }
  if (!allowUninitStack && (os.init & ~cs.init) !== 0) return false;
  return !(cs.spill && cs.spill.kind !== 'scalar' && os.init);
}

// Where the pointer of each load and store comes from, found without the verifier: a small
// flow-insensitive data-flow pass over the whole program (calls included) that follows the frame
// pointer, the context, packet pointers loaded from it, map values (from lddw and from lookups) and
// pointers spilled to the stack. Both engines check each access against the region its origin names
// and, where the origin cannot be told, against every region. The pass only ever names an origin
// every run agrees with (anything uncertain joins to 'any'), so a program the kernel would accept never
// faults because of it; a program whose verifier verdict was wrong faults at the first access that
// leaves its region.
import { BPF_ADD, BPF_ALU, BPF_JA, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CLASS, BPF_CMPXCHG, BPF_DW, BPF_EXIT, BPF_FETCH, BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX, BPF_MOV, BPF_OP, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, BPF_SIZE, BPF_SRC, BPF_ST, BPF_STX, BPF_SUB, BPF_X, BPF_XCHG, BPF_MODE, BPF_MEM } from '../isa/opcodes.js';
import { LDDW } from '../isa/instruction.js';
import { ProgramType } from '../uapi/bpf.js';
import { BPF_LOAD_ACQ, isLocalCall, jumpTarget } from './check.js';
import { HELPER_PROTOS } from './helpers.js';
import type { VmMap } from './maps/map.js';
import type { Region, VmMemory } from './memory.js';
import type { VmProgram } from './runtime.js';
import { accessSize } from './semantics.js';

/** The region an access must stay in. */
export type Origin = { kind: 'stack'; off?: number } | { kind: 'ctx' } | { kind: 'packet' } | { kind: 'map'; map: VmMap } | { kind: 'any' };

/** An abstract register: nothing yet, a number, a pointer of one origin (stack and context with
 *  their constant offset when known), a map handle, or anything. */
type Val =
  | { k: 'bot' }
  | { k: 'num' }
  | { k: 'stack' | 'ctx'; off: number | undefined }
  | { k: 'pkt' }
  | { k: 'map' | 'mapptr'; map: VmMap }
  | { k: 'top' };

const BOT: Val = { k: 'bot' };
const NUM: Val = { k: 'num' };
const TOP: Val = { k: 'top' };
const PKT: Val = { k: 'pkt' };
const SLOTS = 64;
const FRAME = 512;

function join(a: Val, b: Val): Val {
  if (a === b || b.k === 'bot') return a;
  if (a.k === 'bot') return b;
  if (a.k !== b.k) return TOP;
  switch (a.k) {
    case 'stack':
    case 'ctx':
      return a.off === (b as typeof a).off ? a : { k: a.k, off: undefined };
    case 'map':
    case 'mapptr':
      return a.map === (b as typeof a).map ? a : TOP;
  }
  return a;
}

const same = (a: Val, b: Val): boolean => a === b || (a.k === b.k && (a as { off?: number }).off === (b as { off?: number }).off && (a as { map?: VmMap }).map === (b as { map?: VmMap }).map);
const isPtr = (v: Val): boolean => v.k === 'stack' || v.k === 'ctx' || v.k === 'pkt' || v.k === 'map';
/** Could a store through this base land in the current frame's stack slots? (Typed bases cannot: the
 *  engines keep them inside their own region.) */
const mayHitStack = (v: Val): boolean => v.k === 'stack' || v.k === 'num' || v.k === 'top';

/** A value as another frame sees it: stack offsets are relative to the frame they were taken in. */
const otherFrame = (v: Val): Val => (v.k === 'stack' && v.off !== undefined ? { k: 'stack', off: undefined } : v);

/**
 * Pointer arithmetic. A pointer plus or minus something that may be a number stays a pointer of its
 * origin (with a new offset when both are known): a program the kernel accepts never adds two
 * pointers, so whatever joined into 'top' was a number on every run where the result is used as a
 * pointer. A pointer minus a pointer is a number.
 */
function addSub(op: number, imm: number, isX: boolean, d: Val, src: Val): Val {
  const moved = (p: Val): Val => (p.k === 'stack' || p.k === 'ctx' ? { k: p.k, off: undefined } : p);
  if (!isX) {
    if ((d.k === 'stack' || d.k === 'ctx') && d.off !== undefined) return { k: d.k, off: d.off + (op === BPF_ADD ? imm : -imm) };
    return d.k === 'mapptr' ? TOP : d;
  }
  if (isPtr(d)) return isPtr(src) ? (op === BPF_SUB ? NUM : TOP) : src.k === 'mapptr' ? TOP : moved(d);
  if (op === BPF_ADD && isPtr(src) && (d.k === 'num' || d.k === 'top')) return moved(src);
  return d.k === 'num' && src.k === 'num' ? NUM : TOP;
}

interface State {
  regs: Val[];
  /** The current frame's 8-byte slots, [fp-512, fp). */
  slots: Val[];
}

function joinState(into: State | undefined, s: State): State | undefined {
  if (!into) return { regs: s.regs.slice(), slots: s.slots.slice() };
  let changed = false;
  const merge = (xs: Val[], ys: Val[]): void => {
    for (let k = 0; k < xs.length; k++) {
      const j = join(xs[k]!, ys[k]!);
      if (!same(j, xs[k]!)) {
        xs[k] = j;
        changed = true;
      }
    }
  };
  merge(into.regs, s.regs);
  merge(into.slots, s.slots);
  return changed ? into : undefined;
}

/** Context offsets whose load yields a packet pointer, per program type. */
function packetFields(type: ProgramType): ReadonlySet<number> {
  switch (type) {
    case ProgramType.XDP:
      return new Set([0, 4, 8]);
    case ProgramType.SOCKET_FILTER:
    case ProgramType.SCHED_CLS:
    case ProgramType.SCHED_ACT:
    case ProgramType.CGROUP_SKB:
      return new Set([76, 80, 140]);
  }
  return new Set();
}

/** Helpers that write memory through a pointer argument (into the stack, possibly). */
const WRITES = new Set([...HELPER_PROTOS.values()].filter((h) => h.args.some((a) => a === 'ptr_to_uninit_mem')).map((h) => h.id));
const LOOKUPS = new Set([...HELPER_PROTOS.values()].filter((h) => h.ret === 'map_value_or_null' || h.ret === 'ringbuf_mem_or_null').map((h) => h.id));

const cache = new WeakMap<VmProgram, Origin[]>();

/** The origin of each memory instruction's pointer (indexed by slot; others undefined). A stack
 *  origin with `off` is the current frame pointer plus `off`, exactly, on every run. */
export function origins(prog: VmProgram): Origin[] {
  let o = cache.get(prog);
  if (!o) cache.set(prog, (o = analyse(prog)));
  return o;
}

const ANY: Origin = { kind: 'any' };
const STACK: Origin = { kind: 'stack' };
const CTX: Origin = { kind: 'ctx' };
const PACKET: Origin = { kind: 'packet' };

function analyse(prog: VmProgram): Origin[] {
  const { insns, structure } = prog;
  const n = insns.length;
  const pktFields = packetFields(prog.type);
  const inState: (State | undefined)[] = new Array(n);
  const work: number[] = [];
  const queued = new Uint8Array(n);
  const visit = (pc: number): void => {
    if (queued[pc]) return;
    queued[pc] = 1;
    work.push(pc);
  };
  const push = (pc: number, s: State): void => {
    const j = joinState(inState[pc], s);
    if (!j) return;
    inState[pc] = j;
    visit(pc);
  };
  // Per subprogram: what its exits return in r0, and the call sites to revisit when that grows.
  const ret = new Map<number, Val>();
  const callers = new Map<number, Set<number>>();
  const entry: Val[] = new Array(11).fill(NUM);
  entry[1] = { k: 'ctx', off: 0 };
  entry[10] = { k: 'stack', off: 0 };
  push(0, { regs: entry, slots: new Array(SLOTS).fill(NUM) });

  const slotOf = (v: Val, off: number): number | undefined => {
    if (v.k !== 'stack' || v.off === undefined) return undefined;
    const at = v.off + off;
    return at >= -FRAME && at < 0 && at % 8 === 0 ? (at + FRAME) / 8 : undefined;
  };
  /** A store through `base` at `off` of `size` bytes of value `val`. */
  const store = (s: State, base: Val, off: number, size: number, val: Val): void => {
    const k = slotOf(base, off);
    if (k !== undefined && size === 8) s.slots[k] = val;
    else if (base.k === 'stack' && base.off !== undefined) {
      // A narrower store into known slots: what they held is now partly overwritten.
      const at = base.off + off;
      for (let b = at; b < at + size; b++) if (b >= -FRAME && b < 0) s.slots[Math.floor((b + FRAME) / 8)] = NUM;
    } else if (mayHitStack(base)) {
      for (let q = 0; q < SLOTS; q++) s.slots[q] = join(s.slots[q]!, size === 8 ? val : NUM);
    }
  };

  while (work.length) {
    const pc = work.pop()!;
    queued[pc] = 0;
    const i = insns[pc]!;
    const s: State = { regs: inState[pc]!.regs.slice(), slots: inState[pc]!.slots.slice() };
    const r = s.regs;
    const cls = BPF_CLASS(i.code);
    const op = BPF_OP(i.code);
    let next: number[] = [pc + 1];
    switch (cls) {
      case BPF_ALU64:
      case BPF_ALU: {
        const d = r[i.dst]!;
        const src = BPF_SRC(i.code) === BPF_X ? r[i.src]! : NUM;
        if (cls === BPF_ALU64 && op === BPF_MOV && i.off === 0) r[i.dst] = src;
        else if (op === BPF_MOV) r[i.dst] = src.k === 'num' ? NUM : TOP; // a truncated or sign-extended copy
        else if (cls === BPF_ALU64 && (op === BPF_ADD || op === BPF_SUB)) r[i.dst] = addSub(op, i.imm, BPF_SRC(i.code) === BPF_X, d, src);
        else r[i.dst] = (d.k === 'num' || d.k === 'bot') && (src.k === 'num' || src.k === 'bot') ? NUM : TOP;
        break;
      }
      case BPF_LD:
        if (i.code === LDDW) {
          const m = prog.maps?.get(pc);
          r[i.dst] = !m ? NUM : i.src === BPF_PSEUDO_MAP_FD || i.src === BPF_PSEUDO_MAP_IDX ? { k: 'mapptr', map: m } : i.src === BPF_PSEUDO_MAP_VALUE || i.src === BPF_PSEUDO_MAP_IDX_VALUE ? { k: 'map', map: m } : NUM;
          next = [pc + 2];
        } else {
          for (let k = 0; k <= 5; k++) r[k] = NUM;
        }
        break;
      case BPF_LDX: {
        const base = r[i.src]!;
        const k = slotOf(base, i.off);
        if (k !== undefined && BPF_SIZE(i.code) === BPF_DW && BPF_MODE(i.code) === BPF_MEM) r[i.dst] = s.slots[k]!;
        else if (base.k === 'ctx' && base.off !== undefined && accessSize(i.code) === 4 && pktFields.has(base.off + i.off)) r[i.dst] = PKT;
        else r[i.dst] = NUM;
        break;
      }
      case BPF_ST:
        store(s, r[i.dst]!, i.off, accessSize(i.code), NUM);
        break;
      case BPF_STX: {
        const size = accessSize(i.code);
        if (BPF_MODE(i.code) !== BPF_ATOMIC) {
          store(s, r[i.dst]!, i.off, size, r[i.src]!);
          break;
        }
        if (i.imm === BPF_LOAD_ACQ) {
          const k = slotOf(r[i.src]!, i.off);
          r[i.dst] = k !== undefined && size === 8 ? s.slots[k]! : NUM;
          break;
        }
        const base = r[i.dst]!;
        const k = slotOf(base, i.off);
        const old = k !== undefined && size === 8 ? s.slots[k]! : mayHitStack(base) ? TOP : NUM;
        // What the slot holds afterwards: the operand (exchanges), or arithmetic on what it held.
        const stored = i.imm === BPF_XCHG ? r[i.src]! : i.imm === BPF_CMPXCHG ? join(old, r[i.src]!) : join(old, old.k === 'num' ? NUM : TOP);
        store(s, base, i.off, size, stored);
        if (i.imm === BPF_CMPXCHG) r[0] = old;
        else if (i.imm & BPF_FETCH || i.imm === BPF_XCHG) r[i.src] = old;
        break;
      }
      case BPF_JMP:
      case BPF_JMP32:
        if (op === BPF_EXIT) {
          const sub = structure.subprogs[structure.subprogOf[pc]!]!;
          const was = ret.get(sub) ?? BOT;
          const now = join(was, r[0]!);
          if (!same(was, now)) {
            ret.set(sub, now);
            for (const site of callers.get(sub) ?? []) visit(site);
          }
          next = [];
        } else if (op === BPF_CALL && isLocalCall(i)) {
          const target = pc + 1 + i.imm;
          if (!callers.has(target)) callers.set(target, new Set());
          callers.get(target)!.add(pc);
          const callee: Val[] = new Array(11).fill(NUM);
          for (let k = 1; k <= 5; k++) callee[k] = otherFrame(r[k]!);
          callee[10] = { k: 'stack', off: 0 };
          push(target, { regs: callee, slots: new Array(SLOTS).fill(NUM) });
          const back = ret.get(target);
          next = [];
          if (back) {
            // The callee may have written this frame's slots (through a pointer it was given, or above
            // its own frame pointer): what they hold is no longer known.
            s.slots.fill(TOP);
            for (let k = 1; k <= 5; k++) r[k] = NUM;
            r[0] = otherFrame(back);
            next = [pc + 1];
          }
        } else if (op === BPF_CALL) {
          const m = r[1]!;
          if (WRITES.has(i.imm) && [1, 2, 3, 4, 5].some((k) => mayHitStack(r[k]!))) {
            for (let q = 0; q < SLOTS; q++) s.slots[q] = join(s.slots[q]!, NUM);
          }
          r[0] = LOOKUPS.has(i.imm) ? (m.k === 'mapptr' ? { k: 'map', map: m.map } : TOP) : NUM;
          for (let k = 1; k <= 5; k++) r[k] = NUM;
        } else {
          const t = jumpTarget(insns, pc)!;
          next = op === BPF_JA ? [t] : [pc + 1, t];
        }
        break;
    }
    for (const q of next) if (q < n) push(q, s);
  }

  const out: Origin[] = new Array(n);
  for (let pc = 0; pc < n; pc++) {
    const i = insns[pc]!;
    const cls = BPF_CLASS(i.code);
    if (cls !== BPF_LDX && cls !== BPF_ST && cls !== BPF_STX) {
      if (i.code === LDDW) pc++;
      continue;
    }
    const load = cls === BPF_LDX || (cls === BPF_STX && BPF_MODE(i.code) === BPF_ATOMIC && i.imm === BPF_LOAD_ACQ);
    const base = inState[pc]?.regs[load ? i.src : i.dst] ?? BOT;
    out[pc] = base.k === 'stack' ? (base.off === undefined ? STACK : { kind: 'stack', off: base.off }) : base.k === 'ctx' ? CTX : base.k === 'pkt' ? PACKET : base.k === 'map' ? { kind: 'map', map: base.map } : ANY;
  }
  return out;
}

void BPF_ALU; void BPF_SUB; void BPF_DW;

/** Check an access against the region of its origin (both engines: the interpreter for every access,
 *  the JIT for those it cannot check inline); returns the address. */
export function checkOrigin(mem: VmMemory, o: Origin, addr: bigint, size: number, write: boolean, pc: number): number {
  switch (o.kind) {
    case 'stack': return mem.checkIn(mem.stackRegion, 'stack', addr, size, write, pc);
    case 'ctx': return mem.checkIn(mem.ctxRegion, 'context', addr, size, write, pc);
    case 'packet': return mem.checkIn(mem.packetRegion, 'packet', addr, size, write, pc);
    case 'map': {
      const r = (o.map as { region?: Region }).region;
      return r ? mem.checkIn(r, `value array of map '${o.map.name}'`, addr, size, write, pc) : mem.checkOwned(o.map, `the values of map '${o.map.name}'`, addr, size, write, pc);
    }
  }
  return mem.check(addr, size, write, pc);
}

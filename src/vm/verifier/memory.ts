// The verifier's memory rules: loads and stores through each kind of pointer (context, stack with
// spills and variable offsets, map values, ring-buffer records, packet, tracing arguments), atomic
// operations, and the LD class (64-bit immediates, map references, legacy packet loads).
import {
  BPF_ABS, BPF_CMPXCHG, BPF_FETCH, BPF_MODE, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, BPF_XCHG,
} from '../../isa/opcodes.js';
import { LDDW, type Instruction } from '../../isa/instruction.js';
import { ProgramType } from '../../uapi/bpf.js';
import { BPF_LOAD_ACQ, BPF_STORE_REL } from '../check.js';
import { ArrayMap } from '../maps/array.js';
import type { VmMap } from '../maps/map.js';
import { tadd, tconst } from './tnum.js';
import { ctxAccess } from './ctx-rules.js';
import { decide, isConstScalar, sConst, sLoaded, sLoadedSigned, sRange, sUnknown } from './scalar.js';
import { isPtr, setSlot, NOT_INIT, ptr, regStr, scalar, unknownScalar, type Reg } from './state.js';
import { BPF_MAX_VAR_OFF, MAX_BPF_STACK, PROBE, Reject, type Path } from './path.js';
import type { Verifier } from './verify.js';

const SKB_TYPES = new Set([ProgramType.SOCKET_FILTER, ProgramType.SCHED_CLS, ProgramType.SCHED_ACT, ProgramType.CGROUP_SKB]);

/** Is every address `r + off` may hold a multiple of `size`? (the kernel's tnum_is_aligned) */
function aligned(r: Reg, off: number, size: number): boolean {
  if (size === 1) return true;
  const t = tadd(r.s.t, tconst(BigInt.asUintN(64, BigInt(r.off + off))));
  return ((t.value | t.mask) & BigInt(size - 1)) === 0n;
}

/**
 * Check an access through pointer register `regno` at `off` of `size` bytes. For a read, returns the
 * loaded value; for a write, stores `val` (stack spills).
 */
export function access(v: Verifier, p: Path, regno: number, r: Reg, off: number, size: number, mode: 'read' | 'write' | 'rw', signExt: boolean, val?: Reg): Reg | undefined {
  const pc = p.pc;
  const write = mode !== 'read';
  const signed = (): Reg => scalar(signExt ? sLoadedSigned(size) : sLoaded(size));
  switch (r.kind) {
    case 'scalar':
      throw new Reject(pc, `r${regno} is a number, not a pointer: it cannot be dereferenced`, [regno], r.s.umax === 0n ? 'it is NULL here: a missing NULL check?' : undefined);
    case 'map_value_or_null':
    case 'ringbuf_mem_or_null':
      throw new Reject(pc, `r${regno} may be NULL here (${r.kind.replace('_or_null', '')} from a lookup/reserve that can fail)`, [regno], `test r${regno} against 0 before using it`);
    case 'pkt_end':
      throw new Reject(pc, 'the packet end pointer cannot be dereferenced', [regno]);
    case 'map_ptr':
      throw new Reject(pc, 'a map pointer cannot be dereferenced (use bpf_map_lookup_elem)', [regno]);
    case 'ctx': {
      if (r.off !== 0 || !isConstScalar(r.s) || r.s.umin !== 0n) throw new Reject(pc, `the context pointer was modified (offset ${r.off}); access the context through the original pointer`, [regno]);
      if (write && val && isPtr(val)) throw new Reject(pc, 'storing a pointer into the context is not allowed', [regno]);
      const verdict = ctxAccess(v.type, off, size, write, v.o.ctxSize);
      if (!verdict.ok) throw new Reject(pc, `invalid context access: ${verdict.reason}`, [regno]);
      if (write) return undefined;
      if (signExt && verdict.load !== 'scalar' && verdict.load !== 'btf_ptr') throw new Reject(pc, `invalid context access: a pointer field (offset ${off}) cannot be loaded sign-extended`, [regno]);
      if (verdict.load === 'scalar') return signed();
      return ptr(verdict.load);
    }
    case 'stack':
      return stackAccess(v, p, regno, r, off, size, mode, signExt, val);
    case 'btf_ptr':
      // The kernel turns these loads into probe reads (a fault reads 0); the VM does the same.
      if (write || !v.probeOk) throw new Reject(pc, `r${regno} is a tracing argument (kernel memory, or a number): it can only be read by a load instruction`, [regno], write ? undefined : 'copy it with bpf_probe_read_kernel first');
      v.loadKinds[pc] |= PROBE;
      return size === 8 && !signExt ? ptr('btf_ptr') : signed();
    case 'map_value':
    case 'ringbuf_mem': {
      const what = r.kind === 'map_value' ? `the value of map '${r.map?.name}'` : 'the ring-buffer record';
      if (write && r.map instanceof ArrayMap && r.map.readonlyData) throw new Reject(pc, `map '${r.map.name}' is read-only (.rodata)`, [regno]);
      if (r.s.smin < 0n || r.s.umax >= BigInt(BPF_MAX_VAR_OFF)) {
        throw new Reject(pc, `the variable offset into ${what} is unbounded (${regStr(scalar(r.s))})`, [regno], 'check the index against the value size before using it');
      }
      const lo = r.off + off + Number(r.s.smin);
      const hi = r.off + off + Number(r.s.umax) + size;
      if (lo < 0 || hi > r.size) {
        throw new Reject(pc, `${write ? 'write' : 'read'} of ${size} byte(s) at offset ${lo}${hi - size !== lo ? `..${hi - size}` : ''} is outside ${what} (${r.size} bytes)`, [regno]);
      }
      if (write) return undefined;
      if (lo + size === hi && r.map instanceof ArrayMap) {
        // A read-only map's value (`const volatile` globals in .rodata) is a known constant.
        const v = r.map.constValue(lo, size);
        if (v !== undefined) return scalar(sConst(signExt ? BigInt.asIntN(size * 8, v) : v));
      }
      return signed();
    }
    case 'pkt':
    case 'pkt_meta': {
      if (r.s.smin < 0n) throw new Reject(pc, 'packet pointer with a possibly negative offset', [regno]);
      const lo = r.off + off;
      if (lo < 0 || lo + size > r.range) {
        throw new Reject(
          pc,
          `packet ${write ? 'write' : 'read'} of bytes [${lo}, ${lo + size}) past r${regno}'s base, but only ${r.range} byte(s) are proven to be inside the packet`,
          [regno],
          `compare r${regno} + ${lo + size} with ${r.kind === 'pkt_meta' ? 'data' : 'data_end'} first, e.g. \`if (p + ${lo + size} > data_end) return ...\``,
        );
      }
      if (write && v.type === ProgramType.SOCKET_FILTER) throw new Reject(pc, 'socket filters cannot write to the packet', [regno]);
      return write ? undefined : signed();
    }
  }
  throw new Reject(pc, `r${regno} (${r.kind}) cannot be dereferenced`, [regno]);
}

/** An access to a stack frame at a constant offset (spills and fills of whole registers tracked). */
export function stackAccess(v: Verifier, p: Path, regno: number, r: Reg, off: number, size: number, mode: 'read' | 'write' | 'rw', signExt: boolean, val?: Reg): Reg | undefined {
  const pc = p.pc;
  if (!isConstScalar(r.s)) return stackVarAccess(v, p, regno, r, off, size, mode);
  const at = r.off + off + Number(BigInt.asIntN(64, r.s.umin));
  if (at < -MAX_BPF_STACK || at + size > 0) throw new Reject(pc, `stack access of ${size} byte(s) at fp${at} is outside the 512-byte stack frame [fp-512, fp)`, [regno]);
  if (at % size !== 0 && !(mode !== 'rw' && size > 8)) throw new Reject(pc, `misaligned stack access: ${size} byte(s) at fp${at}`, [regno], `stack accesses must be aligned to their size`);
  const frame = p.state.frames[r.frame];
  if (!frame) throw new Reject(pc, 'stack pointer into a frame that has returned', [regno]);
  const sub = frame.subprog;
  v.stackDepth[sub] = Math.max(v.stackDepth[sub] ?? 0, -at);
  const first = Math.floor((at + MAX_BPF_STACK) / 8);
  const last = Math.floor((at + size - 1 + MAX_BPF_STACK) / 8);
  v.markSlots(p, r.frame, first, last, mode === 'write' && size === 8 && at % 8 === 0);
  if (mode === 'write') {
    if (val && val.kind === 'stack' && r.frame !== p.state.frames.length - 1) {
      // As the kernel: the callee's frame is gone once it returns, so its address must not outlive
      // it in a caller's frame (and a caller's own stack pointers never need to be stored back).
      throw new Reject(pc, 'a pointer to the stack cannot be stored in a caller\'s stack frame', [regno], 'return values through the caller\'s memory, not pointers to this frame');
    }
    if (size === 8 && at % 8 === 0 && val) {
      setSlot(frame, first, { spill: val, init: 0xff });
      return undefined;
    }
    if (val && isPtr(val) && val.kind !== 'btf_ptr') throw new Reject(pc, `partial store of a pointer to the stack (${size} bytes at fp${at})`, [regno]);
    for (let k = first; k <= last; k++) {
      const slot = frame.stack[k]!;
      let init = slot.init;
      for (let b = 0; b < 8; b++) {
        const addr = k * 8 + b - MAX_BPF_STACK;
        if (addr >= at && addr < at + size) init |= 1 << b;
      }
      if (slot.spill && slot.spill.kind !== 'scalar') {
        setSlot(frame, k, { init });
      } else setSlot(frame, k, { init });
    }
    return undefined;
  }
  // read (or read-modify-write)
  if (size === 8 && at % 8 === 0 && frame.stack[first]!.spill) {
    const s = frame.stack[first]!.spill!;
    if (mode === 'rw') {
      if (isPtr(s)) throw new Reject(pc, 'atomic operation on a spilled pointer', [regno]);
      setSlot(frame, first, { init: 0xff });
    }
    return signExt ? scalar(sLoadedSigned(size)) : s;
  }
  for (let k = first; k <= last; k++) {
    const slot = frame.stack[k]!;
    if (slot.spill && isPtr(slot.spill) && slot.spill.kind !== 'btf_ptr') throw new Reject(pc, `partial read of a spilled pointer at fp${at}`, [regno]);
    for (let b = 0; b < 8; b++) {
      const addr = k * 8 + b - MAX_BPF_STACK;
      if (addr >= at && addr < at + size && !(slot.init & (1 << b)) && !v.allowUninit) {
        throw new Reject(pc, `read of stack byte fp${addr}, which was never written`, [regno], 'initialise the variable (or the whole struct with memset / = {})');
      }
    }
    if (mode === 'rw') setSlot(frame, k, { init: slot.init });
  }
  // A narrow read of a spilled constant stays known.
  const s0 = frame.stack[first]!.spill;
  if (first === last && s0 && s0.kind === 'scalar' && isConstScalar(s0.s)) {
    const shift = BigInt((at + MAX_BPF_STACK - first * 8) * 8);
    const v = (s0.s.umin >> shift) & ((1n << BigInt(size * 8)) - 1n);
    return scalar(sConst(signExt ? BigInt.asIntN(size * 8, v) : v));
  }
  return scalar(signExt ? sLoadedSigned(size) : sLoaded(size));
}

/**
 * Stack access through a variable offset (an array on the stack indexed by a bounded value), as the
 * kernel allows privileged programs: every byte the offset may reach must be inside the frame; a read
 * needs them initialised (unless uninitialised stack reads are allowed) and yields an unknown scalar;
 * a write turns every slot it may touch into unknown data.
 */
function stackVarAccess(v: Verifier, p: Path, regno: number, r: Reg, off: number, size: number, mode: 'read' | 'write' | 'rw'): Reg | undefined {
  const pc = p.pc;
  if (mode === 'rw') throw new Reject(pc, 'atomic operation on the stack through a variable offset', [regno]);
  if (r.s.smin < -BigInt(MAX_BPF_STACK) || r.s.smax > BigInt(MAX_BPF_STACK)) {
    throw new Reject(pc, `the variable offset into the stack is unbounded (${regStr(scalar(r.s))})`, [regno], 'bound the index with a comparison or mask first');
  }
  const lo = r.off + off + Number(r.s.smin);
  const hi = r.off + off + Number(r.s.smax) + size;
  if (lo < -MAX_BPF_STACK || hi > 0) throw new Reject(pc, `stack access of ${size} byte(s) at fp${lo}..fp${hi - size} may leave the 512-byte frame`, [regno]);
  // Stack accesses are always aligned in the kernel (its spill tracking relies on it): every offset
  // the variable part allows must be a multiple of the size.
  if (!aligned(r, off, size)) throw new Reject(pc, `misaligned stack access: ${size} byte(s) at fp${lo}..fp${hi - size} (${regStr(scalar(r.s))})`, [regno], 'stack accesses must be aligned to their size');
  const frame = p.state.frames[r.frame];
  if (!frame) throw new Reject(pc, 'stack pointer into a frame that has returned', [regno]);
  v.stackDepth[frame.subprog] = Math.max(v.stackDepth[frame.subprog] ?? 0, -lo);
  const first = Math.floor((lo + MAX_BPF_STACK) / 8);
  const last = Math.floor((hi - 1 + MAX_BPF_STACK) / 8);
  v.markSlots(p, r.frame, first, last, false);
  for (let k = first; k <= last; k++) {
    const slot = frame.stack[k]!;
    if (slot.spill && isPtr(slot.spill)) {
      if (mode === 'read') throw new Reject(pc, 'variable-offset read of the stack may read a spilled pointer', [regno]);
      setSlot(frame, k, { init: slot.init });
      continue;
    }
    if (mode === 'write') {
      if (slot.spill) setSlot(frame, k, { init: slot.init });
      continue;
    }
    if (!v.allowUninit && slot.init !== 0xff) throw new Reject(pc, 'variable-offset read of the stack may read bytes never written', [regno]);
  }
  return mode === 'write' ? undefined : scalar(sLoaded(size));
}

/** Atomic read-modify-write, load-acquire and store-release. */
export function atomic(v: Verifier, p: Path, i: Instruction, size: number): void {
  const pc = p.pc;
  const base = v.reg(p, i.dst, pc);
  // Atomic accesses must be naturally aligned whatever the memory (the kernel's strict_alignment_once).
  const at = i.imm === BPF_LOAD_ACQ ? i.src : i.dst;
  if (!aligned(v.reg(p, at, pc), i.off, size)) throw new Reject(pc, `misaligned atomic access of ${size} bytes through r${at}`, [at]);
  if (i.imm === BPF_LOAD_ACQ) {
    const src = v.reg(p, i.src, pc);
    v.setReg(p, i.dst, access(v, p, i.src, src, i.off, size, 'read', false)!);
    return;
  }
  const val = v.reg(p, i.src, pc);
  if (i.imm === BPF_STORE_REL) {
    access(v, p, i.dst, base, i.off, size, 'write', false, val);
    return;
  }
  const hostCtx = base.kind === 'ctx' && v.type === ProgramType.UNSPEC;
  if (base.kind !== 'stack' && base.kind !== 'map_value' && base.kind !== 'ringbuf_mem' && !hostCtx) {
    throw new Reject(pc, `atomic operations on ${base.kind} memory are not allowed`, [i.dst]);
  }
  if (isPtr(val)) throw new Reject(pc, 'atomic operation with a pointer operand', [i.src]);
  if (i.imm === BPF_CMPXCHG) v.reg(p, 0, pc);
  access(v, p, i.dst, base, i.off, size, 'rw', false);
  const old = scalar(size === 8 ? sUnknown() : sRange(0n, 0xffffffffn));
  if (i.imm === BPF_CMPXCHG) v.setReg(p, 0, old);
  else if (i.imm & BPF_FETCH || i.imm === BPF_XCHG) v.setReg(p, i.src, old);
}

/** The LD class: 64-bit immediates and map references (lddw), legacy packet loads; the next pc. */
export function ld(v: Verifier, p: Path, i: Instruction): number {
  const pc = p.pc;
  if (i.code === LDDW) {
    const maps = v.o.maps ?? [];
    const map = (): VmMap => {
      const m = maps[i.imm];
      if (!m) throw new Reject(pc, `lddw refers to map #${i.imm}, which does not exist`);
      return m;
    };
    switch (i.src) {
      case 0:
        v.setReg(p, i.dst, scalar(sConst((BigInt(v.insns[pc + 1]!.imm >>> 0) << 32n) | BigInt(i.imm >>> 0))));
        break;
      case BPF_PSEUDO_MAP_FD:
      case BPF_PSEUDO_MAP_IDX:
        v.setReg(p, i.dst, ptr('map_ptr', { map: map() }));
        break;
      case BPF_PSEUDO_MAP_VALUE:
      case BPF_PSEUDO_MAP_IDX_VALUE: {
        const m = map();
        const off = v.insns[pc + 1]!.imm;
        if (!(m instanceof ArrayMap) || off < 0 || off >= m.spec.valueSize) throw new Reject(pc, `direct value access into map '${m.name}' at ${off} is invalid`);
        v.setReg(p, i.dst, ptr('map_value', { map: m, off, size: m.spec.valueSize }));
        break;
      }
      case BPF_PSEUDO_FUNC:
        throw new Reject(pc, 'callback functions (bpf_loop, for_each) are not supported by the VM');
      default:
        throw new Reject(pc, `lddw with source ${i.src} is not supported`);
    }
    return pc + 2;
  }
  // Legacy packet loads: the skb is implicitly r6.
  if (!SKB_TYPES.has(v.type)) throw new Reject(pc, 'legacy packet loads (LD_ABS/LD_IND) are only for socket filters and tc');
  if (v.reg(p, 6, pc).kind !== 'ctx') throw new Reject(pc, 'legacy packet loads need the context in r6', [6]);
  if (p.state.frames.length > 1) throw new Reject(pc, 'legacy packet loads are not allowed in subprograms');
  if (BPF_MODE(i.code) !== BPF_ABS && v.reg(p, i.src, pc).kind !== 'scalar') throw new Reject(pc, 'LD_IND needs a scalar offset register', [i.src]);
  for (let r = 1; r <= 5; r++) v.setReg(p, r, NOT_INIT);
  // The kernel marks r0 wholly unknown here (not zero-extended from the load's size): so does tsbpf,
  // to decide what follows as the kernel does.
  v.setReg(p, 0, unknownScalar());
  return pc + 1;
}

// The verifier's calls and exits: bpf-to-bpf calls and returns, helper calls checked against their
// prototypes (maps, memory arguments, ring-buffer references, helpers that move the packet).
import type { Instruction } from '../../isa/instruction.js';
import { MapType, ProgramType } from '../../uapi/bpf.js';
import { CHANGES_PKT_DATA, HELPER_PROTOS } from '../helpers.js';
import type { VmMap } from '../maps/map.js';
import { ctxAccess } from './ctx-rules.js';
import { isConstScalar, sConst, type Scalar } from './scalar.js';
import { EMPTY_SLOT, setSlot, NOT_INIT, ptr, regStr, scalar, SLOTS, unknownScalar, type Reg, type State } from './state.js';
import { MAX_CALL_FRAMES, Reject, type Path } from './path.js';
import { BpfFunc } from '../../uapi/bpf.js';
import type { Verifier } from './verify.js';
import { access, stackAccess } from './memory.js';

/** Return to the caller's frame (r0 passed back), or end the path: nothing may be left held. */
export function exit(v: Verifier, p: Path): number | undefined {
  const pc = p.pc;
  const st = p.state;
  const r0 = v.reg(p, 0, pc);
  if (st.frames.length > 1) {
    const callee = st.frames.pop()!;
    if (r0.kind === 'stack' && r0.frame === st.frames.length) throw new Reject(pc, 'returning a pointer to the stack of a function that is returning', [0]);
    const caller = st.frames[st.frames.length - 1]!;
    caller.regs[0] = r0;
    for (let k = 1; k <= 5; k++) caller.regs[k] = NOT_INIT;
    p.trail = { pc, prev: p.trail };
    return callee.callsite + 1;
  }
  if (st.refs.length) {
    const r = st.refs[0]!;
    throw new Reject(pc, `the ring-buffer record reserved at pc ${r.pc} is neither submitted nor discarded on this path`, [], 'call bpf_ringbuf_submit or bpf_ringbuf_discard on every path after a successful reserve');
  }
  return undefined;
}

/** A bpf-to-bpf call: a new frame gets r1-r5 and its own stack. */
export function localCall(v: Verifier, p: Path, i: Instruction): number {
  const pc = p.pc;
  const st = p.state;
  if (st.frames.length >= MAX_CALL_FRAMES) throw new Reject(pc, `more than ${MAX_CALL_FRAMES} nested calls`);
  const target = pc + 1 + i.imm;
  const caller = v.frame(p);
  const regs: Reg[] = new Array(11).fill(NOT_INIT);
  for (let k = 1; k <= 5; k++) regs[k] = caller.regs[k]!;
  regs[10] = ptr('stack', { frame: st.frames.length });
  st.frames.push({ regs, stack: new Array(SLOTS).fill(EMPTY_SLOT), callsite: pc, subprog: v.structure.subprogOf[target]!, shared: false });
  // A fresh frame: nothing in it comes from before the call.
  v.markSlots(p, st.frames.length - 1, 0, SLOTS - 1, true);
  p.trail = { pc, prev: p.trail };
  return target;
}

/** A helper call, its arguments checked against the prototype; r0 as the prototype returns. */
export function helperCall(v: Verifier, p: Path, i: Instruction): number {
  const pc = p.pc;
  const proto = HELPER_PROTOS.get(i.imm);
  if (!proto) throw new Reject(pc, `helper #${i.imm} is not available in the VM`, [], `the VM provides: ${[...HELPER_PROTOS.values()].map((h) => h.name).join(', ')}`);
  if (proto.types && !proto.types.includes(v.type)) {
    throw new Reject(pc, `bpf_${proto.name} cannot be called from ${ProgramType[v.type] ?? v.type} programs`);
  }
  let map: VmMap | undefined;
  let size: Scalar | undefined;
  const args = proto.args;
  for (let k = 0; k < args.length; k++) {
    const regno = k + 1;
    const r = v.reg(p, regno, pc);
    const kind = args[k]!;
    const bad = (what: string): never => {
      throw new Reject(pc, `argument ${regno} of bpf_${proto.name} must be ${what}, but r${regno} is ${regStr(r)}`, [regno]);
    };
    switch (kind) {
      case 'anything':
        break;
      case 'const_map_ptr':
        if (r.kind !== 'map_ptr') bad('a map');
        map = r.map!;
        checkMapForHelper(v, pc, proto.name, map);
        break;
      case 'ptr_to_map_key':
      case 'ptr_to_map_value':
        if (!map) bad('preceded by a map');
        memArg(v, p, regno, r, kind === 'ptr_to_map_key' ? map!.spec.keySize : map!.spec.valueSize, 'read', proto.name);
        break;
      case 'ptr_to_mem':
      case 'ptr_to_uninit_mem': {
        const sz = v.reg(p, regno + 1, pc);
        if (sz.kind !== 'scalar') throw new Reject(pc, `argument ${regno + 1} of bpf_${proto.name} must be a size`, [regno + 1]);
        const orZero = args[k + 1] === 'const_size_or_zero';
        if (sz.s.umax > 0xffffffffn || sz.s.smin < 0n) throw new Reject(pc, `the size in r${regno + 1} is unbounded (${regStr(sz)})`, [regno + 1], 'bound it with a comparison or mask');
        if (sz.s.umin === 0n && !orZero) throw new Reject(pc, `the size in r${regno + 1} may be zero`, [regno + 1]);
        if (sz.s.umax > 0n) memArg(v, p, regno, r, Number(sz.s.umax), kind === 'ptr_to_mem' ? 'read' : 'write', proto.name);
        else if (r.kind !== 'scalar' || r.s.umax !== 0n) memArg(v, p, regno, r, 0, 'read', proto.name);
        break;
      }
      case 'const_size':
      case 'const_size_or_zero':
        if (r.kind !== 'scalar') bad('a size');
        break;
      case 'ptr_to_ctx':
        if (r.kind !== 'ctx' || r.off !== 0) bad('the context pointer');
        break;
      case 'ptr_to_ringbuf_mem':
        if (r.kind !== 'ringbuf_mem' || r.off !== 0 || !isConstScalar(r.s) || r.s.umin !== 0n) bad('a ring-buffer record from bpf_ringbuf_reserve (unmodified, NULL-checked)');
        break;
      case 'ptr_to_spin_lock':
        if (r.kind !== 'map_value') bad('a struct bpf_spin_lock inside a map value');
        access(v, p, regno, r, 0, 4, 'write', false, scalar(sConst(0n)));
        break;
      case 'const_alloc_size_or_zero':
        if (r.kind !== 'scalar' || !isConstScalar(r.s)) bad('a constant size');
        size = r.s;
        break;
    }
  }
  if (i.imm === BpfFunc.tail_call && p.state.refs.length) throw new Reject(pc, 'tail call while holding a ring-buffer record');
  if (proto.release) {
    const rec = v.frame(p).regs[1]!;
    const ref = rec.ref;
    p.state.refs = p.state.refs.filter((x) => x.id !== ref);
    forEachReg(v, p.state, (r) => (r.ref === ref && r.kind.startsWith('ringbuf') ? NOT_INIT : r));
  }
  if (CHANGES_PKT_DATA.has(proto.name)) {
    // The packet may have moved: as the kernel's clear_all_pkt_pointers, every packet pointer (in
    // registers and spilled, in every frame) becomes an unknown number.
    forEachReg(v, p.state, (r) => (r.kind === 'pkt' || r.kind === 'pkt_end' || r.kind === 'pkt_meta' ? unknownScalar() : r));
  }
  const f = v.frame(p);
  for (let k = 1; k <= 5; k++) f.regs[k] = NOT_INIT;
  switch (proto.ret) {
    case 'integer':
      f.regs[0] = unknownScalar();
      break;
    case 'void':
      f.regs[0] = NOT_INIT;
      break;
    case 'map_value_or_null':
      f.regs[0] = ptr('map_value_or_null', { map, id: v.nextId++, size: map!.spec.valueSize });
      break;
    case 'ringbuf_mem_or_null': {
      const ref = v.nextId++;
      p.state.refs.push({ id: ref, pc });
      f.regs[0] = ptr('ringbuf_mem_or_null', { id: v.nextId++, ref, size: Number(size!.umin) });
      break;
    }
  }
  return pc + 1;
}

function checkMapForHelper(v: Verifier, pc: number, helper: string, m: VmMap): void {
  const t = m.spec.type;
  const ring = t === MapType.RINGBUF;
  const progArray = t === MapType.PROG_ARRAY;
  if (helper.startsWith('ringbuf_') !== ring) throw new Reject(pc, `map '${m.name}' (${MapType[t]}) cannot be used with bpf_${helper}`, [1]);
  if (helper === 'tail_call' ? !progArray : progArray) throw new Reject(pc, `map '${m.name}' (${MapType[t]}) cannot be used with bpf_${helper}`, [1]);
}

/** A helper argument pointing at `size` bytes to read or write. */
function memArg(v: Verifier, p: Path, regno: number, r: Reg, size: number, mode: 'read' | 'write', helper: string): void {
  if (size === 0) return;
  if (r.kind === 'ctx') {
    // Only a host-defined context is plain memory; kernel contexts are rewritten structures.
    if (v.type !== ProgramType.UNSPEC) throw new Reject(p.pc, `bpf_${helper} cannot take the context as memory`, [regno]);
    if (r.off < 0 || !isConstScalar(r.s) || r.s.umin !== 0n) throw new Reject(p.pc, 'modified context pointer passed to a helper', [regno]);
    const verdict = ctxAccess(v.type, r.off, size, mode === 'write', v.o.ctxSize);
    if (!verdict.ok) throw new Reject(p.pc, `bpf_${helper}: ${verdict.reason}`, [regno]);
    return;
  }
  if (r.kind === 'stack') {
    // Byte-wise: helper reads need initialised bytes (unless uninit stack is allowed), writes initialise.
    stackAccess(v, p, regno, r, 0, size, mode === 'write' ? 'write' : 'read', false);
    return;
  }
  access(v, p, regno, r, 0, size, mode, false);
}

/** Rewrite every register and spilled register of every frame. */
export function forEachReg(v: Verifier, st: State, fn: (r: Reg) => Reg): void {
  for (const f of st.frames) {
    for (let k = 0; k < 11; k++) f.regs[k] = fn(f.regs[k]!);
    for (let k = 0; k < SLOTS; k++) {
      const s = f.stack[k]!;
      if (s.spill) {
        const n = fn(s.spill);
        if (n !== s.spill) setSlot(f, k, { ...s, spill: n });
      }
    }
  }
}

// The verifier's conditional jumps: which branches are feasible, what each teaches about the
// scalars compared, NULL checks of maybe-NULL pointers, and packet bounds proven against data_end.
import {
  BPF_CALL, BPF_EXIT, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JNE, BPF_OP, BPF_SRC, BPF_X,
} from '../../isa/opcodes.js';
import type { Instruction } from '../../isa/instruction.js';
import { isLocalCall, jumpTarget } from '../check.js';
import { decide, isConstScalar, refine, sConst, type Scalar } from './scalar.js';
import { cloneState, isPtr, scalar, type Reg, type State } from './state.js';
import { MAX_PACKET_OFF, type Path } from './path.js';
import type { Verifier } from './verify.js';
import { exit, forEachReg, helperCall, localCall } from './calls.js';

/** A jump, call or exit at p.pc: the next pc of this path (undefined when it ends); a feasible other
 *  branch is pushed on `pending`. */
export function jmp(v: Verifier, p: Path, i: Instruction, is32: boolean, pending: Path[]): number | undefined {
  const pc = p.pc;
  const op = BPF_OP(i.code);
  p.sinceJumps++;
  if (op === BPF_JA) {
    p.trail = { pc, prev: p.trail };
    return jumpTarget(v.insns, pc)!;
  }
  if (op === BPF_EXIT) return exit(v, p);
  if (op === BPF_CALL) return isLocalCall(i) ? localCall(v, p, i) : helperCall(v, p, i);
  const a = v.reg(p, i.dst, pc);
  const b = BPF_SRC(i.code) === BPF_X ? v.reg(p, i.src, pc) : (v.immRegs[pc] ??= scalar(sConst(is32 ? BigInt(i.imm >>> 0) : BigInt.asUintN(64, BigInt(i.imm)))));
  const target = jumpTarget(v.insns, pc)!;
  const isX = BPF_SRC(i.code) === BPF_X;
  // Which branches are feasible first: the state is copied only when both are.
  let tOk = true;
  let fOk = true;
  let rt: [Scalar, Scalar] | undefined;
  let rf: [Scalar, Scalar] | undefined;
  const scalars = a.kind === 'scalar' && b.kind === 'scalar';
  // A tracing argument may be NULL or any number: both branches stay, nothing is learnt.
  const nullCheck = !scalars && !is32 && (op === BPF_JEQ || op === BPF_JNE) && b.kind === 'scalar' && isConstScalar(b.s) && b.s.umin === 0n && isPtr(a) && a.kind !== 'btf_ptr';
  if (scalars) {
    const d = decide(op, is32, a.s, b.s);
    if (d !== false) tOk = !!(rt = refine(op, is32, a.s, b.s, true));
    else tOk = false;
    if (d !== true) fOk = !!(rf = refine(op, is32, a.s, b.s, false));
    else fOk = false;
  } else if (nullCheck && !a.kind.endsWith('_or_null')) {
    // A valid pointer is never NULL.
    if (op === BPF_JEQ) tOk = false;
    else fOk = false;
  }
  if (!tOk && !fOk) return undefined;
  const fall = p.state;
  const taken = !tOk ? fall : fOk ? cloneState(fall) : fall;
  if (scalars) {
    if (tOk) applyScalars(v, taken, i, rt!, isX);
    if (fOk) applyScalars(v, fall, i, rf!, isX);
  } else if (nullCheck) {
    if (tOk && fOk) {
      const nonNull = op === BPF_JNE ? taken : fall;
      const isNull = op === BPF_JNE ? fall : taken;
      markNull(v, nonNull, a, false);
      markNull(v, isNull, a, true);
    }
  } else if (!is32 && isPtr(a) && isPtr(b)) {
    packetCompare(v, op, a, b, taken, fall);
  }
  if (tOk && fOk) {
    v.fork(p, target, taken, pending);
    return pc + 1;
  }
  if (tOk) {
    p.state = taken;
    p.trail = { pc, prev: p.trail };
    return target;
  }
  return pc + 1;
}

function applyScalars(v: Verifier, st: State, i: Instruction, r: [Scalar, Scalar], isX: boolean): void {
  const f = st.frames[st.frames.length - 1]!;
  const [na, nb] = r;
  f.regs[i.dst] = scalar(na);
  if (isX) f.regs[i.src] = scalar(nb);
}

function markNull(v: Verifier, st: State, a: Reg, isNull: boolean): void {
  const id = a.id;
  forEachReg(v, st, (r) => {
    if (r.id !== id || !r.kind.endsWith('_or_null')) return r;
    if (isNull) return scalar(sConst(0n));
    return { ...r, kind: r.kind === 'map_value_or_null' ? 'map_value' : 'ringbuf_mem' };
  });
  if (isNull && a.ref) st.refs = st.refs.filter((x) => x.id !== a.ref);
}

/** data + N compared with data_end (or meta with data): the fall-through/taken branch proves N bytes. */
function packetCompare(v: Verifier, op: number, a: Reg, b: Reg, taken: State, fall: State): void {
  const pair = (x: Reg, end: Reg): boolean => (x.kind === 'pkt' && end.kind === 'pkt_end') || (x.kind === 'pkt_meta' && end.kind === 'pkt');
  let good: Reg | undefined;
  let where: State | undefined;
  if (pair(a, b)) {
    // a op end
    good = a;
    if (op === BPF_JGT || op === BPF_JGE) where = fall; // not (a > end): a <= end
    else if (op === BPF_JLT || op === BPF_JLE) where = taken;
  } else if (pair(b, a)) {
    good = b;
    if (op === BPF_JGT || op === BPF_JGE) where = taken; // end > b
    else if (op === BPF_JLT || op === BPF_JLE) where = fall; // not (end < b)
  }
  // As the kernel's find_good_pkt_pointers: no range from a pointer whose offset may pass 64 KiB
  // (pointer + huge could compare below the end only by wrapping around).
  if (!good || !where || good.off < 0 || good.s.umax > BigInt(MAX_PACKET_OFF) || Number(good.s.umax) + good.off > MAX_PACKET_OFF) return;
  const kind = good.kind;
  const id = good.id;
  const range = good.off;
  forEachReg(v, where, (r) => (r.kind === kind && r.id === id && r.range < range ? { ...r, range } : r));
}

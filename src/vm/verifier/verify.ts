// tsbpf's verifier: proves a program safe before either engine runs it, in the kernel's spirit.
// Static pass: structure, CFG reachability. Then path exploration (depth-first, every branch) over
// abstract states: registers are uninitialised, scalars (tnum + signed/unsigned bounds) or typed
// pointers; stack slots track spills and initialisation; helpers are checked against prototypes;
// maybe-null pointers must be null-checked; packet reads must be proven against data_end; ring-buffer
// records must be released on every path. Loops are explored until they end (bounded loops) — a state
// that repeats exactly is an endless loop, and a complexity budget ends the rest. States at branch
// targets are remembered; a new state inside a finished one is pruned.
import { BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_CALL, BPF_CLASS, BPF_DIV, BPF_END, BPF_EXIT, BPF_JA, BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX, BPF_LSH, BPF_MEMSX, BPF_MOD, BPF_MODE, BPF_MOV, BPF_NEG, BPF_OP, BPF_RSH, BPF_SRC, BPF_ST, BPF_STX, BPF_SUB, BPF_X } from '../../isa/opcodes.js';
import { LDDW, type Instruction } from '../../isa/instruction.js';
import { formatInstruction } from '../../isa/disasm.js';
import { ProgramType } from '../../uapi/bpf.js';
import { checkStructure, reservedFieldError, unknownOpcode, isLocalCall, jumpTarget, type Structure } from '../check.js';
import type { ArgKind } from '../helpers.js';
import type { VmMap } from '../maps/map.js';
import type { VmProgram } from '../runtime.js';
import { accessSize } from '../semantics.js';
import { liveRegisters } from './liveness.js';
import { isConstScalar, S64_MIN, scalarAlu, sConst, sRange, U64_MAX, type Scalar } from './scalar.js';
import { cloneState, EMPTY_SLOT, isPtr, NOT_INIT, ptr, regStr, scalar, SLOTS, statesSafe, unknownScalar, type Reg, type State } from './state.js';
import { BPF_MAX_VAR_OFF, MAX_BPF_STACK, MAX_CALL_FRAMES, MAX_PACKET_OFF, PLAIN, PROBE, Reject, type Checkpoint, type Path } from './path.js';
import { access, atomic, ld } from './memory.js';
import { jmp } from './branches.js';

export interface VerifyOptions {
  maps?: VmMap[];
  /** The C source line of an instruction slot (from BTF line info). */
  source?: (slot: number) => string | undefined;
  /** Size of a host-defined context (plugin hook, UNSPEC programs). */
  ctxSize?: number;
  /** Allow reading stack bytes never written (root may in the kernel; the VM zeroes its stack). Default true. */
  allowUninitStack?: boolean;
  /** Instructions the exploration may process before giving up (the kernel's BPF_COMPLEXITY_LIMIT_INSNS). */
  complexityLimit?: number;
  /** Called before each instruction is processed with its pc and the live registers (a verbose log). */
  trace?: (pc: number, regs: string) => void;
}

export interface VerifyResult {
  ok: boolean;
  /** Human-readable findings: for a rejection, the instruction, its C line, the reason and the registers involved. */
  messages: string[];
  /** The failing instruction slot. */
  pc?: number;
  reason?: string;
  /** Instructions processed during exploration, and states pruned. */
  stats: { insns: number; pruned: number; states: number; maxStackDepth: number };
  /** Load instructions that read through a tracing argument: the engines run them as probe reads
   *  (an address outside every region reads 0), as the kernel's BPF_PROBE_MEM. */
  probeLoads?: number[];
  /** Of an accepted program: 1 for every instruction some explored path reached; the others are dead
   *  on every run (the fuzzer checks that runs agree). */
  reached?: Uint8Array;
}

/** A tracing argument used where a number is expected is an unknown number. */
const asNumber = (r: Reg): Reg => (r.kind === 'btf_ptr' ? unknownScalar() : r);

export function verify(prog: VmProgram | { name: string; type: ProgramType; insns: Instruction[] }, o: VerifyOptions = {}): VerifyResult {
  const v = new Verifier(prog.name, prog.type, prog.insns, o);
  return v.run();
}

/** One verification. Its members are shared with the rules in memory.ts, branches.ts and calls.ts,
 *  which take the verifier as their first argument; nothing outside verifier/ uses the class. */
export class Verifier {
  structure!: Structure;
  insnsProcessed = 0;
  pruned = 0;
  statesStored = 0;
  nextId = 1;
  readonly checkpoints = new Map<number, Checkpoint[]>();
  readonly prunePoints = new Set<number>();
  readonly stackDepth: number[] = [];
  readonly callees = new Map<number, Set<number>>();
  readonly allowUninit: boolean;
  /** Live-in registers per slot, for pruning. */
  live!: Uint16Array;
  readonly limit: number;
  cur!: Path;
  /** Per slot: processed at least once (so its reserved fields are checked); the immediate operand as a (shared, immutable) register. */
  fieldsChecked!: Uint8Array;
  immRegs: (Reg | undefined)[] = [];
  /** Per slot: which kinds of load it performed (PLAIN, PROBE); probeOk while a load instruction runs. */
  loadKinds!: Uint8Array;
  probeOk = false;

  constructor(
    readonly name: string,
    readonly type: ProgramType,
    readonly insns: readonly Instruction[],
    readonly o: VerifyOptions,
  ) {
    this.allowUninit = o.allowUninitStack ?? true;
    this.limit = o.complexityLimit ?? 1_000_000;
  }

  run(): VerifyResult {
    const stats = () => ({ insns: this.insnsProcessed, pruned: this.pruned, states: this.statesStored, maxStackDepth: Math.max(0, ...this.stackDepth) });
    try {
      try {
        this.structure = checkStructure(this.insns, { reserved: false });
      } catch (e) {
        const pc = (e as { pc?: number }).pc ?? 0;
        throw new Reject(pc, (e as Error).message.replace(/^pc \d+: /, ''));
      }
      this.cfg();
      // The kernel checks the reserved fields of loads before exploring (resolve_pseudo_ldimm64), so
      // also in instructions no path reaches; the rest only where exploration goes (reservedFieldError).
      for (let pc = 0; pc < this.insns.length; pc++) {
        const i = this.insns[pc]!;
        const unknown = unknownOpcode(i);
        if (unknown) throw new Reject(pc, unknown);
        if (i.code === LDDW) pc++;
        else if (BPF_CLASS(i.code) === BPF_LDX && i.imm) throw new Reject(pc, 'BPF_LDX uses reserved fields (immediate must be 0)');
      }
      this.fieldsChecked = new Uint8Array(this.insns.length);
      this.loadKinds = new Uint8Array(this.insns.length);
      this.immRegs = new Array(this.insns.length).fill(undefined);
      this.live = liveRegisters(this.insns);
      this.explore();
      this.checkStackDepth();
      const probeLoads: number[] = [];
      this.loadKinds.forEach((k, pc) => void (k & PROBE && probeLoads.push(pc)));
      return { ok: true, messages: [`${this.name}: accepted (${this.insnsProcessed} instructions processed, ${this.pruned} states pruned)`], stats: stats(), probeLoads, reached: this.fieldsChecked };
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      return { ok: false, messages: this.explain(e), pc: e.pc, reason: e.reason, stats: stats() };
    }
  }

  // ---- messages -------------------------------------------------------------------------------

  explain(e: Reject): string[] {
    const out: string[] = [];
    const insn = this.insns[e.pc];
    let text = '';
    try {
      text = insn ? formatInstruction(this.insns, e.pc, { style: 'kernel', mapName: (slot) => this.o.maps?.[this.insns[slot]!.imm]?.name }) : '';
    } catch {
      text = insn ? `code 0x${insn.code.toString(16)}` : '';
    }
    out.push(`${this.name}: rejected at pc ${e.pc}${text ? `: ${text}` : ''}`);
    let src: string | undefined;
    try {
      src = this.o.source?.(e.pc);
    } catch {
      src = undefined;
    }
    if (src) out.push(`  source: ${src}`);
    out.push(`  reason: ${e.reason}`);
    const st = this.cur?.state;
    if (st) {
      const f = st.frames[st.frames.length - 1]!;
      for (const r of e.regs) out.push(`  r${r} = ${regStr(f.regs[r]!)}`);
      if (st.frames.length > 1) out.push(`  in call frame ${st.frames.length - 1} (called from pc ${f.callsite})`);
      const jumps: number[] = [];
      for (let t = this.cur.trail; t && jumps.length < 12; t = t.prev) jumps.unshift(t.pc);
      if (jumps.length) out.push(`  path: ${jumps.join(' → ')} → ${e.pc}`);
    }
    if (e.hint) out.push(`  hint: ${e.hint}`);
    return out;
  }

  // ---- static checks --------------------------------------------------------------------------

  cfg(): void {
    const n = this.insns.length;
    const seen = new Uint8Array(n);
    const work = [0];
    for (const s of this.structure.subprogs) this.callees.set(s, new Set());
    while (work.length) {
      const pc = work.pop()!;
      if (pc >= n || seen[pc]) continue;
      seen[pc] = 1;
      const i = this.insns[pc]!;
      if (i.code === LDDW) {
        seen[pc + 1] = 1;
        work.push(pc + 2);
        continue;
      }
      const cls = BPF_CLASS(i.code);
      const op = BPF_OP(i.code);
      if (cls === BPF_JMP || cls === BPF_JMP32) {
        if (op === BPF_EXIT) continue;
        if (op === BPF_CALL) {
          if (isLocalCall(i)) {
            const t = pc + 1 + i.imm;
            work.push(t);
            this.callees.get(this.structure.subprogs[this.structure.subprogOf[pc]!]!)!.add(t);
            this.prunePoints.add(pc + 1);
          }
          work.push(pc + 1);
          continue;
        }
        const t = jumpTarget(this.insns, pc)!;
        work.push(t);
        this.prunePoints.add(t);
        if (op !== BPF_JA) {
          work.push(pc + 1);
          this.prunePoints.add(pc + 1);
        }
        continue;
      }
      work.push(pc + 1);
    }
    for (let pc = 0; pc < n; pc++) if (!seen[pc]) throw new Reject(pc, `instruction ${pc} can never be reached (dead code the kernel also rejects)`);
  }

  checkStackDepth(): void {
    const subs = this.structure.subprogs;
    const depthOf = (s: number): number => {
      const d = this.stackDepth[subs.indexOf(s)] ?? 0;
      return (d + 15) & ~15;
    };
    const walk = (s: number, total: number, chain: number[]): void => {
      const t = total + depthOf(s);
      if (t > MAX_BPF_STACK) throw new Reject(s, `combined stack of the call chain ${[...chain, s].map((x) => `subprog@${x}`).join(' → ')} is ${t} bytes, more than ${MAX_BPF_STACK}`);
      if (chain.length > MAX_CALL_FRAMES) return;
      for (const c of this.callees.get(s) ?? []) walk(c, t, [...chain, s]);
    };
    walk(0, 0, []);
  }

  // ---- exploration ----------------------------------------------------------------------------

  initialState(): State {
    const regs: Reg[] = new Array(11).fill(NOT_INIT);
    regs[1] = ptr('ctx');
    regs[10] = ptr('stack', { frame: 0 });
    if (this.type === ProgramType.UNSPEC) regs[2] = scalar(sRange(0n, 0xffffffffn)); // --mem length
    return { frames: [{ regs, stack: new Array(SLOTS).fill(EMPTY_SLOT), callsite: -1, subprog: 0, shared: false }], refs: [] };
  }

  explore(): void {
    const stack: Path[] = [{ pc: 0, state: this.initialState(), cp: undefined, trail: undefined, sinceInsns: 0, sinceJumps: 0, written: new Set(), writtenShared: false }];
    while (stack.length) {
      this.cur = stack.pop()!;
      this.runPath(stack);
    }
  }

  finishPath(p: Path): void {
    let c = p.cp;
    while (c) {
      c.branches--;
      if (c.branches > 0) break;
      c = c.parent;
    }
  }

  runPath(pending: Path[]): void {
    const p = this.cur;
    for (;;) {
      if (++this.insnsProcessed > this.limit) {
        throw new Reject(p.pc, `the program is too complex: ${this.limit} instructions processed without finishing every path (a loop the verifier cannot prove bounded?)`, [], 'bound the loop with a constant limit the verifier can see, or split the program');
      }
      p.sinceInsns++;
      if (this.prunePoints.has(p.pc)) {
        const verdict = this.visit(p);
        if (verdict === 'pruned') {
          this.finishPath(p);
          return;
        }
      }
      if (this.o.trace) {
        const f = this.frame(p);
        this.o.trace(p.pc, f.regs.map((r, k) => (r.kind === 'not_init' ? '' : `r${k}=${regStr(r)}`)).filter(Boolean).join(' '));
      }
      const next = this.step(p, pending);
      if (next === undefined) {
        this.finishPath(p);
        return;
      }
      p.pc = next;
    }
  }

  visit(p: Path): 'pruned' | 'new' {
    let list = this.checkpoints.get(p.pc) ?? [];
    let evict = false;
    for (let k = 0; k < list.length; k++) {
      const c = list[k]!;
      // Endless-loop detection only needs recent ancestors: an exact repeat shows up within a few
      // iterations, and missing one only means the complexity limit rejects the program instead.
      if (c.branches !== 0 && k < list.length - 8) continue;
      if (!c.state) continue;
      if (c.branches === 0) {
        if (statesSafe(c.state, p.state, false, this.allowUninit, this.live, p.pc, c.read)) {
          // What c's future reads, this path's future reads too.
          for (const key of c.read) this.markRead(p, key);
          this.pruned++;
          c.hit++;
          return 'pruned';
        }
        if (++c.miss > c.hit * 3 + 3) evict = true;
      } else if (statesSafe(c.state, p.state, true, this.allowUninit, this.live, p.pc)) {
        throw new Reject(p.pc, 'endless loop: the program reaches this instruction again in exactly the same state, so it would repeat forever', [], 'make the loop condition depend on a value that changes every iteration');
      }
    }
    if (evict) {
      list = list.filter((c) => {
        const keep = c.branches !== 0 || c.miss <= c.hit * 3 + 3;
        if (!keep) c.state = undefined;
        return keep;
      });
      this.checkpoints.set(p.pc, list);
    }
    if (p.sinceJumps < 2 || p.sinceInsns < 8) return 'new';
    p.sinceJumps = 0;
    p.sinceInsns = 0;
    const cp: Checkpoint = { state: cloneState(p.state), parent: p.cp, branches: 1, miss: 0, hit: 0, read: new Set(), writtenBefore: p.written };
    p.written = new Set();
    p.writtenShared = false;
    if (list.length >= 64) list.shift()!.state = undefined;
    list.push(cp);
    this.checkpoints.set(p.pc, list);
    this.statesStored++;
    p.cp = cp;
    return 'new';
  }

  fork(p: Path, pc: number, state: State, pending: Path[]): void {
    if (p.cp) p.cp.branches++;
    p.writtenShared = true;
    pending.push({ pc, state, cp: p.cp, trail: { pc: p.pc, prev: p.trail }, sinceInsns: p.sinceInsns, sinceJumps: p.sinceJumps + 1, written: p.written, writtenShared: true });
  }

  /** A read of stack slot `key` (frame * 64 + slot): every checkpoint up to the last whole write
   *  of it must keep comparing it. Partial writes count as reads (the other bytes survive). */
  markRead(p: Path, key: number): void {
    if (p.written.has(key)) return;
    for (let c = p.cp; c && !c.read.has(key); c = c.parent) {
      c.read.add(key);
      if (c.writtenBefore.has(key)) break;
    }
  }

  markSlots(p: Path, frame: number, first: number, last: number, wholeWrite: boolean): void {
    for (let k = first; k <= last; k++) {
      const key = frame * SLOTS + k;
      if (!wholeWrite) this.markRead(p, key);
      else if (!p.written.has(key)) {
        if (p.writtenShared) {
          p.written = new Set(p.written);
          p.writtenShared = false;
        }
        p.written.add(key);
      }
    }
  }

  frame(p: Path) {
    return p.state.frames[p.state.frames.length - 1]!;
  }

  reg(p: Path, r: number, pc: number): Reg {
    const x = this.frame(p).regs[r]!;
    if (x.kind === 'not_init') {
      throw new Reject(pc, `r${r} is read before anything was written to it${r >= 1 && r <= 5 ? ' (r1-r5 are clobbered by every call)' : ''}`, [r]);
    }
    return x;
  }

  setReg(p: Path, r: number, x: Reg): void {
    this.frame(p).regs[r] = x;
  }

  /** Execute one instruction; returns the next pc or undefined when the path ends. */
  step(p: Path, pending: Path[]): number | undefined {
    const pc = p.pc;
    const i = this.insns[pc]!;
    const cls = BPF_CLASS(i.code);
    if (!this.fieldsChecked[pc]) {
      const reserved = reservedFieldError(i);
      if (reserved) throw new Reject(pc, reserved);
      this.fieldsChecked[pc] = 1;
    }
    switch (cls) {
      case BPF_ALU:
      case BPF_ALU64:
        this.alu(p, i, cls === BPF_ALU64);
        return pc + 1;
      case BPF_LD:
        return ld(this, p, i);
      case BPF_LDX: {
        const size = accessSize(i.code);
        const base = this.reg(p, i.src, pc);
        // One instruction, one kind of load: a probe read or a checked one (as the kernel requires).
        this.loadKinds[pc] |= base.kind === 'btf_ptr' ? 0 : PLAIN;
        if (this.loadKinds[pc] === (PLAIN | PROBE) || (base.kind === 'btf_ptr' && this.loadKinds[pc]! & PLAIN)) {
          throw new Reject(pc, 'this load reads through a tracing argument on one path and through another pointer on another', [i.src]);
        }
        this.probeOk = true;
        const val = access(this, p, i.src, base, i.off, size, 'read', BPF_MODE(i.code) === BPF_MEMSX);
        this.probeOk = false;
        this.setReg(p, i.dst, val!);
        return pc + 1;
      }
      case BPF_ST: {
        const size = accessSize(i.code);
        const base = this.reg(p, i.dst, pc);
        if (base.kind === 'ctx' && this.type !== ProgramType.UNSPEC) throw new Reject(pc, 'storing an immediate into the context is not allowed (use a register)', [i.dst]);
        access(this, p, i.dst, base, i.off, size, 'write', false, scalar(sConst(BigInt.asUintN(size * 8, BigInt(i.imm)))));
        return pc + 1;
      }
      case BPF_STX: {
        const size = accessSize(i.code);
        if (BPF_MODE(i.code) === BPF_ATOMIC) {
          atomic(this, p, i, size);
          return pc + 1;
        }
        const base = this.reg(p, i.dst, pc);
        const val = this.reg(p, i.src, pc);
        access(this, p, i.dst, base, i.off, size, 'write', false, val);
        return pc + 1;
      }
      case BPF_JMP:
      case BPF_JMP32:
        return jmp(this, p, i, cls === BPF_JMP32, pending);
    }
    throw new Reject(pc, `unknown instruction class ${cls}`);
  }

  // ---- ALU --------------------------------------------------------------------------------------

  alu(p: Path, i: Instruction, is64: boolean, srcOverride?: Reg): void {
    const pc = p.pc;
    const op = BPF_OP(i.code);
    const isX = BPF_SRC(i.code) === BPF_X;
    if (op === BPF_END || op === BPF_NEG) {
      const d = asNumber(this.reg(p, i.dst, pc));
      if (d.kind !== 'scalar') throw new Reject(pc, `${op === BPF_NEG ? 'negating' : 'byte-swapping'} a pointer is not allowed`, [i.dst]);
      this.setReg(p, i.dst, scalar(scalarAlu(op, is64, d.s, sConst(0n), i.off, i.imm, BPF_SRC(i.code))));
      return;
    }
    const src: Reg = srcOverride ?? (isX ? this.reg(p, i.src, pc) : (this.immRegs[pc] ??= scalar(sConst(is64 ? BigInt(i.imm) : BigInt(i.imm >>> 0)))));
    if (src.kind === 'btf_ptr' && !(op === BPF_MOV && is64 && i.off === 0)) {
      // Anything but a copy uses the argument as the number it may be.
      this.alu(p, i, is64, unknownScalar());
      return;
    }
    if (op === BPF_MOV) {
      if (isPtr(src)) {
        if (!is64 || i.off !== 0) this.setReg(p, i.dst, scalar(sRange(0n, is64 ? U64_MAX : 0xffffffffn)));
        else this.setReg(p, i.dst, src);
      } else this.setReg(p, i.dst, scalar(scalarAlu(op, is64, sConst(0n), src.s, i.off, i.imm, BPF_SRC(i.code))));
      return;
    }
    let dst = this.reg(p, i.dst, pc);
    // A tracing argument moves by constants as a pointer; any other use takes it as a number.
    if (dst.kind === 'btf_ptr' && !(is64 && (op === BPF_ADD || op === BPF_SUB) && src.kind === 'scalar' && isConstScalar(src.s))) dst = unknownScalar();
    if (!isX && (op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH) && (i.imm < 0 || i.imm >= (is64 ? 64 : 32))) {
      throw new Reject(pc, `shift by ${i.imm} is out of range for a ${is64 ? 64 : 32}-bit value`);
    }
    if (!isX && (op === BPF_DIV || op === BPF_MOD) && i.imm === 0) throw new Reject(pc, 'division by the constant zero');
    if (dst.kind === 'scalar' && src.kind === 'scalar') {
      this.setReg(p, i.dst, scalar(scalarAlu(op, is64, dst.s, src.s, i.off, i.imm, BPF_SRC(i.code))));
      return;
    }
    // Pointer arithmetic.
    const regs = isX ? [i.dst, i.src] : [i.dst];
    if (!is64) throw new Reject(pc, '32-bit arithmetic on a pointer is not allowed', regs);
    if (op === BPF_SUB && isPtr(dst) && isPtr(src)) {
      // As for privileged programs in the kernel: the difference of two pointers is an unknown number
      // (data_end - data is the packet length).
      this.setReg(p, i.dst, unknownScalar());
      return;
    }
    if (op !== BPF_ADD && op !== BPF_SUB) throw new Reject(pc, `operator ${opName(op)} on a pointer is not allowed (only + and - with a scalar)`, regs);
    const [ptrReg, sc] = isPtr(dst) ? [dst, src] : [src, dst];
    if (op === BPF_SUB && !isPtr(dst)) throw new Reject(pc, 'subtracting a pointer from a scalar is not allowed', regs);
    if (isPtr(sc)) throw new Reject(pc, 'adding two pointers is not allowed', regs);
    this.setReg(p, i.dst, this.ptrArith(pc, ptrReg, sc.s, op === BPF_SUB, regs));
  }

  ptrArith(pc: number, r: Reg, s: Scalar, neg: boolean, regs: number[]): Reg {
    switch (r.kind) {
      case 'map_value_or_null':
      case 'ringbuf_mem_or_null':
        throw new Reject(pc, `arithmetic on a pointer that may be NULL (${r.kind}) is not allowed`, regs, 'check it against 0 first');
      case 'pkt_end':
        throw new Reject(pc, 'arithmetic on the packet end pointer is not allowed', regs);
      case 'map_ptr':
        throw new Reject(pc, 'arithmetic on a map pointer is not allowed', regs);
    }
    // The kernel never lets anything be subtracted from the frame pointer's copies (its JITs once
    // could not handle it): stack offsets are added, negative.
    if (neg && r.kind === 'stack') throw new Reject(pc, 'subtraction from a stack pointer is not allowed', regs, 'add a negative offset instead');
    // Both operands must be sane offsets (the kernel's check_reg_sane_offset).
    for (const x of [s, r.s]) {
      const smin = isConstScalar(x) ? BigInt.asIntN(64, x.umin) : x.smin;
      if (!isConstScalar(x) && x.smin === S64_MIN) throw new Reject(pc, `pointer arithmetic with a value of unbounded minimum (${regStr(scalar(x))})`, regs, 'bound the value with a comparison or mask first');
      if (smin >= BigInt(BPF_MAX_VAR_OFF) || smin <= -BigInt(BPF_MAX_VAR_OFF)) throw new Reject(pc, `pointer arithmetic with ${smin} takes the pointer out of bounds`, regs);
    }
    if (isConstScalar(s)) {
      const c = BigInt.asIntN(64, s.umin);
      const off = r.off + Number(neg ? -c : c);
      if (Math.abs(off) >= BPF_MAX_VAR_OFF) throw new Reject(pc, `pointer offset ${off} is out of the allowed range`, regs);
      return { ...r, off };
    }
    if (r.kind === 'ctx') throw new Reject(pc, 'adding a variable to the context pointer is not allowed', regs);
    if (neg) throw new Reject(pc, 'subtracting a variable from a pointer is not allowed', regs);
    if (r.kind === 'pkt' || r.kind === 'pkt_meta') {
      if (s.umax > BigInt(MAX_PACKET_OFF) || s.smin < 0n) throw new Reject(pc, `the value added to the packet pointer is not bounded (${regStr(scalar(s))}); it must be at most ${MAX_PACKET_OFF}`, regs, 'mask or compare it first (e.g. `off &= 0xff`)');
      return { ...r, s: scalarAlu(BPF_ADD, true, r.s, s, 0, 0, 0), id: this.nextId++, range: 0 };
    }
    if (s.umax >= BigInt(BPF_MAX_VAR_OFF) && s.smin < -BigInt(BPF_MAX_VAR_OFF)) {
      // Unbounded: allowed now, rejected on access (as the kernel does).
    }
    return { ...r, s: scalarAlu(BPF_ADD, true, r.s, s, 0, 0, 0) };
  }

  // ---- memory ---------------------------------------------------------------------------------

  // ---- jumps and calls --------------------------------------------------------------------------

}

function opName(op: number): string {
  return ({ [BPF_ADD]: '+', [BPF_SUB]: '-', 0x20: '*', [BPF_DIV]: '/', 0x40: '|', [BPF_AND]: '&', [BPF_LSH]: '<<', [BPF_RSH]: '>>', [BPF_MOD]: '%', 0xa0: '^', [BPF_ARSH]: 's>>' } as Record<number, string>)[op] ?? `0x${op.toString(16)}`;
}

export type { ArgKind };

// tsbpf's verifier: proves a program safe before either engine runs it, in the kernel's spirit.
// Static pass: structure, CFG reachability. Then path exploration (depth-first, every branch) over
// abstract states: registers are uninitialised, scalars (tnum + signed/unsigned bounds) or typed
// pointers; stack slots track spills and initialisation; helpers are checked against prototypes;
// maybe-null pointers must be null-checked; packet reads must be proven against data_end; ring-buffer
// records must be released on every path. Loops are explored until they end (bounded loops) — a state
// that repeats exactly is an endless loop, and a complexity budget ends the rest. States at branch
// targets are remembered; a new state inside a finished one is pruned.
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_CALL, BPF_CLASS, BPF_CMPXCHG, BPF_DIV,
  BPF_END, BPF_EXIT, BPF_FETCH, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE,
  BPF_LD, BPF_LDX, BPF_LSH, BPF_MEMSX, BPF_MOD, BPF_MODE, BPF_MOV, BPF_NEG, BPF_OP, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, BPF_RSH, BPF_SIZE, BPF_SRC,
  BPF_ST, BPF_STX, BPF_SUB, BPF_X, BPF_XCHG,
} from '../../isa/opcodes.js';
import { LDDW, type Instruction } from '../../isa/instruction.js';
import { formatInstruction } from '../../isa/disasm.js';
import { MapType, ProgramType } from '../../uapi/bpf.js';
import { BPF_LOAD_ACQ, BPF_STORE_REL, checkStructure, reservedFieldError, isLocalCall, jumpTarget, type Structure } from '../check.js';
import { CHANGES_PKT_DATA, HELPER_PROTOS, type ArgKind } from '../helpers.js';
import { ArrayMap } from '../maps/array.js';
import type { VmMap } from '../maps/map.js';
import type { VmProgram } from '../runtime.js';
import { accessSize } from '../semantics.js';
import { liveRegisters } from './liveness.js';
import { tadd, tconst } from './tnum.js';
import { ctxAccess } from './ctx-rules.js';
import { decide, isConstScalar, refine, S64_MIN, scalarAlu, sConst, sLoaded, sLoadedSigned, sRange, sUnknown, U64_MAX, type Scalar } from './scalar.js';
import { cloneState, EMPTY_SLOT, isPtr, setSlot, NOT_INIT, ptr, regStr, scalar, SLOTS, statesSafe, unknownScalar, type Reg, type State } from './state.js';

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

class Reject extends Error {
  constructor(
    readonly pc: number,
    readonly reason: string,
    readonly regs: number[] = [],
    readonly hint?: string,
  ) {
    super(reason);
  }
}

const MAX_CALL_FRAMES = 8;
const MAX_BPF_STACK = 512;
const MAX_PACKET_OFF = 0xffff;
const BPF_MAX_VAR_OFF = 1 << 29;
const TAIL_CALL = 12;

interface Checkpoint {
  /** Dropped (undefined) once evicted from its pc's list; the node stays for branch counting. */
  state: State | undefined;
  parent: Checkpoint | undefined;
  branches: number;
  /** Prune attempts that failed/succeeded: states that never help are dropped (as the kernel does). */
  miss: number;
  hit: number;
  /** Stack slots (frame * 64 + slot) some path from here reads before overwriting: pruning
   *  against this state compares only those (the kernel's stack liveness). Complete once
   *  `branches` reaches 0. */
  read: Set<number>;
  /** Slots wholly written between the parent checkpoint and this one: read marks stop here. */
  writtenBefore: Set<number>;
}

interface Trail {
  pc: number;
  prev: Trail | undefined;
}

interface Path {
  pc: number;
  state: State;
  cp: Checkpoint | undefined;
  /** The jumps taken to get here, newest first (shared with the paths forked off this one). */
  trail: Trail | undefined;
  /** Instructions and jumps since this path last stored a checkpoint (the kernel's heuristic:
   *  remember a state only every few jumps, which keeps the lists to compare short). */
  sinceInsns: number;
  sinceJumps: number;
  /** Stack slots wholly written since `cp` (a read of one is not a read of cp's value). */
  written: Set<number>;
  /** `written` is shared with a forked path: copy it before adding. */
  writtenShared: boolean;
}

const PLAIN = 1;
const PROBE = 2;

/** A tracing argument used where a number is expected is an unknown number. */
const asNumber = (r: Reg): Reg => (r.kind === 'btf_ptr' ? unknownScalar() : r);

const SKB_TYPES = new Set([ProgramType.SOCKET_FILTER, ProgramType.SCHED_CLS, ProgramType.SCHED_ACT, ProgramType.CGROUP_SKB]);

export function verify(prog: VmProgram | { name: string; type: ProgramType; insns: Instruction[] }, o: VerifyOptions = {}): VerifyResult {
  const v = new Verifier(prog.name, prog.type, prog.insns, o);
  return v.run();
}

class Verifier {
  private structure!: Structure;
  private insnsProcessed = 0;
  private pruned = 0;
  private statesStored = 0;
  private nextId = 1;
  private readonly checkpoints = new Map<number, Checkpoint[]>();
  private readonly prunePoints = new Set<number>();
  private readonly stackDepth: number[] = [];
  private readonly callees = new Map<number, Set<number>>();
  private readonly allowUninit: boolean;
  /** Live-in registers per slot, for pruning. */
  private live!: Uint16Array;
  private readonly limit: number;
  private cur!: Path;
  /** Per slot: processed at least once (so its reserved fields are checked); the immediate operand as a (shared, immutable) register. */
  private fieldsChecked!: Uint8Array;
  private immRegs: (Reg | undefined)[] = [];
  /** Per slot: which kinds of load it performed (PLAIN, PROBE); probeOk while a load instruction runs. */
  private loadKinds!: Uint8Array;
  private probeOk = false;

  constructor(
    private readonly name: string,
    private readonly type: ProgramType,
    private readonly insns: readonly Instruction[],
    private readonly o: VerifyOptions,
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

  private explain(e: Reject): string[] {
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

  private cfg(): void {
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

  private checkStackDepth(): void {
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

  private initialState(): State {
    const regs: Reg[] = new Array(11).fill(NOT_INIT);
    regs[1] = ptr('ctx');
    regs[10] = ptr('stack', { frame: 0 });
    if (this.type === ProgramType.UNSPEC) regs[2] = scalar(sRange(0n, 0xffffffffn)); // --mem length
    return { frames: [{ regs, stack: new Array(SLOTS).fill(EMPTY_SLOT), callsite: -1, subprog: 0, shared: false }], refs: [] };
  }

  private explore(): void {
    const stack: Path[] = [{ pc: 0, state: this.initialState(), cp: undefined, trail: undefined, sinceInsns: 0, sinceJumps: 0, written: new Set(), writtenShared: false }];
    while (stack.length) {
      this.cur = stack.pop()!;
      this.runPath(stack);
    }
  }

  private finishPath(p: Path): void {
    let c = p.cp;
    while (c) {
      c.branches--;
      if (c.branches > 0) break;
      c = c.parent;
    }
  }

  private runPath(pending: Path[]): void {
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

  private visit(p: Path): 'pruned' | 'new' {
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

  private fork(p: Path, pc: number, state: State, pending: Path[]): void {
    if (p.cp) p.cp.branches++;
    p.writtenShared = true;
    pending.push({ pc, state, cp: p.cp, trail: { pc: p.pc, prev: p.trail }, sinceInsns: p.sinceInsns, sinceJumps: p.sinceJumps + 1, written: p.written, writtenShared: true });
  }

  /** A read of stack slot `key` (frame * 64 + slot): every checkpoint up to the last whole write
   *  of it must keep comparing it. Partial writes count as reads (the other bytes survive). */
  private markRead(p: Path, key: number): void {
    if (p.written.has(key)) return;
    for (let c = p.cp; c && !c.read.has(key); c = c.parent) {
      c.read.add(key);
      if (c.writtenBefore.has(key)) break;
    }
  }

  private markSlots(p: Path, frame: number, first: number, last: number, wholeWrite: boolean): void {
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

  private frame(p: Path) {
    return p.state.frames[p.state.frames.length - 1]!;
  }

  private reg(p: Path, r: number, pc: number): Reg {
    const x = this.frame(p).regs[r]!;
    if (x.kind === 'not_init') {
      throw new Reject(pc, `r${r} is read before anything was written to it${r >= 1 && r <= 5 ? ' (r1-r5 are clobbered by every call)' : ''}`, [r]);
    }
    return x;
  }

  private setReg(p: Path, r: number, x: Reg): void {
    this.frame(p).regs[r] = x;
  }

  /** Execute one instruction; returns the next pc or undefined when the path ends. */
  private step(p: Path, pending: Path[]): number | undefined {
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
        return this.ld(p, i);
      case BPF_LDX: {
        const size = accessSize(i.code);
        const base = this.reg(p, i.src, pc);
        // One instruction, one kind of load: a probe read or a checked one (as the kernel requires).
        this.loadKinds[pc] |= base.kind === 'btf_ptr' ? 0 : PLAIN;
        if (this.loadKinds[pc] === (PLAIN | PROBE) || (base.kind === 'btf_ptr' && this.loadKinds[pc]! & PLAIN)) {
          throw new Reject(pc, 'this load reads through a tracing argument on one path and through another pointer on another', [i.src]);
        }
        this.probeOk = true;
        const val = this.access(p, i.src, base, i.off, size, 'read', BPF_MODE(i.code) === BPF_MEMSX);
        this.probeOk = false;
        this.setReg(p, i.dst, val!);
        return pc + 1;
      }
      case BPF_ST: {
        const size = accessSize(i.code);
        const base = this.reg(p, i.dst, pc);
        if (base.kind === 'ctx' && this.type !== ProgramType.UNSPEC) throw new Reject(pc, 'storing an immediate into the context is not allowed (use a register)', [i.dst]);
        this.access(p, i.dst, base, i.off, size, 'write', false, scalar(sConst(BigInt.asUintN(size * 8, BigInt(i.imm)))));
        return pc + 1;
      }
      case BPF_STX: {
        const size = accessSize(i.code);
        if (BPF_MODE(i.code) === BPF_ATOMIC) {
          this.atomic(p, i, size);
          return pc + 1;
        }
        const base = this.reg(p, i.dst, pc);
        const val = this.reg(p, i.src, pc);
        this.access(p, i.dst, base, i.off, size, 'write', false, val);
        return pc + 1;
      }
      case BPF_JMP:
      case BPF_JMP32:
        return this.jmp(p, i, cls === BPF_JMP32, pending);
    }
    throw new Reject(pc, `unknown instruction class ${cls}`);
  }

  // ---- ALU --------------------------------------------------------------------------------------

  private alu(p: Path, i: Instruction, is64: boolean, srcOverride?: Reg): void {
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

  private ptrArith(pc: number, r: Reg, s: Scalar, neg: boolean, regs: number[]): Reg {
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

  /**
   * Check an access through pointer register `regno` at `off` of `size` bytes. For a read, returns the
   * loaded value; for a write, stores `val` (stack spills).
   */
  private access(p: Path, regno: number, r: Reg, off: number, size: number, mode: 'read' | 'write' | 'rw', signExt: boolean, val?: Reg): Reg | undefined {
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
        const verdict = ctxAccess(this.type, off, size, write, this.o.ctxSize);
        if (!verdict.ok) throw new Reject(pc, `invalid context access: ${verdict.reason}`, [regno]);
        if (write) return undefined;
        if (signExt && verdict.load !== 'scalar' && verdict.load !== 'btf_ptr') throw new Reject(pc, `invalid context access: a pointer field (offset ${off}) cannot be loaded sign-extended`, [regno]);
        if (verdict.load === 'scalar') return signed();
        return ptr(verdict.load);
      }
      case 'stack':
        return this.stackAccess(p, regno, r, off, size, mode, signExt, val);
      case 'btf_ptr':
        // The kernel turns these loads into probe reads (a fault reads 0); the VM does the same.
        if (write || !this.probeOk) throw new Reject(pc, `r${regno} is a tracing argument (kernel memory, or a number): it can only be read by a load instruction`, [regno], write ? undefined : 'copy it with bpf_probe_read_kernel first');
        this.loadKinds[pc] |= PROBE;
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
        if (write && this.type === ProgramType.SOCKET_FILTER) throw new Reject(pc, 'socket filters cannot write to the packet', [regno]);
        return write ? undefined : signed();
      }
    }
    throw new Reject(pc, `r${regno} (${r.kind}) cannot be dereferenced`, [regno]);
  }

  private stackAccess(p: Path, regno: number, r: Reg, off: number, size: number, mode: 'read' | 'write' | 'rw', signExt: boolean, val?: Reg): Reg | undefined {
    const pc = p.pc;
    if (!isConstScalar(r.s)) return this.stackVarAccess(p, regno, r, off, size, mode);
    const at = r.off + off + Number(BigInt.asIntN(64, r.s.umin));
    if (at < -MAX_BPF_STACK || at + size > 0) throw new Reject(pc, `stack access of ${size} byte(s) at fp${at} is outside the 512-byte stack frame [fp-512, fp)`, [regno]);
    if (at % size !== 0 && !(mode !== 'rw' && size > 8)) throw new Reject(pc, `misaligned stack access: ${size} byte(s) at fp${at}`, [regno], `stack accesses must be aligned to their size`);
    const frame = p.state.frames[r.frame];
    if (!frame) throw new Reject(pc, 'stack pointer into a frame that has returned', [regno]);
    const sub = frame.subprog;
    this.stackDepth[sub] = Math.max(this.stackDepth[sub] ?? 0, -at);
    const first = Math.floor((at + MAX_BPF_STACK) / 8);
    const last = Math.floor((at + size - 1 + MAX_BPF_STACK) / 8);
    this.markSlots(p, r.frame, first, last, mode === 'write' && size === 8 && at % 8 === 0);
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
        if (addr >= at && addr < at + size && !(slot.init & (1 << b)) && !this.allowUninit) {
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
  private stackVarAccess(p: Path, regno: number, r: Reg, off: number, size: number, mode: 'read' | 'write' | 'rw'): Reg | undefined {
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
    this.stackDepth[frame.subprog] = Math.max(this.stackDepth[frame.subprog] ?? 0, -lo);
    const first = Math.floor((lo + MAX_BPF_STACK) / 8);
    const last = Math.floor((hi - 1 + MAX_BPF_STACK) / 8);
    this.markSlots(p, r.frame, first, last, false);
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
      if (!this.allowUninit && slot.init !== 0xff) throw new Reject(pc, 'variable-offset read of the stack may read bytes never written', [regno]);
    }
    return mode === 'write' ? undefined : scalar(sLoaded(size));
  }

  private atomic(p: Path, i: Instruction, size: number): void {
    const pc = p.pc;
    const base = this.reg(p, i.dst, pc);
    // Atomic accesses must be naturally aligned whatever the memory (the kernel's strict_alignment_once).
    const at = i.imm === BPF_LOAD_ACQ ? i.src : i.dst;
    if (!aligned(this.reg(p, at, pc), i.off, size)) throw new Reject(pc, `misaligned atomic access of ${size} bytes through r${at}`, [at]);
    if (i.imm === BPF_LOAD_ACQ) {
      const src = this.reg(p, i.src, pc);
      this.setReg(p, i.dst, this.access(p, i.src, src, i.off, size, 'read', false)!);
      return;
    }
    const val = this.reg(p, i.src, pc);
    if (i.imm === BPF_STORE_REL) {
      this.access(p, i.dst, base, i.off, size, 'write', false, val);
      return;
    }
    const hostCtx = base.kind === 'ctx' && this.type === ProgramType.UNSPEC;
    if (base.kind !== 'stack' && base.kind !== 'map_value' && base.kind !== 'ringbuf_mem' && !hostCtx) {
      throw new Reject(pc, `atomic operations on ${base.kind} memory are not allowed`, [i.dst]);
    }
    if (isPtr(val)) throw new Reject(pc, 'atomic operation with a pointer operand', [i.src]);
    if (i.imm === BPF_CMPXCHG) this.reg(p, 0, pc);
    this.access(p, i.dst, base, i.off, size, 'rw', false);
    const old = scalar(size === 8 ? sUnknown() : sRange(0n, 0xffffffffn));
    if (i.imm === BPF_CMPXCHG) this.setReg(p, 0, old);
    else if (i.imm & BPF_FETCH || i.imm === BPF_XCHG) this.setReg(p, i.src, old);
  }

  private ld(p: Path, i: Instruction): number {
    const pc = p.pc;
    if (i.code === LDDW) {
      const maps = this.o.maps ?? [];
      const map = (): VmMap => {
        const m = maps[i.imm];
        if (!m) throw new Reject(pc, `lddw refers to map #${i.imm}, which does not exist`);
        return m;
      };
      switch (i.src) {
        case 0:
          this.setReg(p, i.dst, scalar(sConst((BigInt(this.insns[pc + 1]!.imm >>> 0) << 32n) | BigInt(i.imm >>> 0))));
          break;
        case BPF_PSEUDO_MAP_FD:
        case BPF_PSEUDO_MAP_IDX:
          this.setReg(p, i.dst, ptr('map_ptr', { map: map() }));
          break;
        case BPF_PSEUDO_MAP_VALUE:
        case BPF_PSEUDO_MAP_IDX_VALUE: {
          const m = map();
          const off = this.insns[pc + 1]!.imm;
          if (!(m instanceof ArrayMap) || off < 0 || off >= m.spec.valueSize) throw new Reject(pc, `direct value access into map '${m.name}' at ${off} is invalid`);
          this.setReg(p, i.dst, ptr('map_value', { map: m, off, size: m.spec.valueSize }));
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
    if (!SKB_TYPES.has(this.type)) throw new Reject(pc, 'legacy packet loads (LD_ABS/LD_IND) are only for socket filters and tc');
    if (this.reg(p, 6, pc).kind !== 'ctx') throw new Reject(pc, 'legacy packet loads need the context in r6', [6]);
    if (p.state.frames.length > 1) throw new Reject(pc, 'legacy packet loads are not allowed in subprograms');
    if (BPF_MODE(i.code) !== BPF_ABS && this.reg(p, i.src, pc).kind !== 'scalar') throw new Reject(pc, 'LD_IND needs a scalar offset register', [i.src]);
    for (let r = 1; r <= 5; r++) this.setReg(p, r, NOT_INIT);
    // The kernel marks r0 wholly unknown here (not zero-extended from the load's size): so does tsbpf,
    // to decide what follows as the kernel does.
    this.setReg(p, 0, unknownScalar());
    return pc + 1;
  }

  // ---- jumps and calls --------------------------------------------------------------------------

  private jmp(p: Path, i: Instruction, is32: boolean, pending: Path[]): number | undefined {
    const pc = p.pc;
    const op = BPF_OP(i.code);
    p.sinceJumps++;
    if (op === BPF_JA) {
      p.trail = { pc, prev: p.trail };
      return jumpTarget(this.insns, pc)!;
    }
    if (op === BPF_EXIT) return this.exit(p);
    if (op === BPF_CALL) return isLocalCall(i) ? this.localCall(p, i) : this.helperCall(p, i);
    const a = this.reg(p, i.dst, pc);
    const b = BPF_SRC(i.code) === BPF_X ? this.reg(p, i.src, pc) : (this.immRegs[pc] ??= scalar(sConst(is32 ? BigInt(i.imm >>> 0) : BigInt.asUintN(64, BigInt(i.imm)))));
    const target = jumpTarget(this.insns, pc)!;
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
      if (tOk) this.applyScalars(taken, i, rt!, isX);
      if (fOk) this.applyScalars(fall, i, rf!, isX);
    } else if (nullCheck) {
      if (tOk && fOk) {
        const nonNull = op === BPF_JNE ? taken : fall;
        const isNull = op === BPF_JNE ? fall : taken;
        this.markNull(nonNull, a, false);
        this.markNull(isNull, a, true);
      }
    } else if (!is32 && isPtr(a) && isPtr(b)) {
      this.packetCompare(op, a, b, taken, fall);
    }
    if (tOk && fOk) {
      this.fork(p, target, taken, pending);
      return pc + 1;
    }
    if (tOk) {
      p.state = taken;
      p.trail = { pc, prev: p.trail };
      return target;
    }
    return pc + 1;
  }

  private applyScalars(st: State, i: Instruction, r: [Scalar, Scalar], isX: boolean): void {
    const f = st.frames[st.frames.length - 1]!;
    const [na, nb] = r;
    f.regs[i.dst] = scalar(na);
    if (isX) f.regs[i.src] = scalar(nb);
  }

  private forEachReg(st: State, fn: (r: Reg) => Reg): void {
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

  private markNull(st: State, a: Reg, isNull: boolean): void {
    const id = a.id;
    this.forEachReg(st, (r) => {
      if (r.id !== id || !r.kind.endsWith('_or_null')) return r;
      if (isNull) return scalar(sConst(0n));
      return { ...r, kind: r.kind === 'map_value_or_null' ? 'map_value' : 'ringbuf_mem' };
    });
    if (isNull && a.ref) st.refs = st.refs.filter((x) => x.id !== a.ref);
  }

  /** data + N compared with data_end (or meta with data): the fall-through/taken branch proves N bytes. */
  private packetCompare(op: number, a: Reg, b: Reg, taken: State, fall: State): void {
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
    this.forEachReg(where, (r) => (r.kind === kind && r.id === id && r.range < range ? { ...r, range } : r));
  }

  private exit(p: Path): number | undefined {
    const pc = p.pc;
    const st = p.state;
    const r0 = this.reg(p, 0, pc);
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

  private localCall(p: Path, i: Instruction): number {
    const pc = p.pc;
    const st = p.state;
    if (st.frames.length >= MAX_CALL_FRAMES) throw new Reject(pc, `more than ${MAX_CALL_FRAMES} nested calls`);
    const target = pc + 1 + i.imm;
    const caller = this.frame(p);
    const regs: Reg[] = new Array(11).fill(NOT_INIT);
    for (let k = 1; k <= 5; k++) regs[k] = caller.regs[k]!;
    regs[10] = ptr('stack', { frame: st.frames.length });
    st.frames.push({ regs, stack: new Array(SLOTS).fill(EMPTY_SLOT), callsite: pc, subprog: this.structure.subprogOf[target]!, shared: false });
    // A fresh frame: nothing in it comes from before the call.
    this.markSlots(p, st.frames.length - 1, 0, SLOTS - 1, true);
    p.trail = { pc, prev: p.trail };
    return target;
  }

  private helperCall(p: Path, i: Instruction): number {
    const pc = p.pc;
    const proto = HELPER_PROTOS.get(i.imm);
    if (!proto) throw new Reject(pc, `helper #${i.imm} is not available in the VM`, [], `the VM provides: ${[...HELPER_PROTOS.values()].map((h) => h.name).join(', ')}`);
    if (proto.types && !proto.types.includes(this.type)) {
      throw new Reject(pc, `bpf_${proto.name} cannot be called from ${ProgramType[this.type] ?? this.type} programs`);
    }
    let map: VmMap | undefined;
    let size: Scalar | undefined;
    const args = proto.args;
    for (let k = 0; k < args.length; k++) {
      const regno = k + 1;
      const r = this.reg(p, regno, pc);
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
          this.checkMapForHelper(pc, proto.name, map);
          break;
        case 'ptr_to_map_key':
        case 'ptr_to_map_value':
          if (!map) bad('preceded by a map');
          this.memArg(p, regno, r, kind === 'ptr_to_map_key' ? map!.spec.keySize : map!.spec.valueSize, 'read', proto.name);
          break;
        case 'ptr_to_mem':
        case 'ptr_to_uninit_mem': {
          const sz = this.reg(p, regno + 1, pc);
          if (sz.kind !== 'scalar') throw new Reject(pc, `argument ${regno + 1} of bpf_${proto.name} must be a size`, [regno + 1]);
          const orZero = args[k + 1] === 'const_size_or_zero';
          if (sz.s.umax > 0xffffffffn || sz.s.smin < 0n) throw new Reject(pc, `the size in r${regno + 1} is unbounded (${regStr(sz)})`, [regno + 1], 'bound it with a comparison or mask');
          if (sz.s.umin === 0n && !orZero) throw new Reject(pc, `the size in r${regno + 1} may be zero`, [regno + 1]);
          if (sz.s.umax > 0n) this.memArg(p, regno, r, Number(sz.s.umax), kind === 'ptr_to_mem' ? 'read' : 'write', proto.name);
          else if (r.kind !== 'scalar' || r.s.umax !== 0n) this.memArg(p, regno, r, 0, 'read', proto.name);
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
          this.access(p, regno, r, 0, 4, 'write', false, scalar(sConst(0n)));
          break;
        case 'const_alloc_size_or_zero':
          if (r.kind !== 'scalar' || !isConstScalar(r.s)) bad('a constant size');
          size = r.s;
          break;
      }
    }
    if (i.imm === TAIL_CALL && p.state.refs.length) throw new Reject(pc, 'tail call while holding a ring-buffer record');
    if (proto.release) {
      const rec = this.frame(p).regs[1]!;
      const ref = rec.ref;
      p.state.refs = p.state.refs.filter((x) => x.id !== ref);
      this.forEachReg(p.state, (r) => (r.ref === ref && r.kind.startsWith('ringbuf') ? NOT_INIT : r));
    }
    if (CHANGES_PKT_DATA.has(proto.name)) {
      // The packet may have moved: as the kernel's clear_all_pkt_pointers, every packet pointer (in
      // registers and spilled, in every frame) becomes an unknown number.
      this.forEachReg(p.state, (r) => (r.kind === 'pkt' || r.kind === 'pkt_end' || r.kind === 'pkt_meta' ? unknownScalar() : r));
    }
    const f = this.frame(p);
    for (let k = 1; k <= 5; k++) f.regs[k] = NOT_INIT;
    switch (proto.ret) {
      case 'integer':
        f.regs[0] = unknownScalar();
        break;
      case 'void':
        f.regs[0] = NOT_INIT;
        break;
      case 'map_value_or_null':
        f.regs[0] = ptr('map_value_or_null', { map, id: this.nextId++, size: map!.spec.valueSize });
        break;
      case 'ringbuf_mem_or_null': {
        const ref = this.nextId++;
        p.state.refs.push({ id: ref, pc });
        f.regs[0] = ptr('ringbuf_mem_or_null', { id: this.nextId++, ref, size: Number(size!.umin) });
        break;
      }
    }
    return pc + 1;
  }

  private checkMapForHelper(pc: number, helper: string, m: VmMap): void {
    const t = m.spec.type;
    const ring = t === MapType.RINGBUF;
    const progArray = t === MapType.PROG_ARRAY;
    if (helper.startsWith('ringbuf_') !== ring) throw new Reject(pc, `map '${m.name}' (${MapType[t]}) cannot be used with bpf_${helper}`, [1]);
    if (helper === 'tail_call' ? !progArray : progArray) throw new Reject(pc, `map '${m.name}' (${MapType[t]}) cannot be used with bpf_${helper}`, [1]);
  }

  /** A helper argument pointing at `size` bytes to read or write. */
  private memArg(p: Path, regno: number, r: Reg, size: number, mode: 'read' | 'write', helper: string): void {
    if (size === 0) return;
    if (r.kind === 'ctx') {
      // Only a host-defined context is plain memory; kernel contexts are rewritten structures.
      if (this.type !== ProgramType.UNSPEC) throw new Reject(p.pc, `bpf_${helper} cannot take the context as memory`, [regno]);
      if (r.off < 0 || !isConstScalar(r.s) || r.s.umin !== 0n) throw new Reject(p.pc, 'modified context pointer passed to a helper', [regno]);
      const v = ctxAccess(this.type, r.off, size, mode === 'write', this.o.ctxSize);
      if (!v.ok) throw new Reject(p.pc, `bpf_${helper}: ${v.reason}`, [regno]);
      return;
    }
    if (r.kind === 'stack') {
      // Byte-wise: helper reads need initialised bytes (unless uninit stack is allowed), writes initialise.
      this.stackAccess(p, regno, r, 0, size, mode === 'write' ? 'write' : 'read', false);
      return;
    }
    this.access(p, regno, r, 0, size, mode, false);
  }
}

/** Is every address `r + off` may hold a multiple of `size`? (the kernel's tnum_is_aligned) */
function aligned(r: Reg, off: number, size: number): boolean {
  if (size === 1) return true;
  const t = tadd(r.s.t, tconst(BigInt.asUintN(64, BigInt(r.off + off))));
  return ((t.value | t.mask) & BigInt(size - 1)) === 0n;
}

function opName(op: number): string {
  return ({ [BPF_ADD]: '+', [BPF_SUB]: '-', 0x20: '*', [BPF_DIV]: '/', 0x40: '|', [BPF_AND]: '&', [BPF_LSH]: '<<', [BPF_RSH]: '>>', [BPF_MOD]: '%', 0xa0: '^', [BPF_ARSH]: 's>>' } as Record<number, string>)[op] ?? `0x${op.toString(16)}`;
}

void BPF_NEG; void BPF_MOV; void BPF_JEQ; void BPF_JNE; void BPF_ST; void BPF_LDX;
void BPF_PSEUDO_CALL;
export type { ArgKind };

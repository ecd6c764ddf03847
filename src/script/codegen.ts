// Code generation: one eBPF program per probe unit (a probe body for one attach point). Scalars are
// computed into r0 (temporaries spill to the stack); strings, tuples and other aggregates are written
// into stack memory at a destination offset. Events for user space (printf, exit, print, time ...)
// are records on the stack sent with bpf_ringbuf_output: a u64 format id, then the arguments.
import type { Expr, MapExpr, Pos, Stmt, VarExpr } from './ast.js';
import type { Checked, Unit } from './checker.js';
import { Emitter, type Label, type MapRef, type Size } from './emit.js';
import { ScriptError } from './error.js';
import { probeFunc } from './probes.js';
import { align8, isScalar, sizeOf, typeName, type MapInfo, type SType } from './types.js';
import type { Instruction } from '../isa/instruction.js';
import { MAX_BPF_STACK } from '../isa/opcodes.js';
import { ProgramType } from '../uapi/bpf.js';

const H = {
  map_lookup_elem: 1, map_update_elem: 2, map_delete_elem: 3, probe_read: 4, ktime_get_ns: 5, get_prandom_u32: 7,
  get_smp_processor_id: 8, get_current_pid_tgid: 14, get_current_uid_gid: 15, get_current_comm: 16, get_stackid: 27,
  get_current_task: 35, probe_read_str: 45, get_current_cgroup_id: 80, probe_read_kernel: 113, ringbuf_output: 130,
} as const;

/** struct pt_regs offsets on x86_64 of the argument registers di, si, dx, cx, r8, r9 and of ax. */
const PT_REGS_ARG = [112, 104, 96, 88, 72, 64];
const PT_REGS_AX = 80;
const BPF_F_USER_STACK = 1 << 8;

/** The special maps a script may need besides its own. */
export const EVENTS_MAP = '$events';
export const STACKS_MAP = '$stacks';
/** per-CPU scratch for records too big for the stack (join) */
export const SCRATCH_MAP = '$scratch';
export const JOIN_ARGS = 16;
export const JOIN_LEN = 1024;
export const JOIN_RECORD = 8 + JOIN_ARGS * JOIN_LEN;

export interface CompiledUnit {
  unit: Unit;
  progType: ProgramType;
  insns: Instruction[];
  mapRefs: MapRef[];
  spans: (Pos | undefined)[];
  stackSize: number;
}

export interface CodegenOptions {
  /** CLOCK_MONOTONIC at start, for `elapsed` */
  startNs: bigint;
  params: string[];
  /** pid of the command started with -c */
  cpid?: number;
  /** address of a kernel symbol (kaddr) */
  kaddr?: (name: string) => bigint | undefined;
}

/** Layout of a map's key and value in bytes. */
export function mapLayout(m: MapInfo): { keySize: number; valueSize: number; perCpu: boolean; histKey: boolean } {
  const userKey = m.keys.reduce((n, k) => n + align8(sizeOf(k)), 0);
  const histKey = m.value.kind === 'agg' && (m.value.agg === 'hist' || m.value.agg === 'lhist');
  const keySize = Math.max(8, userKey + (histKey ? 8 : 0));
  if (m.value.kind === 'value') return { keySize, valueSize: align8(Math.max(8, sizeOf(m.value.type))), perCpu: false, histKey };
  const two = ['min', 'max', 'avg', 'stats'].includes(m.value.agg);
  return { keySize, valueSize: two ? 16 : 8, perCpu: true, histKey };
}

export function programType(u: Unit): ProgramType {
  switch (u.spec.type) {
    case 'tracepoint': return ProgramType.TRACEPOINT;
    case 'kprobe': case 'kretprobe': case 'uprobe': case 'uretprobe': return ProgramType.KPROBE;
    case 'profile': case 'interval': case 'software': return ProgramType.PERF_EVENT;
    case 'kfunc': case 'kretfunc': return ProgramType.TRACING;
    default: return ProgramType.RAW_TRACEPOINT; // BEGIN, END (run with BPF_PROG_TEST_RUN), rawtracepoint
  }
}

export function generate(checked: Checked, o: CodegenOptions): CompiledUnit[] {
  return checked.units.map((u) => new UnitGen(checked, u, o).run());
}

class UnitGen {
  private readonly e = new Emitter();
  private sp = 0; // bytes of stack in use (offsets are -sp)
  private maxSp = 0;
  private readonly vars = new Map<string, number>();
  private readonly loops: { brk: Label; cont: Label }[] = [];
  private readonly exitLabel: Label;

  constructor(readonly c: Checked, readonly u: Unit, readonly o: CodegenOptions) {
    this.exitLabel = this.e.label();
  }

  private err(reason: string, pos: Pos): ScriptError {
    return new ScriptError(reason, pos, this.c.source, this.c.fileName);
  }
  private type(x: Expr): SType {
    const t = this.u.types.get(x);
    if (!t) throw new Error(`codegen: expression without a type at ${x.pos.line}:${x.pos.col}`);
    return t;
  }

  /** Allocate `size` bytes of stack (8-aligned); returns the fp-relative offset. */
  private alloc(size: number, pos: Pos): number {
    this.sp += align8(Math.max(size, 8));
    if (this.sp > MAX_BPF_STACK) throw this.err(`the program needs more than ${MAX_BPF_STACK} bytes of BPF stack here (use shorter strings or fewer arguments)`, pos);
    this.maxSp = Math.max(this.maxSp, this.sp);
    return -this.sp;
  }
  private mark(): number {
    return this.sp;
  }
  private release(m: number): void {
    this.sp = m;
  }

  run(): CompiledUnit {
    const e = this.e;
    const p = this.u.probe;
    e.pos = p.pos;
    e.mov(6, 1);
    // Variables live for the whole program, zeroed so that a read before any assignment is defined.
    for (const [name, t] of this.u.vars) {
      const off = this.alloc(sizeOf(t), p.pos);
      this.vars.set(name, off);
      this.zero(off, sizeOf(t));
    }
    if (p.predicate) {
      e.pos = p.predicate.pos;
      this.scalar(p.predicate);
      e.jmpImm('jeq', 0, 0, this.exitLabel);
    }
    this.stmts(p.body);
    e.bind(this.exitLabel);
    e.pos = p.pos;
    e.movImm(0, 0);
    e.exit();
    return { unit: this.u, progType: programType(this.u), insns: e.finish(), mapRefs: e.mapRefs, spans: e.spans, stackSize: this.maxSp };
  }

  private stmts(list: Stmt[]): void {
    for (const s of list) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    const e = this.e;
    e.pos = s.pos;
    const m = this.mark();
    switch (s.kind) {
      case 'expr':
        if (s.expr.kind === 'call') this.callStmt(s.expr);
        else if (isScalar(this.type(s.expr)) || this.type(s.expr).k === 'none') this.scalar(s.expr);
        break;
      case 'assign': this.assign(s.target, s.op, s.value); break;
      case 'if': {
        const els = e.label();
        const end = e.label();
        this.scalar(s.cond);
        e.jmpImm('jeq', 0, 0, els);
        this.release(m);
        this.stmts(s.then);
        if (s.else) e.ja(end);
        e.bind(els);
        if (s.else) this.stmts(s.else);
        e.bind(end);
        break;
      }
      case 'while': {
        const top = e.label();
        const end = e.label();
        e.bind(top);
        e.pos = s.cond.pos;
        this.scalar(s.cond);
        e.jmpImm('jeq', 0, 0, end);
        this.release(m);
        this.loops.push({ brk: end, cont: top });
        this.stmts(s.body);
        this.loops.pop();
        e.ja(top);
        e.bind(end);
        break;
      }
      case 'unroll': {
        const n = Number((s.count as { value: bigint }).value);
        for (let i = 0; i < n; i++) this.stmts(s.body);
        break;
      }
      case 'break': e.ja(this.loops[this.loops.length - 1]!.brk); break;
      case 'continue': e.ja(this.loops[this.loops.length - 1]!.cont); break;
      case 'return': e.ja(this.exitLabel); break;
    }
    this.release(m);
  }

  // ---- variables and maps ----
  private varSlot(v: VarExpr): number {
    const off = this.vars.get(v.name);
    if (off === undefined) throw new Error(`codegen: variable $${v.name} has no slot`);
    return off;
  }

  private mapInfo(name: string): MapInfo {
    return this.c.maps.get(name)!;
  }

  /** Build a map's key on the stack; returns its offset. `bucket` (hist) goes last. */
  private mapKey(m: MapExpr): number {
    const info = this.mapInfo(m.name);
    const lay = mapLayout(info);
    const off = this.alloc(lay.keySize, m.pos);
    for (let i = 0; i < lay.keySize; i += 8) this.e.st(8, 10, off + i, 0);
    let at = off;
    m.keys.forEach((k, i) => {
      this.into(k, at, info.keys[i]!);
      at += align8(sizeOf(info.keys[i]!));
    });
    return off;
  }

  private assign(target: MapExpr | VarExpr, op: string, value: Expr): void {
    const e = this.e;
    if (target.kind === 'var') {
      const off = this.varSlot(target);
      const t = this.u.vars.get(target.name)!;
      if (op === '=') {
        this.into(value, off, t);
        return;
      }
      this.scalar(value);
      e.mov(1, 0);
      e.ldx(8, 0, 10, off);
      this.binop(op.slice(0, -1), t.k === 'int' && t.signed);
      e.stx(8, 10, off, 0);
      return;
    }
    if (value.kind === 'call' && this.mapInfo(target.name).value.kind === 'agg' && op === '=') {
      this.aggregate(target, value);
      return;
    }
    const info = this.mapInfo(target.name);
    const vt = (info.value as { type: SType }).type;
    const lay = mapLayout(info);
    const val = this.alloc(lay.valueSize, value.pos);
    for (let i = 0; i < lay.valueSize; i += 8) e.st(8, 10, val + i, 0);
    if (op === '=') this.into(value, val, vt);
    else {
      this.scalar(value);
      e.stx(8, 10, val, 0);
    }
    const key = this.mapKey(target);
    if (op !== '=') {
      this.lookupOrZero(target.name, key);
      e.ldx(8, 1, 10, val);
      this.binop(op.slice(0, -1), vt.k === 'int' && vt.signed);
      e.stx(8, 10, val, 0);
    }
    this.update(target.name, key, val);
  }

  /** r0 = the u64 at the start of the value for `key`, or 0 if absent. */
  private lookupOrZero(map: string, key: number): void {
    const e = this.e;
    e.ldMap(1, map);
    e.mov(2, 10);
    e.aluImm('add', 2, key);
    e.call(H.map_lookup_elem);
    const none = e.label();
    e.jmpImm('jeq', 0, 0, none);
    e.ldx(8, 0, 0, 0);
    e.bind(none);
  }

  private update(map: string, key: number, val: number): void {
    const e = this.e;
    e.ldMap(1, map);
    e.mov(2, 10);
    e.aluImm('add', 2, key);
    e.mov(3, 10);
    e.aluImm('add', 3, val);
    e.movImm(4, 0);
    e.call(H.map_update_elem);
  }

  private aggregate(target: MapExpr, call: Extract<Expr, { kind: 'call' }>): void {
    const e = this.e;
    const info = this.mapInfo(target.name);
    const agg = info.value as Extract<MapInfo['value'], { kind: 'agg' }>;
    const lay = mapLayout(info);
    const v = this.alloc(8, call.pos);
    if (call.args.length) this.scalar(call.args[0]!);
    else e.movImm(0, 1);
    e.stx(8, 10, v, 0);
    const key = this.mapKey(target);
    if (agg.agg === 'hist' || agg.agg === 'lhist') {
      e.ldx(8, 1, 10, v);
      if (agg.agg === 'hist') this.log2Bucket();
      else this.linearBucket(agg.lhist!);
      e.stx(8, 10, key + lay.keySize - 8, 0);
      e.movImm(0, 1);
      e.stx(8, 10, v, 0);
    }
    e.ldMap(1, target.name);
    e.mov(2, 10);
    e.aluImm('add', 2, key);
    e.call(H.map_lookup_elem);
    const init = e.label();
    const done = e.label();
    e.jmpImm('jeq', 0, 0, init);
    e.ldx(8, 2, 10, v);
    switch (agg.agg) {
      case 'count': case 'sum': case 'hist': case 'lhist':
        e.ldx(8, 1, 0, 0);
        e.aluReg('add', 1, 2);
        e.stx(8, 0, 0, 1);
        break;
      case 'avg': case 'stats':
        e.ldx(8, 1, 0, 0);
        e.aluImm('add', 1, 1);
        e.stx(8, 0, 0, 1);
        e.ldx(8, 1, 0, 8);
        e.aluReg('add', 1, 2);
        e.stx(8, 0, 8, 1);
        break;
      case 'min': case 'max': {
        const set = e.label();
        e.ldx(8, 1, 0, 8);
        e.jmpImm('jeq', 1, 0, set);
        e.ldx(8, 1, 0, 0);
        e.jmpReg(agg.agg === 'min' ? 'jsge' : 'jsle', 2, 1, done);
        e.bind(set);
        e.stx(8, 0, 0, 2);
        e.st(8, 0, 8, 1);
        break;
      }
    }
    e.ja(done);
    e.bind(init);
    const val = this.alloc(lay.valueSize, call.pos);
    e.ldx(8, 1, 10, v);
    if (agg.agg === 'avg' || agg.agg === 'stats') {
      e.st(8, 10, val, 1);
      e.stx(8, 10, val + 8, 1);
    } else if (agg.agg === 'min' || agg.agg === 'max') {
      e.stx(8, 10, val, 1);
      e.st(8, 10, val + 8, 1);
    } else e.stx(8, 10, val, 1);
    this.update(target.name, key, val);
    e.bind(done);
  }

  /** r0 = bpftrace's log2 histogram bucket of the signed value in r1 (0: negative, 1: zero, n+2: [2^n, 2^n+1)). */
  private log2Bucket(): void {
    const e = this.e;
    const neg = e.label();
    const zero = e.label();
    const done = e.label();
    e.jmpImm('jslt', 1, 0, neg);
    e.jmpImm('jeq', 1, 0, zero);
    e.movImm(0, 2);
    for (const shift of [32, 16, 8, 4, 2, 1]) {
      const skip = e.label();
      e.mov(2, 1);
      e.aluImm('rsh', 2, shift);
      e.jmpImm('jeq', 2, 0, skip);
      e.mov(1, 2);
      e.aluImm('add', 0, shift);
      e.bind(skip);
    }
    e.ja(done);
    e.bind(neg);
    e.movImm(0, 0);
    e.ja(done);
    e.bind(zero);
    e.movImm(0, 1);
    e.bind(done);
  }

  /** r0 = lhist bucket of r1: 0 below min, 1 + (v - min) / step inside, last at or above max. */
  private linearBucket(l: { min: number; max: number; step: number }): void {
    const e = this.e;
    const n = Math.ceil((l.max - l.min) / l.step);
    const below = e.label();
    const above = e.label();
    const done = e.label();
    e.jmpImm('jslt', 1, l.min, below);
    e.jmpImm('jsge', 1, l.max, above);
    e.mov(0, 1);
    e.aluImm('sub', 0, l.min);
    e.aluImm('div', 0, l.step);
    e.aluImm('add', 0, 1);
    e.ja(done);
    e.bind(below);
    e.movImm(0, 0);
    e.ja(done);
    e.bind(above);
    e.movImm(0, n + 1);
    e.bind(done);
  }

  // ---- statements that are calls ----
  private callStmt(call: Extract<Expr, { kind: 'call' }>): void {
    const e = this.e;
    const id = this.c.formatIds.get(this.u)!.get(call);
    switch (call.name) {
      case 'printf': case 'system': case 'cat':
        return this.event(id!, call.args.slice(1), call.pos);
      case 'time': case 'exit': case 'clear': case 'zero':
        return this.event(id!, [], call.pos);
      case 'print': {
        // print(@map) is done by user space; print(value) sends the value
        if (this.c.formats[id!]!.map !== undefined) return this.event(id!, [], call.pos);
        return this.event(id!, [call.args[0]!], call.pos);
      }
      case 'join': return this.event(id!, call.args.slice(0, 1), call.pos, true);
      case 'delete': {
        const m = call.args[0] as MapExpr;
        const key = this.mapKey(m);
        e.ldMap(1, m.name);
        e.mov(2, 10);
        e.aluImm('add', 2, key);
        e.call(H.map_delete_elem);
        return;
      }
      default:
        this.scalar(call);
    }
  }

  /** Send a record [u64 id][args...] to user space. */
  private event(id: number, args: Expr[], pos: Pos, join = false): void {
    const e = this.e;
    if (join) return this.joinEvent(id, args[0]!, pos);
    const sizes = args.map((a) => align8(sizeOf(this.type(a))));
    const total = 8 + sizes.reduce((a, b) => a + b, 0);
    const rec = this.alloc(total, pos);
    e.movImm(0, id);
    e.stx(8, 10, rec, 0);
    let at = rec + 8;
    args.forEach((a, i) => {
      this.into(a, at, this.type(a));
      at += sizes[i]!;
    });
    e.ldMap(1, EVENTS_MAP);
    e.mov(2, 10);
    e.aluImm('add', 2, rec);
    e.movImm(3, total);
    e.movImm(4, 0);
    e.call(H.ringbuf_output);
  }

  /** join(argv): up to JOIN_ARGS strings read from a pointer array, built in the per-CPU scratch map. */
  private joinEvent(id: number, argv: Expr, pos: Pos): void {
    const e = this.e;
    const ptrs = this.alloc(8, pos);
    const tmp = this.alloc(8, pos);
    const key = this.alloc(8, pos);
    this.scalar(argv);
    e.stx(8, 10, ptrs, 0);
    e.st(8, 10, key, 0);
    e.ldMap(1, SCRATCH_MAP);
    e.mov(2, 10);
    e.aluImm('add', 2, key);
    e.call(H.map_lookup_elem);
    const end = e.label();
    const send = e.label();
    e.jmpImm('jeq', 0, 0, end);
    e.mov(7, 0);
    e.movImm(1, id);
    e.stx(8, 7, 0, 1);
    for (let i = 0; i < JOIN_ARGS; i++) {
      const at = 8 + i * JOIN_LEN;
      const stop = e.label();
      const next = e.label();
      e.st(8, 10, tmp, 0);
      e.mov(1, 10);
      e.aluImm('add', 1, tmp);
      e.movImm(2, 8);
      e.ldx(8, 3, 10, ptrs);
      e.aluImm('add', 3, i * 8);
      e.call(H.probe_read);
      e.ldx(8, 3, 10, tmp);
      e.jmpImm('jeq', 3, 0, stop);
      e.mov(1, 7);
      e.aluImm('add', 1, at);
      e.movImm(2, JOIN_LEN);
      e.call(H.probe_read_str);
      e.ja(next);
      e.bind(stop);
      e.st(1, 7, at, 0);
      e.ja(send);
      e.bind(next);
    }
    e.bind(send);
    e.ldMap(1, EVENTS_MAP);
    e.mov(2, 7);
    e.movImm(3, JOIN_RECORD);
    e.movImm(4, 0);
    e.call(H.ringbuf_output);
    e.bind(end);
  }

  // ---- values into memory ----
  /** Write the value of `x` as type `t` into the stack at `off`. */
  private into(x: Expr, off: number, t: SType): void {
    const e = this.e;
    const xt = this.type(x);
    if (isScalar(xt) || xt.k === 'none') {
      this.scalar(x);
      e.stx(8, 10, off, 0);
      return;
    }
    const size = align8(sizeOf(t));
    switch (x.kind) {
      case 'str': return this.literal(x.value, off, size);
      case 'positional': return this.literal(this.o.params[x.n - 1] ?? '', off, size);
      case 'builtin':
        if (x.name === 'comm') {
          this.zero(off, size);
          e.mov(1, 10);
          e.aluImm('add', 1, off);
          e.movImm(2, Math.min(16, sizeOf(t)));
          e.call(H.get_current_comm);
          return;
        }
        if (x.name === 'probe') return this.literal(this.u.name, off, size);
        if (x.name === 'func') return this.literal(probeFunc(this.u.spec) ?? '', off, size);
        break;
      case 'var': return this.copy(this.varSlot(x), off, Math.min(size, align8(sizeOf(xt))), size);
      case 'map': {
        const info = this.mapInfo(x.name);
        const key = this.mapKey(x);
        this.zero(off, size);
        e.ldMap(1, x.name);
        e.mov(2, 10);
        e.aluImm('add', 2, key);
        e.call(H.map_lookup_elem);
        const none = e.label();
        e.jmpImm('jeq', 0, 0, none);
        const n = Math.min(size, mapLayout(info).valueSize);
        for (let i = 0; i < n; i += 8) {
          e.ldx(8, 1, 0, i);
          e.stx(8, 10, off + i, 1);
        }
        e.bind(none);
        return;
      }
      case 'tuple': {
        const tt = t as Extract<SType, { k: 'tuple' }>;
        let at = off;
        x.elems.forEach((el, i) => {
          this.into(el, at, tt.elems[i]!);
          at += align8(sizeOf(tt.elems[i]!));
        });
        return;
      }
      case 'ternary': {
        const els = e.label();
        const end = e.label();
        this.scalar(x.cond);
        e.jmpImm('jeq', 0, 0, els);
        this.into(x.then, off, t);
        e.ja(end);
        e.bind(els);
        this.into(x.else, off, t);
        e.bind(end);
        return;
      }
      case 'field':
        if (this.u.argFields.has(x)) return this.argInto(x, off, size);
        this.address(x);
        return this.readInto(off, Math.min(sizeOf(xt), size), size, xt.k === 'str' ? 'probe_read' : 'probe_read');
      case 'index':
        break;
      case 'call': return this.callInto(x, off, t);
    }
    throw this.err(`this expression (${typeName(xt)}) can not be used here yet`, x.pos);
  }

  private zero(off: number, size: number): void {
    for (let i = 0; i < align8(size); i += 8) this.e.st(8, 10, off + i, 0);
  }

  private copy(from: number, to: number, n: number, size: number): void {
    this.zero(to, size);
    for (let i = 0; i < n; i += 8) {
      this.e.ldx(8, 1, 10, from + i);
      this.e.stx(8, 10, to + i, 1);
    }
  }

  private literal(s: string, off: number, size: number): void {
    const bytes = new TextEncoder().encode(s);
    for (let i = 0; i < size; i += 4) {
      let w = 0;
      for (let j = 3; j >= 0; j--) w = (w << 8) | (i + j < bytes.length && i + j < size - 1 ? bytes[i + j]! : 0);
      this.e.st(4, 10, off + i, w);
    }
  }

  /** probe_read(fp+off, n, r0 address) into a zeroed buffer of `size` bytes */
  private readInto(off: number, n: number, size: number, helper: 'probe_read' | 'probe_read_str'): void {
    const e = this.e;
    e.mov(3, 0);
    this.zero(off, size);
    e.mov(1, 10);
    e.aluImm('add', 1, off);
    e.movImm(2, n);
    e.call(H[helper]);
  }

  /** A tracepoint field that is not a scalar: a char array, a byte array, a __data_loc string. */
  private argInto(x: Expr, off: number, size: number): void {
    const e = this.e;
    const f = this.u.argFields.get(x)!;
    this.zero(off, size);
    if (f.dataLoc) {
      // u32 (len << 16 | offset into the record): read it with probe_read from ctx + offset.
      e.ldx(4, 3, 6, f.offset);
      e.aluImm('and', 3, 0xffff);
      e.aluReg('add', 3, 6);
      e.mov(1, 10);
      e.aluImm('add', 1, off);
      e.movImm(2, size);
      e.call(H.probe_read_str);
      return;
    }
    this.ctxCopy(f.offset, off, Math.min(f.size, size));
  }

  /** Copy n bytes of the context (tracepoint record) at ctxOff to the stack, in aligned loads. */
  private ctxCopy(ctxOff: number, off: number, n: number): void {
    let i = 0;
    while (i < n) {
      let s: Size = 8;
      while (s > 1 && ((ctxOff + i) % s !== 0 || i % s !== 0 || n - i < s)) s = (s / 2) as Size;
      this.e.ldx(s, 1, 6, ctxOff + i);
      this.e.stx(s, 10, off + i, 1);
      i += s;
    }
  }

  private callInto(x: Extract<Expr, { kind: 'call' }>, off: number, t: SType): void {
    const e = this.e;
    const size = align8(sizeOf(t));
    switch (x.name) {
      case 'str': {
        const a = x.args[0]!;
        const at = this.type(a);
        if (at.k === 'str') return this.into(a, off, t);
        if (at.k === 'array') return this.into(a, off, t);
        const n = Math.min(sizeOf(this.type(x)), sizeOf(t));
        this.zero(off, size);
        if (x.args[1]) {
          this.scalar(x.args[1]);
          e.aluImm('add', 0, 1);
          const ok = e.label();
          e.jmpImm('jle', 0, n, ok);
          e.movImm(0, n);
          e.bind(ok);
          const tmp = this.alloc(8, x.pos);
          e.stx(8, 10, tmp, 0);
          this.scalar(a);
          e.mov(3, 0);
          e.ldx(8, 2, 10, tmp);
          const skip = e.label();
          e.jmpImm('jeq', 2, 0, skip);
          e.mov(1, 10);
          e.aluImm('add', 1, off);
          e.call(H.probe_read_str);
          e.bind(skip);
          return;
        }
        this.scalar(a);
        return this.readInto(off, n, size, 'probe_read_str');
      }
      case 'buf': {
        const bt = this.type(x) as Extract<SType, { k: 'buf' }>;
        this.zero(off, size);
        e.movImm(0, bt.size);
        e.stx(8, 10, off, 0);
        const a = x.args[0]!;
        const at = this.type(a);
        if (at.k === 'array' && this.u.argFields.has(a)) return this.ctxCopy(this.u.argFields.get(a)!.offset, off + 8, bt.size);
        if (at.k === 'str') {
          const tmp = this.alloc(sizeOf(at), x.pos);
          this.into(a, tmp, at);
          for (let i = 0; i < Math.min(bt.size, sizeOf(at)); i++) {
            e.ldx(1, 1, 10, tmp + i);
            e.stx(1, 10, off + 8 + i, 1);
          }
          return;
        }
        const lenArg = x.args[1];
        if (lenArg && lenArg.kind !== 'int') {
          // run-time length, clamped to the buffer: [u64 len][bytes]
          const tmp = this.alloc(8, x.pos);
          this.scalar(a);
          e.stx(8, 10, tmp, 0);
          this.scalar(lenArg);
          const ok = e.label();
          e.jmpImm('jle', 0, bt.size, ok);
          e.movImm(0, bt.size);
          e.bind(ok);
          e.stx(8, 10, off, 0);
          e.mov(2, 0);
          e.ldx(8, 3, 10, tmp);
          e.mov(1, 10);
          e.aluImm('add', 1, off + 8);
          e.call(H.probe_read);
          return;
        }
        this.scalar(a);
        e.mov(3, 0);
        e.mov(1, 10);
        e.aluImm('add', 1, off + 8);
        e.movImm(2, bt.size);
        e.call(H.probe_read);
        return;
      }
      case 'ntop': {
        const a = x.args[x.args.length - 1]!;
        const at = this.type(a);
        this.zero(off, size);
        const v6 = at.k === 'array' && at.len * (at.elem as { size: number }).size === 16;
        if (x.args.length === 2) {
          this.scalar(x.args[0]!);
          e.stx(8, 10, off, 0);
        } else e.st(8, 10, off, v6 ? 10 : 2);
        if (at.k === 'int') {
          this.scalar(a);
          e.stx(4, 10, off + 8, 0);
          return;
        }
        if (at.k === 'array' && this.u.argFields.has(a)) return this.ctxCopy(this.u.argFields.get(a)!.offset, off + 8, v6 ? 16 : 4);
        if (at.k === 'array') {
          this.address(a);
          e.mov(3, 0);
          e.mov(1, 10);
          e.aluImm('add', 1, off + 8);
          e.movImm(2, v6 ? 16 : 4);
          e.call(H.probe_read);
          return;
        }
        break;
      }
      case 'strftime': {
        const ts = this.type(x) as Extract<SType, { k: 'timestamp' }>;
        e.movImm(0, ts.fmt);
        e.stx(8, 10, off, 0);
        this.scalar(x.args[1]!);
        e.stx(8, 10, off + 8, 0);
        return;
      }
    }
    throw this.err(`${x.name}() can not be used here yet`, x.pos);
  }

  // ---- scalars ----
  /** Evaluate a scalar expression into r0. */
  scalar(x: Expr): void {
    const e = this.e;
    const t = this.type(x);
    switch (x.kind) {
      case 'int': e.movImm(0, x.value); return;
      case 'positional': {
        if (x.n === 0) e.movImm(0, this.o.params.length);
        else e.movImm(0, BigInt(this.o.params[x.n - 1] || '0'));
        return;
      }
      case 'sizeof': e.movImm(0, 8); return;
      case 'var': {
        const off = this.varSlot(x);
        if (isScalar(t)) e.ldx(8, 0, 10, off);
        else throw this.err(`$${x.name} is not a scalar`, x.pos);
        return;
      }
      case 'map': {
        const key = this.mapKey(x);
        this.lookupOrZero(x.name, key);
        return;
      }
      case 'builtin': return this.builtin(x.name, x.pos, this.type(x));
      case 'incdec': return this.incdec(x);
      case 'unary': {
        this.scalar(x.operand);
        if (x.op === '-') e.neg(0);
        else if (x.op === '~') e.aluImm('xor', 0, -1);
        else if (x.op === '!') {
          const z = e.label();
          const end = e.label();
          e.jmpImm('jeq', 0, 0, z);
          e.movImm(0, 0);
          e.ja(end);
          e.bind(z);
          e.movImm(0, 1);
          e.bind(end);
        } else if (x.op === '*') this.deref(t, x.pos);
        return;
      }
      case 'binary': return this.binary(x);
      case 'ternary': {
        const els = e.label();
        const end = e.label();
        this.scalar(x.cond);
        e.jmpImm('jeq', 0, 0, els);
        this.scalar(x.then);
        e.ja(end);
        e.bind(els);
        this.scalar(x.else);
        e.bind(end);
        return;
      }
      case 'cast': {
        this.scalar(x.operand);
        if (t.k === 'int') this.narrow(t.size, t.signed);
        return;
      }
      case 'field': {
        const f = this.u.argFields.get(x);
        if (f) {
          if (t.k !== 'int' && t.k !== 'ptr') throw this.err(`args->${f.name} is not a scalar`, x.pos);
          const size = t.k === 'int' ? t.size : 8;
          // a kfunc argument is a whole u64 slot (the verifier wants 8-byte context loads there)
          e.ldx((f.size === 8 ? 8 : size) as Size, 0, 6, f.offset);
          if (t.k === 'int' && size < 8 && (t.signed || f.size === 8)) this.narrow(size as Size, t.signed);
          return;
        }
        if (t.k === 'record') {
          this.address(x);
          return;
        }
        if (this.type(x.object).k === 'tuple') throw this.err('tuple elements can only be printed', x.pos);
        this.address(x);
        this.deref(t, x.pos);
        return;
      }
      case 'index': {
        const ot = this.type(x.object);
        if (ot.k === 'array' && this.u.argFields.has(x.object)) {
          if (x.index.kind !== 'int') throw this.err('an index into a tracepoint array must be a literal', x.index.pos);
          const f = this.u.argFields.get(x.object)!;
          const es = (ot.elem as { size: Size }).size;
          const at = f.offset + Number(x.index.value) * es;
          if (Number(x.index.value) >= ot.len) throw this.err(`index ${x.index.value} is out of bounds (${ot.len} elements)`, x.index.pos);
          e.ldx(es, 0, 6, at);
          if (t.k === 'int' && t.signed) this.narrow(es, true);
          return;
        }
        const es = t.k === 'int' ? t.size : 8;
        if (ot.k === 'array') this.address(x.object);
        else this.scalar(x.object);
        const tmp = this.alloc(8, x.pos);
        e.stx(8, 10, tmp, 0);
        this.scalar(x.index);
        e.aluImm('mul', 0, es);
        e.ldx(8, 1, 10, tmp);
        e.aluReg('add', 0, 1);
        this.deref(t, x.pos);
        return;
      }
      case 'call': return this.callScalar(x);
      case 'ident': {
        const v = this.c.constants.get(x.name);
        if (v === undefined) throw this.err(`Unknown identifier: '${x.name}'`, x.pos);
        e.movImm(0, v);
        return;
      }
      case 'str': case 'tuple':
        throw this.err(`a ${typeName(t)} is not a number`, x.pos);
    }
  }

  /** r0 = value of type t at the address in r0 (probe_read into a temporary). */
  private deref(t: SType, pos: Pos): void {
    const e = this.e;
    const size = t.k === 'int' ? t.size : 8;
    const tmp = this.alloc(8, pos);
    e.mov(3, 0);
    e.st(8, 10, tmp, 0);
    e.mov(1, 10);
    e.aluImm('add', 1, tmp);
    e.movImm(2, size);
    e.call(H.probe_read);
    e.ldx(size as Size, 0, 10, tmp);
    if (t.k === 'int' && t.signed && size < 8) this.narrow(size as Size, true);
  }

  /** r0 = address of a record or field reached through BTF. */
  private address(x: Expr): void {
    const e = this.e;
    if (x.kind === 'field' && !this.u.argFields.has(x)) {
      const off = this.u.fieldOffsets.get(x);
      if (off === undefined) throw this.err('field without an offset', x.pos);
      if (x.arrow) this.scalar(x.object);
      else this.address(x.object);
      if (off) e.aluImm('add', 0, off);
      return;
    }
    this.scalar(x);
  }

  /** Truncate r0 to `size` bytes, sign- or zero-extending back to 64 bits. */
  private narrow(size: Size, signed: boolean): void {
    if (size === 8) return;
    const e = this.e;
    if (signed) {
      e.aluImm('lsh', 0, 64 - size * 8);
      e.aluImm('arsh', 0, 64 - size * 8);
    } else if (size === 4) e.mov32(0, 0);
    else e.aluImm('and', 0, size === 1 ? 0xff : 0xffff);
  }

  private builtin(name: string, pos: Pos, t: SType): void {
    const e = this.e;
    switch (name) {
      case 'pid': e.call(H.get_current_pid_tgid); e.aluImm('rsh', 0, 32); return;
      case 'tid': e.call(H.get_current_pid_tgid); e.mov32(0, 0); return;
      case 'uid': e.call(H.get_current_uid_gid); e.mov32(0, 0); return;
      case 'gid': e.call(H.get_current_uid_gid); e.aluImm('rsh', 0, 32); return;
      case 'nsecs': e.call(H.ktime_get_ns); return;
      case 'elapsed':
        e.call(H.ktime_get_ns);
        e.movImm(1, this.o.startNs);
        e.aluReg('sub', 0, 1);
        return;
      case 'cpu': e.call(H.get_smp_processor_id); return;
      case 'cgroup': e.call(H.get_current_cgroup_id); return;
      case 'curtask': e.call(H.get_current_task); return;
      case 'rand': e.call(H.get_prandom_u32); return;
      case 'ctx': e.mov(0, 6); return;
      case 'cpid':
        if (this.o.cpid === undefined) throw this.err('cpid is only available with -c CMD', pos);
        e.movImm(0, this.o.cpid);
        return;
      case 'username': e.call(H.get_current_uid_gid); e.mov32(0, 0); return;
      case 'retval': {
        const kf = this.u.kfunc;
        if (!kf) return e.ldx(8, 0, 6, PT_REGS_AX);
        // fexit: the return value follows the arguments in the context
        e.ldx(8, 0, 6, kf.params.length * 8);
        if (t.k === 'int' && t.size < 8) this.narrow(t.size as Size, t.signed);
        return;
      }
      case 'kstack': case 'ustack': return this.stack(name === 'ustack');
    }
    if (/^arg\d$/.test(name)) {
      const i = Number(name.slice(3));
      if (this.u.spec.type === 'rawtracepoint') e.ldx(8, 0, 6, i * 8);
      else e.ldx(8, 0, 6, PT_REGS_ARG[i]!);
      return;
    }
    throw this.err(`builtin ${name} is not supported here`, pos);
  }

  /**
   * r0 = stack id (low 32 bits), | tgid << 32 for user stacks (their addresses mean something in one
   * process only; a kernel stack is the same stack whoever ran it, as bpftrace keys it)
   */
  private stack(user: boolean): void {
    const e = this.e;
    e.mov(1, 6);
    e.ldMap(2, STACKS_MAP);
    e.movImm(3, user ? BPF_F_USER_STACK : 0);
    e.call(H.get_stackid);
    e.mov32(0, 0);
    if (!user) return;
    e.mov(7, 0);
    e.call(H.get_current_pid_tgid);
    e.aluImm('rsh', 0, 32);
    e.aluImm('lsh', 0, 32);
    e.aluReg('or', 0, 7);
  }

  private incdec(x: Extract<Expr, { kind: 'incdec' }>): void {
    const e = this.e;
    const d = x.op === '++' ? 1 : -1;
    if (x.target.kind === 'var') {
      const off = this.varSlot(x.target);
      e.ldx(8, 0, 10, off);
      e.aluImm('add', 0, d);
      e.stx(8, 10, off, 0);
      if (!x.prefix) e.aluImm('sub', 0, d);
      return;
    }
    const key = this.mapKey(x.target);
    const val = this.alloc(8, x.pos);
    this.lookupOrZero(x.target.name, key);
    e.aluImm('add', 0, d);
    e.stx(8, 10, val, 0);
    this.update(x.target.name, key, val);
    e.ldx(8, 0, 10, val);
    if (!x.prefix) e.aluImm('sub', 0, d);
  }

  private binary(x: Extract<Expr, { kind: 'binary' }>): void {
    const e = this.e;
    const lt = this.type(x.left);
    const rt = this.type(x.right);
    if (x.op === '&&' || x.op === '||') {
      const short = e.label();
      const end = e.label();
      this.scalar(x.left);
      e.jmpImm(x.op === '&&' ? 'jeq' : 'jne', 0, 0, short);
      this.scalar(x.right);
      e.jmpImm(x.op === '&&' ? 'jeq' : 'jne', 0, 0, short);
      e.movImm(0, x.op === '&&' ? 1 : 0);
      e.ja(end);
      e.bind(short);
      e.movImm(0, x.op === '&&' ? 0 : 1);
      e.bind(end);
      return;
    }
    if (!isScalar(lt) || !isScalar(rt)) return this.strCompare(x);
    const m = this.mark();
    const tmp = this.alloc(8, x.pos);
    this.scalar(x.left);
    e.stx(8, 10, tmp, 0);
    this.scalar(x.right);
    e.mov(1, 0);
    e.ldx(8, 0, 10, tmp);
    this.release(m);
    const signed = lt.k === 'int' && lt.signed && rt.k === 'int' && rt.signed;
    this.binop(x.op, signed);
  }

  /** r0 = r0 op r1 */
  private binop(op: string, signed: boolean): void {
    const e = this.e;
    const alu: Record<string, string> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '&': 'and', '|': 'or', '^': 'xor', '<<': 'lsh', '>>': signed ? 'arsh' : 'rsh' };
    if (alu[op]) {
      e.aluReg(alu[op]!, 0, 1);
      return;
    }
    const jmp: Record<string, string> = signed
      ? { '==': 'jeq', '!=': 'jne', '<': 'jslt', '<=': 'jsle', '>': 'jsgt', '>=': 'jsge' }
      : { '==': 'jeq', '!=': 'jne', '<': 'jlt', '<=': 'jle', '>': 'jgt', '>=': 'jge' };
    const yes = e.label();
    const end = e.label();
    e.jmpReg(jmp[op]!, 0, 1, yes);
    e.movImm(0, 0);
    e.ja(end);
    e.bind(yes);
    e.movImm(0, 1);
    e.bind(end);
  }

  /** r0 = string equality (== / !=), byte by byte up to the first NUL. */
  private strCompare(x: Extract<Expr, { kind: 'binary' }>): void {
    const e = this.e;
    const lt = this.type(x.left);
    const rt = this.type(x.right);
    const m = this.mark();
    const a = this.alloc(sizeOf(lt), x.pos);
    this.into(x.left, a, lt);
    const n = Math.min(sizeOf(lt), sizeOf(rt));
    const ne = e.label();
    const eq = e.label();
    const end = e.label();
    if (x.right.kind === 'str') {
      const bytes = [...new TextEncoder().encode(x.right.value), 0];
      for (let i = 0; i < Math.min(bytes.length, sizeOf(lt)); i++) {
        e.ldx(1, 1, 10, a + i);
        e.jmpImm('jne', 1, bytes[i]!, ne);
      }
      if (bytes.length > sizeOf(lt)) e.ja(ne);
      e.ja(eq);
    } else {
      const b = this.alloc(sizeOf(rt), x.pos);
      this.into(x.right, b, rt);
      for (let i = 0; i < n; i++) {
        e.ldx(1, 1, 10, a + i);
        e.ldx(1, 2, 10, b + i);
        e.jmpReg('jne', 1, 2, ne);
        e.jmpImm('jeq', 1, 0, eq);
      }
      e.ja(eq);
    }
    e.bind(eq);
    e.movImm(0, x.op === '==' ? 1 : 0);
    e.ja(end);
    e.bind(ne);
    e.movImm(0, x.op === '==' ? 0 : 1);
    e.bind(end);
    this.release(m);
  }

  private callScalar(x: Extract<Expr, { kind: 'call' }>): void {
    const e = this.e;
    switch (x.name) {
      case 'kaddr': {
        const name = (x.args[0] as { value: string }).value;
        const addr = this.o.kaddr?.(name);
        if (addr === undefined) throw this.err(`Failed to resolve kernel symbol: ${name}`, x.pos);
        e.movImm(0, addr);
        return;
      }
      case 'ksym': case 'usym': return this.scalar(x.args[0]!);
      case 'bswap': {
        const t = this.type(x) as Extract<SType, { k: 'int' }>;
        this.scalar(x.args[0]!);
        if (t.size === 1) return;
        e.bswap(0, (t.size * 8) as 16 | 32 | 64);
        return;
      }
      case 'kstack': case 'ustack': return this.stack(x.name === 'ustack');
      case 'strncmp': {
        const m = this.mark();
        const [a, b, n] = x.args as [Expr, Expr, Extract<Expr, { kind: 'int' }>];
        const at = this.type(a);
        const bt = this.type(b);
        const pa = this.alloc(sizeOf(at), x.pos);
        this.into(a, pa, at);
        const pb = this.alloc(sizeOf(bt), x.pos);
        this.into(b, pb, bt);
        const ne = e.label();
        const eq = e.label();
        const end = e.label();
        const count = Math.min(Number(n.value), sizeOf(at), sizeOf(bt));
        for (let i = 0; i < count; i++) {
          e.ldx(1, 1, 10, pa + i);
          e.ldx(1, 2, 10, pb + i);
          e.jmpReg('jne', 1, 2, ne);
          e.jmpImm('jeq', 1, 0, eq);
        }
        e.bind(eq);
        e.movImm(0, 0);
        e.ja(end);
        e.bind(ne);
        e.movImm(0, 1);
        e.bind(end);
        this.release(m);
        return;
      }
    }
    throw this.err(`${x.name}() does not give a number`, x.pos);
  }
}

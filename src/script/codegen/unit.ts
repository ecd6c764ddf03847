// Code generation: one eBPF program per probe unit (a probe body for one attach point), built with
// the ISA builder, each instruction carrying the source span it came from. Scalars are computed into
// r0 (temporaries spill to the stack); strings, tuples and other aggregates are written into stack
// memory at a destination offset. Events for user space (printf, exit, print, time ...) are records
// on the stack sent with bpf_ringbuf_output: a u64 format id, then the arguments. Builtins bring
// their own code (builtins/); maps and operators are in maps.ts and operators.ts.
import { Builder, FP, R0, R1, R2, R3, R4, R6, R7, UNSIGNED, imm } from '../../isa/builder.js';
import type { SourceSpan } from '../../isa/code.js';
import type { Size } from '../../isa/form.js';
import type { Instruction } from '../../isa/instruction.js';
import { MAX_BPF_STACK } from '../../isa/opcodes.js';
import type { MapReference } from '../../isa/relocation.js';
import type { Expr, MapExpr, Pos, Stmt, VarExpr } from '../ast.js';
import type { GenContext } from '../builtins/context.js';
import { CheckingBuilder, type HelperErrorOptions } from './helper-errors.js';
import { BUILTIN_FUNCTIONS, BUILTIN_VARIABLES } from '../builtins/registry.js';
import type { Checked, Unit } from '../checker/checker.js';
import { ScriptError } from '../error.js';
import { EVENTS_MAP, STACKS_MAP } from '../maps.js';
import { probeSection } from '../probes.js';
import type { ProbeRegs } from '../pt-regs.js';
import { align8, isScalar, sizeOf, typeName, type SType } from '../types.js';
import { assign as assignMap, incdec as incdecMap, mapKey, lookupOrZero, valueInto } from './maps.js';
import { binary, binop, not } from './operators.js';
import { BpfFlag } from '../../uapi/bpf.js';

export interface CompiledUnit {
  unit: Unit;
  /** the program's name (unique in the script) */
  name: string;
  /** its SEC() name: the program type and where it attaches */
  section: string;
  insns: Instruction[];
  mapRefs: MapReference[];
  spans: (SourceSpan | undefined)[];
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
  /** -k/-kk: helper calls that fail report it */
  helperErrors?: HelperErrorOptions;
}

export function generate(checked: Checked, o: CodegenOptions): CompiledUnit[] {
  const names = new Map<string, number>();
  return checked.units.map((u) => {
    // programs are named after their probe; a probe given twice (two BEGIN blocks) gets a number
    const base = u.name.replace(/[^A-Za-z0-9_]/g, '_');
    const n = (names.get(base) ?? 0) + 1;
    names.set(base, n);
    return new UnitGen(checked, u, o).run(n === 1 ? base : `${base}_${n}`);
  });
}

class UnitGen implements GenContext {
  readonly b: Builder;
  private sp = 0; // bytes of stack in use (offsets are -sp)
  private maxSp = 0;
  private readonly vars = new Map<string, number>();
  private readonly loops: { brk: string; cont: string }[] = [];
  private readonly exitLabel: string;

  constructor(readonly c: Checked, readonly u: Unit, readonly o: CodegenOptions) {
    const slot = (): { off: number; release: () => void } => {
      const m = this.mark();
      return { off: this.alloc(24, u.probe.pos), release: () => this.release(m) };
    };
    this.b = o.helperErrors ? new CheckingBuilder(o.helperErrors, slot) : new Builder();
    this.exitLabel = this.b.newLabel('exit');
  }

  get regs(): ProbeRegs {
    return this.c.regs();
  }

  err(reason: string, pos: Pos): ScriptError {
    return new ScriptError(reason, pos, this.c.source, this.c.fileName);
  }

  type(x: Expr): SType {
    const t = this.u.types.get(x);
    if (!t) throw new Error(`codegen: expression without a type at ${x.pos.line}:${x.pos.col}`);
    return t;
  }

  alloc(size: number, pos: Pos): number {
    this.sp += align8(Math.max(size, 8));
    if (this.sp > MAX_BPF_STACK) throw this.err(`the program needs more than ${MAX_BPF_STACK} bytes of BPF stack here (use shorter strings or fewer arguments)`, pos);
    this.maxSp = Math.max(this.maxSp, this.sp);
    return -this.sp;
  }
  mark(): number {
    return this.sp;
  }
  /** A builtin call's code attributed to the call itself (-kk warnings and verifier errors point at it). */
  private atCall(x: Expr, gen: () => void): void {
    const outer = this.b.currentSpan;
    this.b.at(x.pos);
    try {
      gen();
    } finally {
      this.b.at(outer);
    }
  }

  leave(): void {
    // a jump the verifier knows is taken, so that the statements after it stay reachable in the
    // control-flow graph (an unconditional one would leave them "unreachable insn")
    this.b.mov64(R0, imm(0)).jmp('==', R0, imm(0), this.exitLabel);
  }
  release(m: number): void {
    this.sp = m;
  }

  run(name: string): CompiledUnit {
    const b = this.b;
    const p = this.u.probe;
    b.at(p.pos).mov64(R6, R1);
    // Variables live for the whole program, zeroed so that a read before any assignment is defined.
    for (const [v, t] of this.u.vars) {
      const off = this.alloc(sizeOf(t), p.pos);
      this.vars.set(v, off);
      this.zero(off, sizeOf(t));
    }
    if (p.predicate) {
      b.at(p.predicate.pos);
      this.scalar(p.predicate);
      b.jmp('==', R0, imm(0), this.exitLabel);
    }
    this.stmts(p.body);
    b.label(this.exitLabel).at(p.pos).mov64(R0, imm(0)).exit();
    const r = b.build();
    return { unit: this.u, name, section: probeSection(this.u.spec), insns: r.insns, mapRefs: r.relocations, spans: r.spans, stackSize: this.maxSp };
  }

  private stmts(list: Stmt[]): void {
    for (const s of list) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    const b = this.b;
    b.at(s.pos);
    const m = this.mark();
    switch (s.kind) {
      case 'expr': {
        const x = s.expr;
        if (x.kind === 'call') {
          const f = BUILTIN_FUNCTIONS.get(x.name);
          if (f?.statement) f.statement(this, x);
          else this.scalar(x);
        } else if (isScalar(this.type(x)) || this.type(x).k === 'none') this.scalar(x);
        break;
      }
      case 'assign':
        if (s.target.kind === 'map') assignMap(this, s.target, s.op, s.value);
        else this.assignVar(s.target, s.op, s.value);
        break;
      case 'if': {
        const els = b.newLabel('else');
        const end = b.newLabel('fi');
        this.scalar(s.cond);
        b.jmp('==', R0, imm(0), els);
        this.release(m);
        this.stmts(s.then);
        if (s.else) b.ja(end);
        b.label(els);
        if (s.else) this.stmts(s.else);
        b.label(end);
        break;
      }
      case 'while': {
        const top = b.newLabel('while');
        const end = b.newLabel('done');
        b.label(top).at(s.cond.pos);
        this.scalar(s.cond);
        b.jmp('==', R0, imm(0), end);
        this.release(m);
        this.loops.push({ brk: end, cont: top });
        this.stmts(s.body);
        this.loops.pop();
        b.ja(top).label(end);
        break;
      }
      case 'unroll': {
        const n = Number((s.count as { value: bigint }).value);
        for (let i = 0; i < n; i++) this.stmts(s.body);
        break;
      }
      case 'break': b.ja(this.loops[this.loops.length - 1]!.brk); break;
      case 'continue': b.ja(this.loops[this.loops.length - 1]!.cont); break;
      case 'return': b.ja(this.exitLabel); break;
    }
    this.release(m);
  }

  // ---- variables ----
  private varSlot(v: VarExpr): number {
    const off = this.vars.get(v.name);
    if (off === undefined) throw new Error(`codegen: variable $${v.name} has no slot`);
    return off;
  }

  private assignVar(target: VarExpr, op: string, value: Expr): void {
    const off = this.varSlot(target);
    const t = this.u.vars.get(target.name)!;
    if (op === '=') return this.into(value, off, t);
    this.scalar(value);
    this.b.mov64(R1, R0).ldx('u64', R0, FP, off);
    binop(this, op.slice(0, -1), t.k === 'int' && t.signed);
    this.b.stx('u64', FP, R0, off);
  }

  mapKey(m: MapExpr): number {
    return mapKey(this, m);
  }

  // ---- scalars ----
  scalar(x: Expr): void {
    const b = this.b;
    const t = this.type(x);
    switch (x.kind) {
      case 'int': b.movImm(R0, x.value); return;
      case 'positional':
        b.movImm(R0, x.n === 0 ? this.o.params.length : BigInt(this.o.params[x.n - 1] || '0'));
        return;
      case 'sizeof': b.movImm(R0, x.size ?? 8); return;
      case 'var':
        if (!isScalar(t)) throw this.err(`$${x.name} is not a scalar`, x.pos);
        b.ldx('u64', R0, FP, this.varSlot(x));
        return;
      case 'map': return lookupOrZero(this, x.name, mapKey(this, x));
      case 'builtin': {
        const v = BUILTIN_VARIABLES.get(x.name);
        if (!v?.scalar) throw this.err(`builtin ${x.name} is not supported here`, x.pos);
        return v.scalar(this, x.pos, t);
      }
      case 'incdec': {
        const d = x.op === '++' ? 1 : -1;
        if (x.target.kind === 'map') return incdecMap(this, x.target, d, x.prefix, x.pos);
        const off = this.varSlot(x.target);
        b.ldx('u64', R0, FP, off).add64(R0, imm(d)).stx('u64', FP, R0, off);
        if (!x.prefix) b.sub64(R0, imm(d));
        return;
      }
      case 'unary':
        this.scalar(x.operand);
        if (x.op === '-') b.neg64(R0);
        else if (x.op === '~') b.xor64(R0, imm(-1));
        else if (x.op === '!') not(this);
        // a struct's value is its address (its members are read from there)
        else if (x.op === '*' && t.k !== 'record' && t.k !== 'struct') this.deref(t, x.pos);
        return;
      case 'binary': return binary(this, x);
      case 'ternary': {
        const els = b.newLabel('else');
        const end = b.newLabel('fi');
        this.scalar(x.cond);
        b.jmp('==', R0, imm(0), els);
        this.scalar(x.then);
        b.ja(end).label(els);
        this.scalar(x.else);
        b.label(end);
        return;
      }
      case 'cast':
        this.scalar(x.operand);
        if (t.k === 'int') this.narrow(t.size, t.signed);
        return;
      case 'field': return this.field(x, t);
      case 'index': return this.index(x, t);
      case 'call': {
        const f = BUILTIN_FUNCTIONS.get(x.name);
        if (!f?.scalar) throw this.err(`${x.name}() does not give a number`, x.pos);
        return this.atCall(x, () => f.scalar!(this, x));
      }
      case 'ident': {
        const v = this.c.constants.get(x.name);
        if (v === undefined) throw this.err(`Unknown identifier: '${x.name}'`, x.pos);
        b.movImm(R0, v);
        return;
      }
      case 'str': case 'tuple':
        throw this.err(`a ${typeName(t)} is not a number`, x.pos);
    }
  }

  private field(x: Extract<Expr, { kind: 'field' }>, t: SType): void {
    const f = this.u.argFields.get(x);
    if (f) {
      if (t.k !== 'int' && t.k !== 'ptr') throw this.err(`args->${f.name} is not a scalar`, x.pos);
      const size = t.k === 'int' ? t.size : 8;
      // a kfunc argument is a whole u64 slot (the verifier wants 8-byte context loads there)
      this.b.ldx(UNSIGNED[(f.size === 8 ? 8 : size) as Size], R0, R6, f.offset);
      if (t.k === 'int' && size < 8 && (t.signed || f.size === 8)) this.narrow(size, t.signed);
      return;
    }
    if (t.k === 'record') return this.address(x);
    if (this.type(x.object).k === 'tuple') {
      const at = this.tupleElement(x);
      this.b.ldx('u64', R0, FP, at.off);
      return this.release(at.mark);
    }
    this.address(x);
    const bits = this.u.fieldBits?.get(x);
    if (!bits || t.k !== 'int') return this.deref(t, x.pos);
    // a bitfield: its unit read, shifted down and masked (unsigned, whatever its type: bpftrace 0.17
    // reads signed bitfields so too)
    this.deref({ ...t, signed: false }, x.pos);
    if (bits.shift) this.b.rsh64(R0, imm(bits.shift));
    if (bits.width < 32) this.b.and64(R0, imm((1 << bits.width) - 1));
    else if (bits.width < 64) this.b.lsh64(R0, imm(64 - bits.width)).rsh64(R0, imm(64 - bits.width));
  }

  /** `$t.1`: the whole tuple built on the stack, and where its element is (released by the caller). */
  private tupleElement(x: Extract<Expr, { kind: 'field' }>): { off: number; mark: number } {
    const tt = this.type(x.object) as Extract<SType, { k: 'tuple' }>;
    const i = Number(x.field);
    const mark = this.mark();
    const off = this.alloc(sizeOf(tt), x.pos);
    this.into(x.object, off, tt);
    return { off: off + tt.elems.slice(0, i).reduce((n, e) => n + align8(sizeOf(e)), 0), mark };
  }

  private index(x: Extract<Expr, { kind: 'index' }>, t: SType): void {
    const b = this.b;
    const ot = this.type(x.object);
    const f = this.u.argFields.get(x.object);
    if (ot.k === 'array' && f) {
      if (x.index.kind !== 'int') throw this.err('an index into a tracepoint array must be a literal', x.index.pos);
      const es = (ot.elem as { size: Size }).size;
      if (Number(x.index.value) >= ot.len) throw this.err(`index ${x.index.value} is out of bounds (${ot.len} elements)`, x.index.pos);
      b.ldx(UNSIGNED[es], R0, R6, f.offset + Number(x.index.value) * es);
      if (t.k === 'int' && t.signed) this.narrow(es, true);
      return;
    }
    if (ot.k === 'array' && (x.object.kind === 'var' || x.object.kind === 'call' || x.object.kind === 'map')) {
      // an array the program holds (a variable, pton()): built on the stack, the element read there
      if (x.index.kind !== 'int') throw this.err('an index into an array value must be a literal', x.index.pos);
      const es = (ot.elem.k === 'int' ? ot.elem.size : 8) as Size;
      if (Number(x.index.value) >= ot.len) throw this.err(`index ${x.index.value} is out of bounds (${ot.len} elements)`, x.index.pos);
      const m = this.mark();
      const tmp = this.alloc(sizeOf(ot), x.pos);
      this.into(x.object, tmp, ot);
      b.ldx(UNSIGNED[es], R0, FP, tmp + Number(x.index.value) * es);
      if (t.k === 'int' && t.signed && es < 8) this.narrow(es, true);
      return this.release(m);
    }
    const es = t.k === 'int' ? t.size : t.k === 'record' && t.script ? t.script.size : t.k === 'struct' ? t.size : 8;
    if (ot.k === 'array') this.address(x.object);
    else this.scalar(x.object);
    const tmp = this.alloc(8, x.pos);
    b.stx('u64', FP, R0, tmp);
    this.scalar(x.index);
    b.mul64(R0, imm(es)).ldx('u64', R1, FP, tmp).add64(R0, R1);
    // a struct element: its address is its value (its members are read from there)
    if (t.k !== 'record' && t.k !== 'struct') this.deref(t, x.pos);
  }

  /** r0 = value of type t at the address in r0 (probe_read into a temporary). */
  private deref(t: SType, pos: Pos): void {
    const size = (t.k === 'int' ? t.size : 8) as Size;
    const tmp = this.alloc(8, pos);
    this.b.mov64(R3, R0).st('u64', FP, tmp, 0).mov64(R1, FP).add64(R1, imm(tmp)).mov64(R2, imm(size)).call('probe_read').ldx(UNSIGNED[size], R0, FP, tmp);
    if (t.k === 'int' && t.signed && size < 8) this.narrow(size, true);
  }

  address(x: Expr): void {
    if (x.kind === 'field' && !this.u.argFields.has(x)) {
      const off = this.u.fieldOffsets.get(x);
      if (off === undefined) throw this.err('field without an offset', x.pos);
      if (x.arrow) this.scalar(x.object);
      else this.address(x.object);
      if (off) this.b.add64(R0, imm(off));
      return;
    }
    this.scalar(x);
  }

  narrow(size: Size, signed: boolean): void {
    if (size === 8) return;
    if (signed) this.b.lsh64(R0, imm(64 - size * 8)).arsh64(R0, imm(64 - size * 8));
    else if (size === 4) this.b.mov32(R0, R0);
    else this.b.and64(R0, imm(size === 1 ? 0xff : 0xffff));
  }

  /**
   * r0 = stack id (low 32 bits), | tgid << 32 for user stacks (their addresses mean something in one
   * process only; a kernel stack is the same stack whoever ran it, as bpftrace keys it)
   */
  stack(user: boolean): void {
    const b = this.b;
    b.mov64(R1, R6).ldMap(R2, STACKS_MAP).movImm(R3, user ? BpfFlag.USER_STACK : 0).call('get_stackid').mov32(R0, R0);
    if (!user) return;
    b.mov64(R7, R0).call('get_current_pid_tgid').rsh64(R0, imm(32)).lsh64(R0, imm(32)).or64(R0, R7);
  }

  event(id: number, args: Expr[], pos: Pos): void {
    const b = this.b;
    const sizes = args.map((a) => align8(sizeOf(this.type(a))));
    const total = 8 + sizes.reduce((x, y) => x + y, 0);
    const rec = this.alloc(total, pos);
    b.movImm(R0, id).stx('u64', FP, R0, rec);
    let at = rec + 8;
    args.forEach((a, i) => {
      this.into(a, at, this.type(a));
      at += sizes[i]!;
    });
    b.ldMap(R1, EVENTS_MAP).mov64(R2, FP).add64(R2, imm(rec)).movImm(R3, total).mov64(R4, imm(0)).call('ringbuf_output');
  }

  // ---- values into memory ----
  into(x: Expr, off: number, t: SType): void {
    const xt = this.type(x);
    if (xt.k === 'struct') {
      // print() of a script struct: its bytes, read from its address
      this.address(x);
      return this.readInto(off, Math.min(xt.size, sizeOf(t)), sizeOf(t), false);
    }
    if (isScalar(xt) || xt.k === 'none') {
      this.scalar(x);
      this.b.stx('u64', FP, R0, off);
      return;
    }
    const size = align8(sizeOf(t));
    switch (x.kind) {
      case 'str': return this.literal(x.value, off, size);
      case 'positional': return this.literal(this.o.params[x.n - 1] ?? '', off, size);
      case 'builtin': {
        const v = BUILTIN_VARIABLES.get(x.name);
        if (v?.into) return v.into(this, off, t);
        break;
      }
      case 'var': return this.copy(this.varSlot(x), off, Math.min(size, align8(sizeOf(xt))), size);
      case 'map': return valueInto(this, x, off, size);
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
        const b = this.b;
        const els = b.newLabel('else');
        const end = b.newLabel('fi');
        this.scalar(x.cond);
        b.jmp('==', R0, imm(0), els);
        this.into(x.then, off, t);
        b.ja(end).label(els);
        this.into(x.else, off, t);
        b.label(end);
        return;
      }
      case 'field':
        if (this.u.argFields.has(x)) return this.argInto(x, off, size);
        if (this.type(x.object).k === 'tuple') {
          const at = this.tupleElement(x);
          this.copy(at.off, off, Math.min(align8(sizeOf(xt)), size), size);
          return this.release(at.mark);
        }
        this.address(x);
        return this.readInto(off, Math.min(sizeOf(xt), size), size, false);
      case 'call': {
        const f = BUILTIN_FUNCTIONS.get(x.name);
        if (!f?.into) throw this.err(`${x.name}() can not be used here yet`, x.pos);
        return this.atCall(x, () => f.into!(this, x, off, t));
      }
    }
    throw this.err(`this expression (${typeName(xt)}) can not be used here yet`, x.pos);
  }

  zero(off: number, size: number): void {
    for (let i = 0; i < align8(size); i += 8) this.b.st('u64', FP, off + i, 0);
  }

  private copy(from: number, to: number, n: number, size: number): void {
    this.zero(to, size);
    for (let i = 0; i < n; i += 8) this.b.ldx('u64', R1, FP, from + i).stx('u64', FP, R1, to + i);
  }

  literal(s: string, off: number, size: number): void {
    const bytes = new TextEncoder().encode(s);
    for (let i = 0; i < size; i += 4) {
      let w = 0;
      for (let j = 3; j >= 0; j--) w = (w << 8) | (i + j < bytes.length && i + j < size - 1 ? bytes[i + j]! : 0);
      this.b.st('u32', FP, off + i, w);
    }
  }

  readInto(off: number, n: number, size: number, str: boolean): void {
    this.b.mov64(R3, R0);
    this.zero(off, size);
    this.b.mov64(R1, FP).add64(R1, imm(off)).mov64(R2, imm(n)).call(str ? 'probe_read_str' : 'probe_read');
  }

  /** A tracepoint field that is not a scalar: a char array, a byte array, a __data_loc string. */
  private argInto(x: Expr, off: number, size: number): void {
    const f = this.u.argFields.get(x)!;
    this.zero(off, size);
    if (f.dataLoc) {
      // u32 (len << 16 | offset into the record): read it with probe_read from ctx + offset.
      this.b.ldx('u32', R3, R6, f.offset).and64(R3, imm(0xffff)).add64(R3, R6).mov64(R1, FP).add64(R1, imm(off)).mov64(R2, imm(size)).call('probe_read_str');
      return;
    }
    this.ctxCopy(f.offset, off, Math.min(f.size, size));
  }

  ctxCopy(ctxOff: number, off: number, n: number): void {
    let i = 0;
    while (i < n) {
      let s: Size = 8;
      while (s > 1 && ((ctxOff + i) % s !== 0 || i % s !== 0 || n - i < s)) s = (s / 2) as Size;
      this.b.ldx(UNSIGNED[s], R1, R6, ctxOff + i).stx(UNSIGNED[s], FP, R1, off + i);
      i += s;
    }
  }
}

// The type checker: resolves every probe's attach points, builtins (per probe type: builtins/),
// `args->field` (from the tracepoint's format or the kfunc's BTF), casts and field access (through
// BTF), variables and maps (one key and value type each across the script), and function calls. Its
// result drives codegen.
import type { AttachPoint, CallExpr, Expr, MapExpr, Pos, Probe, Program, Stmt } from '../ast.js';
import type { Btf } from '../../btf/btf.js';
import { BtfKind } from '../../btf/types.js';
import { parseTracepointFormat, type TracepointField, type TracepointFormat } from '../../tracefs/format.js';
import { AGGREGATIONS } from '../builtins/aggregations.js';
import type { CheckContext } from '../builtins/context.js';
import { BUILTIN_FUNCTIONS, BUILTIN_VARIABLES } from '../builtins/registry.js';
import { ScriptError } from '../error.js';
import type { ParsedFormat } from '../format.js';
import { probeName, probeSpec, ProbeSpecError, type ProbeSpec } from '../probes.js';
import { probeRegs, ProbeRegsError, type ProbeRegs } from '../pt-regs.js';
import { INT64, NONE, STRLEN, UINT64, sameShape, typeName, type AggKind, type MapInfo, type SType } from '../types.js';
import { btfToSType, findMember, intType, kernelMemberType, typeOfName } from './btf-types.js';
import { Constants } from './constants.js';
import { kfuncProto, uprobeProto } from './func-args.js';
import type { UsdtArgument, UsdtNote } from '../usdt.js';
import { ScriptTypes } from './script-types.js';
import { isScaled, pointeeSize, scaled, sizeofType, sizeofValue } from './sizeof.js';

/** What the checker needs from the machine (compile-for.ts asks the ScriptMachine; tests fake it) and the command line. */
export interface CheckEnv {
  /** text of events/CATEGORY/EVENT/format, or undefined if there is no such tracepoint */
  tracepointFormat(category: string, event: string): string | undefined;
  /** kernel BTF (vmlinux), loaded only when a script needs it */
  btf(): Btf | undefined;
  /** the architecture of the machine (probe arguments); unknown: a script may not use them */
  arch: string | undefined;
  /** positional parameters $1.. */
  params: string[];
  /** allow system() */
  unsafe: boolean;
  /** usdt probes: the SDT notes of an executable or library */
  usdtProbes?(path: string): UsdtNote[];
  /** uaddr(): the address of a symbol of an executable or library */
  userSymbol?(path: string, name: string): bigint | undefined;
  /** uprobe args: an executable's or library's functions and types (from its DWARF), undefined without debug information */
  userBtf?(path: string): Btf | undefined;
}

/** A user-space action requested by the program through an event record. */
export interface FormatEntry {
  kind: 'printf' | 'system' | 'time' | 'cat' | 'print' | 'join' | 'exit' | 'clear' | 'zero' | 'strftime' | 'helper_error';
  fmt: string;
  parsed?: ParsedFormat;
  args: SType[];
  /** for print/clear/zero: the map */
  map?: string;
  /** print(@map, top, div) */
  top?: number;
  div?: number;
}

/** One program: a probe's body for one concrete attach point. */
export interface Unit {
  probe: Probe;
  ap: AttachPoint;
  spec: ProbeSpec;
  name: string;
  types: Map<Expr, SType>;
  vars: Map<string, SType>;
  /** tracepoint fields used through `args->` */
  argFields: Map<Expr, TracepointField>;
  /** BTF member offsets of field expressions (bytes) */
  fieldOffsets: Map<Expr, number>;
  /** bitfields of script structs: where the field's bits are in the unit read at its offset */
  fieldBits?: Map<Expr, { shift: number; width: number }>;
  format?: TracepointFormat;
  /** kfunc/kretfunc: the function's parameters and return type (BTF ids), from the kernel's BTF */
  kfunc?: { params: { name: string; type: number }[]; returnType: number };
  /** uprobe: the function's parameters (BTF ids in `btf`, converted from the binary's DWARF), read from the argument registers */
  uprobeArgs?: { params: { name: string; type: number }[]; btf: Btf };
  /** usdt: where the probe's arguments are (from its note) */
  usdt?: { note: UsdtNote; args: UsdtArgument[] };
}

export interface Checked {
  program: Program;
  units: Unit[];
  maps: Map<string, MapInfo>;
  formats: FormatEntry[];
  /** format index of each call (per unit: the key is the call expression within that unit) */
  formatIds: Map<Unit, Map<Expr, number>>;
  /** values of named constants used (macros, enum values) */
  constants: Map<string, bigint>;
  /** where probe arguments are on the target (asked of BTF on first use) */
  regs: () => ProbeRegs;
  source: string;
  fileName: string;
}

export function check(program: Program, env: CheckEnv, source: string, fileName = 'stdin'): Checked {
  // Maps are global and may be read in a probe written before the one that assigns them: a first,
  // lenient pass learns every map's key and value types from its assignments.
  const first = new Checker(program, env, source, fileName, true);
  try {
    first.run();
  } catch {
    /* the strict pass reports it */
  }
  return new Checker(program, env, source, fileName, false, first.learnedMaps()).run();
}

class Checker implements CheckContext {
  readonly maps = new Map<string, MapInfo>();
  private readonly formats: FormatEntry[] = [];
  private readonly formatIds = new Map<Unit, Map<Expr, number>>();
  unit!: Unit;
  private loopDepth = 0;
  private readonly constants = new Map<string, bigint>();
  private readonly named: Constants;
  /** each unit's variables as first assigned, before widening (sizeof) */
  private readonly declared = new Map<string, SType>();
  /** struct, union and enum definitions of the script */
  readonly scriptTypes = new ScriptTypes((base) => kernelMemberType(base, this.env.btf()));
  private probeRegs: ProbeRegs | undefined;

  constructor(
    readonly program: Program, readonly env: CheckEnv, readonly source: string, readonly fileName: string,
    /** first pass: skip statements that fail, to learn maps from all assignments */
    private readonly lenient = false,
    known?: Map<string, MapInfo>,
  ) {
    if (known) for (const [k, v] of known) this.maps.set(k, { ...v, keys: [...v.keys], value: { ...v.value } });
    for (const d of program.structs) {
      try {
        this.scriptTypes.define(d.text);
      } catch (e) {
        throw this.err((e as Error).message, d.pos);
      }
    }
    this.named = new Constants(() => env.btf(), this.scriptTypes.enums);
  }

  /** Run a check; in the lenient pass, a failure only skips it. */
  private soft(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (!this.lenient) throw e;
    }
  }

  learnedMaps(): Map<string, MapInfo> {
    return this.maps;
  }

  err(reason: string, pos: Pos): ScriptError {
    return new ScriptError(reason, pos, this.source, this.fileName);
  }

  private allRegs(): ProbeRegs {
    return (this.probeRegs ??= probeRegs(this.env.arch, this.env.btf()));
  }

  regs(pos: Pos): ProbeRegs {
    try {
      return this.allRegs();
    } catch (e) {
      if (e instanceof ProbeRegsError) throw this.err(e.message, pos);
      throw e;
    }
  }

  run(): Checked {
    const units: Unit[] = [];
    for (const probe of this.program.probes) {
      for (const ap of probe.attachPoints) {
        let spec: ProbeSpec;
        try {
          spec = probeSpec(ap);
        } catch (e) {
          if (e instanceof ProbeSpecError) throw this.err(e.message, ap.pos);
          throw e;
        }
        const unit: Unit = {
          probe, ap, spec, name: probeName(spec), types: new Map(), vars: new Map(), argFields: new Map(), fieldOffsets: new Map(),
        };
        if (spec.type === 'tracepoint') {
          const text = this.env.tracepointFormat(spec.category, spec.event);
          if (text === undefined) throw this.err(`tracepoint not found: ${spec.category}:${spec.event}`, ap.pos);
          unit.format = parseTracepointFormat(text);
        } else if (spec.type === 'kfunc' || spec.type === 'kretfunc') {
          unit.kfunc = kfuncProto(this.btf(ap.pos), spec.func, ap.pos, (r, p) => this.err(r, p));
        }
        this.unit = unit;
        this.formatIds.set(unit, new Map());
        if (probe.predicate) {
          const pred = probe.predicate;
          this.soft(() => {
            const t = this.expr(pred);
            if (t.k !== 'int' && t.k !== 'ptr') throw this.err(`Invalid type for predicate: ${typeName(t)}`, pred.pos);
          });
        }
        this.stmts(probe.body);
        units.push(unit);
      }
    }
    return {
      program: this.program, units, maps: this.maps, formats: this.formats, formatIds: this.formatIds, constants: this.constants,
      regs: () => this.allRegs(), source: this.source, fileName: this.fileName,
    };
  }

  private stmts(list: Stmt[]): void {
    for (const s of list) this.soft(() => this.stmt(s));
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'expr': {
        const e = s.expr;
        if (e.kind === 'call' && AGGREGATIONS.has(e.name)) throw this.err(`${e.name}() should be assigned to a map`, e.pos);
        this.expr(e, true);
        return;
      }
      case 'assign': return this.assign(s.target, s.op, s.value, s.opPos, s);
      case 'if':
        this.soft(() => this.condition(s.cond));
        this.stmts(s.then);
        if (s.else) this.stmts(s.else);
        return;
      case 'while':
        this.soft(() => this.condition(s.cond));
        this.loopDepth++;
        this.stmts(s.body);
        this.loopDepth--;
        return;
      case 'unroll': {
        if (s.count.kind !== 'int') throw this.err('unroll count must be an integer literal', s.count.pos);
        // bpftrace's words, under `unroll (N)`
        const head = { ...s.pos, end: s.count.pos.end + 1 };
        if (s.count.value > 100n) throw this.err('unroll maximum value is 100', head);
        if (s.count.value < 1n) throw this.err('unroll minimum value is 1', head);
        this.stmts(s.body);
        return;
      }
      case 'break': case 'continue':
        if (this.loopDepth === 0) throw this.err(`${s.kind} used outside of a loop`, s.pos);
        return;
      case 'return':
        return;
    }
  }

  private condition(e: Expr): void {
    const t = this.expr(e);
    if (t.k !== 'int' && t.k !== 'ptr') throw this.err(`Invalid condition: ${typeName(t)}`, e.pos);
  }

  private assign(target: MapExpr | Extract<Expr, { kind: 'var' }>, op: string, value: Expr, pos: Pos, stmt?: Extract<Stmt, { kind: 'assign' }>): void {
    if (target.kind === 'map' && value.kind === 'call' && AGGREGATIONS.has(value.name)) {
      if (op !== '=') throw this.err(`${value.name}() must be assigned with '='`, pos);
      return this.aggregation(target, value);
    }
    let vt = this.expr(value);
    if (vt.k === 'none') throw this.err('Invalid expression for assignment: it has no value', value.pos);
    if (op !== '=' && vt.k !== 'int') throw this.err(`The ${op} operator needs an integer`, value.pos);
    // `@p += 1` on a pointer: steps by its elements, and stays a pointer
    const cur = target.kind === 'var' ? this.unit.vars.get(target.name) : this.maps.get(target.name)?.value;
    const curType = cur && 'k' in cur ? cur : cur && cur.kind === 'value' ? cur.type : undefined;
    if ((op === '+=' || op === '-=') && curType?.k === 'ptr' && vt.k === 'int') {
      const n = pointeeSize(curType, (p) => this.btf(p), pos);
      if (n > 1 && !isScaled(value) && stmt) this.expr((stmt.value = scaled(value, n)));
      vt = curType;
    }
    if (target.kind === 'var') {
      const prev = this.unit.vars.get(target.name);
      if (prev && !sameShape(prev, vt)) {
        throw this.err(`Type mismatch for $${target.name}: trying to assign value of type '${typeName(vt)}' when variable already contains a value of type '${typeName(prev)}'`, pos);
      }
      if (!prev && op !== '=') throw this.err(`Undefined or undeclared variable: $${target.name}`, target.pos);
      // sizeof($x) is the size of what was assigned first (the variable itself is widened)
      const dk = `${this.unit.name}:${target.name}`;
      if (!this.declared.has(dk)) this.declared.set(dk, vt);
      const t = prev && prev.k === 'str' && vt.k === 'str' ? { k: 'str' as const, size: Math.max(prev.size, vt.size) } : prev ?? widen(vt);
      this.unit.vars.set(target.name, t);
      this.unit.types.set(target, t);
      return;
    }
    const keys = this.mapKeys(target);
    const info = this.mapInfo(target, keys, { kind: 'value', type: widen(vt) });
    if (info.value.kind !== 'value') throw this.err(`Type mismatch for @${target.name}: trying to assign a value to a map holding ${info.value.agg}()`, pos);
    if (!sameShape(info.value.type, vt)) {
      throw this.err(`Type mismatch for @${target.name}: trying to assign value of type '${typeName(vt)}' when map already contains a value of type '${typeName(info.value.type)}'`, pos);
    }
    if (info.value.type.k === 'str' && vt.k === 'str' && vt.size > info.value.type.size) info.value.type = vt;
    this.unit.types.set(target, info.value.type);
  }

  private aggregation(target: MapExpr, call: CallExpr): void {
    const agg = AGGREGATIONS.get(call.name)!;
    const n = agg.args;
    if (call.args.length !== n) throw this.err(`${agg.name}() requires ${n} argument${n === 1 ? '' : 's'} (${call.args.length} provided)`, call.pos);
    let signed = true;
    if (call.args.length) {
      const t = this.expr(call.args[0]!);
      if (t.k !== 'int') throw this.err(`${agg.name}() expects an integer (${typeName(t)} provided)`, call.args[0]!.pos);
      signed = t.signed;
    }
    const lhist = agg.params?.(this, call);
    const keys = this.mapKeys(target);
    const info = this.mapInfo(target, keys, { kind: 'agg', agg: agg.name, lhist, signed });
    if (info.value.kind !== 'agg' || info.value.agg !== agg.name) {
      throw this.err(`Type mismatch for @${target.name}: trying to assign value of type '${agg.name}' when map already contains a value of type '${info.value.kind === 'agg' ? info.value.agg : typeName(info.value.type)}'`, call.pos);
    }
    if (lhist && info.value.lhist && (lhist.min !== info.value.lhist.min || lhist.max !== info.value.lhist.max || lhist.step !== info.value.lhist.step)) {
      throw this.err(`lhist() of @${target.name} used with different parameters`, call.pos);
    }
    this.unit.types.set(call, NONE);
  }

  mapKeys(m: MapExpr): SType[] {
    return m.keys.map((k) => {
      const t = this.expr(k);
      if (t.k === 'none') throw this.err('Invalid map key: it has no value', k.pos);
      return widen(t);
    });
  }

  mapInfo(m: MapExpr, keys: SType[], value: MapInfo['value']): MapInfo {
    let info = this.maps.get(m.name);
    if (!info) {
      info = { name: m.name, keys, value, index: this.maps.size };
      this.maps.set(m.name, info);
      return info;
    }
    if (info.keys.length !== keys.length || info.keys.some((k, i) => !sameShape(k, keys[i]!))) {
      throw this.err(`Argument mismatch for @${m.name}: trying to access with arguments: [${keys.map(typeName).join(', ')}] when map expects arguments: [${info.keys.map(typeName).join(', ')}]`, m.pos);
    }
    info.keys = info.keys.map((k, i) => (k.k === 'str' && keys[i]!.k === 'str' ? { k: 'str', size: Math.max(k.size, (keys[i] as { size: number }).size) } : k));
    return info;
  }

  setType(e: Expr, t: SType): void {
    this.unit.types.set(e, t);
  }

  addFormat(e: Expr, f: FormatEntry): number {
    const id = this.formats.length;
    this.formats.push(f);
    this.formatIds.get(this.unit)!.set(e, id);
    return id;
  }

  expr(e: Expr, statement = false): SType {
    const t = this.exprType(e, statement);
    this.unit.types.set(e, t);
    return t;
  }

  private exprType(e: Expr, statement: boolean): SType {
    switch (e.kind) {
      case 'int': return INT64;
      case 'str': return { k: 'str', size: new TextEncoder().encode(e.value).length + 1 };
      case 'positional': {
        if (e.n === 0) return INT64;
        const v = this.env.params[e.n - 1] ?? '';
        return /^-?\d+$/.test(v) || v === '' ? INT64 : { k: 'str', size: new TextEncoder().encode(v).length + 1 };
      }
      case 'var': {
        const t = this.unit.vars.get(e.name);
        if (!t) throw this.err(`Undefined or undeclared variable: $${e.name}`, e.pos);
        return t;
      }
      case 'map': {
        const info = this.maps.get(e.name);
        const keys = this.mapKeys(e);
        if (!info) throw this.err(`Undefined map: @${e.name}`, e.pos);
        if (e.keys.length === 0 && info.keys.length > 0) return NONE; // a whole map, for print/clear/delete
        this.mapInfo(e, keys, info.value);
        if (info.value.kind === 'agg') {
          if (info.value.agg === 'hist' || info.value.agg === 'lhist' || info.value.agg === 'stats') return NONE;
          return info.value.agg === 'count' ? UINT64 : INT64;
        }
        return info.value.type;
      }
      case 'builtin': {
        const v = BUILTIN_VARIABLES.get(e.name);
        if (!v) throw this.err(`Unknown builtin: ${e.name}`, e.pos);
        return v.check(this, e.pos);
      }
      case 'ident': {
        const v = this.named.get(e.name);
        if (v === undefined) throw this.err(`Unknown identifier: '${e.name}'`, e.pos);
        this.constants.set(e.name, v);
        return INT64;
      }
      case 'sizeof': {
        const btf = (p: Pos): Btf => this.btf(p);
        const declared = e.operand?.kind === 'var' ? this.declared.get(`${this.unit.name}:${e.operand.name}`) : undefined;
        const ot = e.operand ? this.expr(e.operand) : undefined;
        e.size = e.type ? sizeofType(e.type, this.scriptTypes, btf, (r, p) => this.err(r, p), () => this.ownBtf()) : sizeofValue(declared ?? ot!, btf, e.pos);
        return INT64;
      }
      case 'tuple': return { k: 'tuple', elems: e.elems.map((x) => widen(this.expr(x))) };
      case 'incdec': {
        if (e.target.kind === 'var') {
          const t = this.unit.vars.get(e.target.name);
          if (!t) throw this.err(`Undefined or undeclared variable: $${e.target.name}`, e.target.pos);
          if (t.k !== 'int') throw this.err(`${e.op} needs an integer variable`, e.pos);
          this.unit.types.set(e.target, t);
          return t;
        }
        const keys = this.mapKeys(e.target);
        const info = this.mapInfo(e.target, keys, { kind: 'value', type: INT64 });
        if (info.value.kind !== 'value' || info.value.type.k !== 'int') throw this.err(`${e.op} needs a map of integers`, e.pos);
        this.unit.types.set(e.target, info.value.type);
        return info.value.type;
      }
      case 'unary': {
        const t = this.expr(e.operand);
        if (e.op === '*') {
          if (t.k !== 'ptr') throw this.err(`Can not dereference type '${typeName(t)}'`, e.pos);
          if (t.to || t.script) return t.to ?? { ...this.scriptTypes.recordValue(t.script!), ...(t.user ? { user: true } : {}) };
          return this.fromBtf(t.btfId!, e.pos, t.btf);
        }
        if (e.op === '&') throw this.err("The '&' operator is not supported", e.pos);
        if (t.k !== 'int' && !(e.op === '!' && t.k === 'ptr')) throw this.err(`The ${e.op} operator can not be used on expressions of type '${typeName(t)}'`, e.pos);
        return e.op === '!' ? UINT64 : t.k === 'int' ? { k: 'int', size: 8, signed: t.signed } : INT64;
      }
      case 'binary': return this.binary(e);
      case 'ternary': {
        this.condition(e.cond);
        const a = this.expr(e.then);
        const b = this.expr(e.else);
        if (!sameShape(a, b)) throw this.err(`Ternary operator must return the same type: have '${typeName(a)}' and '${typeName(b)}'`, e.pos);
        if (a.k === 'str' && b.k === 'str') return { k: 'str', size: Math.max(a.size, b.size) };
        if (a.k === 'int' && b.k === 'int') return { k: 'int', size: 8, signed: a.signed && b.signed };
        return a;
      }
      case 'cast': {
        const t = this.expr(e.operand);
        // a pointer to a struct the script defines: its members are the script's (script-types.ts)
        const own = e.type.pointers > 0 && this.scriptTypes.records.has(e.type.base) ? e.type.base : undefined;
        const target: SType = own ? { k: 'ptr', script: own } : typeOfName(e.type, (p) => this.btf(p), (r, p) => this.err(r, p), () => this.ownBtf());
        if (target.k === 'int' && t.k !== 'int' && t.k !== 'ptr') throw this.err(`Cannot cast from '${typeName(t)}' to '${typeName(target)}'`, e.pos);
        if (target.k === 'ptr' && t.k !== 'int' && t.k !== 'ptr') throw this.err(`Cannot cast from '${typeName(t)}' to a pointer`, e.pos);
        if (target.k === 'ptr' && t.k === 'ptr' && t.user) target.user = true;
        return target;
      }
      case 'field': return this.field(e);
      case 'index': {
        const t = this.expr(e.object);
        const it = this.expr(e.index);
        if (it.k !== 'int') throw this.err('The index must be an integer', e.index.pos);
        if (t.k === 'array') return t.elem;
        if (t.k === 'ptr') return t.to ?? this.fromBtf(t.btfId!, e.pos, t.btf);
        throw this.err(`The [] operator can not be used on expressions of type '${typeName(t)}'`, e.pos);
      }
      case 'call': {
        const f = BUILTIN_FUNCTIONS.get(e.name);
        if (f?.unsafe && !this.env.unsafe) throw this.err(`${e.name}() is an unsafe function: use --unsafe to allow it`, e.pos);
        if (f) return f.check(this, e, statement);
        if (AGGREGATIONS.has(e.name)) throw this.err(`${e.name}() should be assigned to a map`, e.pos);
        throw this.err(`Unknown function: ${e.name}`, { ...e.pos, end: e.pos.start + e.name.length });
      }
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): SType {
    const a = this.expr(e.left);
    const b = this.expr(e.right);
    const cmp = ['==', '!=', '<', '<=', '>', '>='].includes(e.op);
    if (a.k === 'str' || b.k === 'str') {
      if (a.k === 'str' && b.k === 'str' && (e.op === '==' || e.op === '!=')) return UINT64;
      if ((a.k === 'str' && b.k === 'array') || (a.k === 'array' && b.k === 'str')) {
        if (e.op === '==' || e.op === '!=') return UINT64;
      }
      throw this.err(`Type mismatch for '${e.op}': comparing '${typeName(a)}' with '${typeName(b)}'`, e.pos);
    }
    if (a.k === 'buf' && b.k === 'buf' && (e.op === '==' || e.op === '!=')) return UINT64;
    const num = (t: SType): boolean => t.k === 'int' || t.k === 'ptr' || t.k === 'ksym' || t.k === 'usym';
    if (!num(a) || !num(b)) throw this.err(`Type mismatch for '${e.op}': comparing '${typeName(a)}' with '${typeName(b)}'`, e.pos);
    if (cmp || e.op === '&&' || e.op === '||') return UINT64;
    if (a.k === 'ptr' && (e.op === '+' || e.op === '-') && b.k === 'int') {
      // C pointer arithmetic: the integer counts elements
      const n = pointeeSize(a, (p) => this.btf(p), e.pos);
      if (n > 1 && !isScaled(e.right)) this.expr((e.right = scaled(e.right, n)));
      return a;
    }
    const signed = (a.k === 'int' ? a.signed : false) && (b.k === 'int' ? b.signed : false);
    return { k: 'int', size: 8, signed };
  }

  private field(e: Extract<Expr, { kind: 'field' }>): SType {
    if (e.object.kind === 'builtin' && e.object.name === 'args') {
      this.expr(e.object);
      const spec = this.unit.spec;
      if (spec.type === 'uprobe' && !this.unit.uprobeArgs) {
        const err = (r: string, p: Pos): Error => this.err(r, p);
        this.unit.uprobeArgs = uprobeProto(this.env.userBtf, spec.path, spec.func, this.unit.ap.pos, err);
      }
      const kf = this.unit.kfunc ?? this.unit.uprobeArgs;
      if (kf) {
        const i = kf.params.findIndex((p) => p.name === e.field);
        if (i < 0) throw this.err(`Can't find function parameter ${e.field}`, e.pos);
        const own = this.unit.uprobeArgs?.btf;
        const t = this.fromBtf(kf.params[i]!.type, e.pos, own);
        if (t.k !== 'int' && t.k !== 'ptr') throw this.err(`args->${e.field}: only integer and pointer parameters can be read`, e.pos);
        // kfunc: each argument is a u64 slot of the context; uprobe: the i-th argument register of pt_regs
        const regs = own ? this.regs(e.pos).args : undefined;
        if (regs && i >= regs.length) throw this.err(`args->${e.field}: argument ${i + 1} is not passed in a register`, e.pos);
        this.unit.argFields.set(e, { name: e.field, ctype: '', offset: regs ? regs[i]! : i * 8, size: 8, signed: false, dataLoc: false, pointer: t.k === 'ptr' });
        return t;
      }
      const fmt = this.unit.format!;
      const f = fmt.fields.find((x) => x.name === e.field);
      if (!f) throw this.err(`Struct/union of type 'struct ${this.unit.spec.type === 'tracepoint' ? `${(this.unit.spec as { category: string }).category}_${fmt.name}` : ''}_args' does not contain a field named '${e.field}'`, e.pos);
      this.unit.argFields.set(e, f);
      return this.fieldType(f);
    }
    const t = this.expr(e.object);
    let rec: SType | undefined;
    // a script struct's member: through a pointer (`$p->a`), or of a struct inside one (`$p->a.b`)
    const script = e.arrow ? (t.k === 'ptr' ? t.script : undefined) : t.k === 'record' && t.script ? t.name : undefined;
    const m = script ? this.scriptTypes.member(script, e.field) : undefined;
    if (script && !m) throw this.err(`Struct/union of type '${script}' does not contain a field named '${e.field}'`, e.pos);
    if (m) {
      this.unit.fieldOffsets.set(e, m.offset);
      if (m.bits) (this.unit.fieldBits ??= new Map()).set(e, m.bits);
      return { ...m.type, ...((t as { user?: boolean }).user && (m.type.k === 'ptr' || m.type.k === 'record') ? { user: true } : {}) } as SType;
    }
    if (e.arrow) {
      if (t.k !== 'ptr' || t.btfId === undefined) throw this.err(t.k === 'record' ? `Can not dereference struct/union of type '${t.name}'. It is not a pointer.` : `Can not access field '${e.field}' on expression of type '${typeName(t)}'`, e.pos);
      rec = this.fromBtf(t.btfId, e.pos, t.btf);
      if (rec.k !== 'record') throw this.err(`Can not access field '${e.field}' on expression of type '${typeName(rec)}'`, e.pos);
    } else {
      if (t.k === 'tuple') {
        const i = Number(e.field);
        if (!Number.isInteger(i) || i >= t.elems.length) throw this.err(`Invalid tuple index: ${e.field}. Found ${t.elems.length} elements in tuple.`, e.pos);
        return t.elems[i]!;
      }
      if (t.k === 'ptr' && t.btfId !== undefined) throw this.err(`Can not access field '${e.field}' on type '${typeName(t)}'. Try dereferencing it first, or using '->'`, e.pos);
      if (t.k !== 'record') throw this.err(`Can not access field '${e.field}' on expression of type '${typeName(t)}'`, e.pos);
      rec = t;
    }
    const found = findMember(rec.btf ?? this.btf(e.pos), rec.btfId!, e.field);
    if (!found) throw this.err(`Struct/union of type '${rec.name}' does not contain a field named '${e.field}'`, e.pos);
    if (found.bitfield) throw this.err(`Bitfield '${e.field}' is not supported`, e.pos);
    this.unit.fieldOffsets.set(e, found.offset);
    return this.fromBtf(found.type, e.pos, rec.btf);
  }

  /** The script type of a tracepoint field (its C type as the format file writes it). */
  private fieldType(f: TracepointField): SType {
    const base = f.ctype.replace(/\b(const|volatile|struct)\b/g, '').trim();
    if (f.dataLoc) return { k: 'str', size: STRLEN };
    if (f.pointer) {
      const inner = base.replace(/\*\s*$/, '').trim();
      const it = intType(inner);
      const user = this.unit.spec.type === 'tracepoint' && this.unit.spec.category === 'syscalls';
      if (!it && /\bstruct\b/.test(f.ctype)) {
        const st = this.env.btf()?.findByName(inner, BtfKind.STRUCT);
        if (st) return { k: 'ptr', btfId: st.id, user };
      }
      return { k: 'ptr', to: it ?? { k: 'int', size: 1, signed: false }, user };
    }
    if (f.arrayLen !== undefined) {
      const elemSize = f.size / f.arrayLen;
      if (/^(char|signed char|unsigned char)$/.test(base) && elemSize === 1 && base === 'char') return { k: 'str', size: f.arrayLen };
      return { k: 'array', elem: { k: 'int', size: (elemSize as 1), signed: f.signed }, len: f.arrayLen };
    }
    const size = f.size === 1 || f.size === 2 || f.size === 4 || f.size === 8 ? f.size : 8;
    return { k: 'int', size, signed: f.signed };
  }

  /** A uprobe's binary's types, where casts and sizeof look first (none without debug information). */
  private ownBtf(): Btf | undefined {
    const s = this.unit.spec;
    if (s.type !== 'uprobe' && s.type !== 'uretprobe') return undefined;
    try {
      return this.env.userBtf?.(s.path);
    } catch {
      return undefined; // unreadable DWARF: the kernel's types still serve
    }
  }

  btf(pos: Pos): Btf {
    const b = this.env.btf();
    if (!b) throw this.err('kernel BTF is not available (/sys/kernel/btf/vmlinux)', pos);
    return b;
  }

  /** The script type of a BTF type id: of the kernel's BTF, or of `own` (a binary's, from its DWARF). */
  fromBtf(id: number, pos: Pos, own?: Btf): SType {
    const btf = own ?? this.btf(pos);
    return btfToSType(btf, btf.resolve(id), pos, (r, p) => this.err(r, p), own);
  }
}

/** Integers keep their width in registers only; everywhere else (maps, variables) they are 64-bit. */
function widen(t: SType): SType {
  if (t.k === 'int') return { k: 'int', size: 8, signed: t.signed };
  return t;
}


// The type checker: resolves every probe's attach points, builtins (per probe type), `args->field`
// (from the tracepoint's format), casts and field access (through BTF), variables and maps (one key
// and value type each across the script), and function calls. Its result drives codegen.
import type { AttachPoint, CallExpr, Expr, MapExpr, Pos, Probe, Program, Stmt, TypeName } from './ast.js';
import { ScriptError } from './error.js';
import { parseFormat, FormatError, type ParsedFormat } from './format.js';
import { probeFunc, probeName, probeSpec, ProbeSpecError, type ProbeSpec } from './probes.js';
import { parseTracepointFormat, type TracepointField, type TracepointFormat } from '../tracefs/format.js';
import {
  COMM, INT64, NONE, STRLEN, UINT64, sameShape, typeName, type AggKind, type MapInfo, type SType,
} from './types.js';
import type { Btf } from '../btf/btf.js';
import { BtfKind, BTF_INT_SIGNED, type BtfType } from '../btf/types.js';

/** What the checker needs from the machine: given by the runtime, faked by pure tests. */
export interface CheckEnv {
  /** text of events/CAT/NAME/format, or undefined if there is no such tracepoint */
  tracepointFormat(category: string, event: string): string | undefined;
  /** kernel BTF (vmlinux), loaded only when a script needs it */
  btf(): Btf | undefined;
  /** positional parameters $1.. */
  params: string[];
  /** allow system() */
  unsafe: boolean;
}

/** A user-space action requested by the program through an event record. */
export interface FormatEntry {
  kind: 'printf' | 'system' | 'time' | 'cat' | 'print' | 'join' | 'exit' | 'clear' | 'zero' | 'strftime';
  fmt: string;
  parsed?: ParsedFormat;
  args: SType[];
  /** for print/clear/zero: the map */
  map?: string;
  /** for print(value): the value's type */
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
  format?: TracepointFormat;
  /** kfunc/kretfunc: the function's parameters and return type (BTF ids), from the kernel's BTF */
  kfunc?: { params: { name: string; type: number }[]; returnType: number };
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
  source: string;
  fileName: string;
}

/** C macros of the kernel headers bpftrace's tools #include (no C preprocessor here: the common ones). */
const MACROS: Record<string, number> = {
  TASK_RUNNING: 0, TASK_INTERRUPTIBLE: 1, TASK_UNINTERRUPTIBLE: 2, __TASK_STOPPED: 4, __TASK_TRACED: 8, EXIT_DEAD: 16, EXIT_ZOMBIE: 32,
  TASK_PARKED: 64, TASK_DEAD: 128, TASK_WAKEKILL: 256, TASK_WAKING: 512, TASK_NOLOAD: 1024, TASK_NEW: 2048,
  AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_INET6: 10, AF_NETLINK: 16, AF_PACKET: 17,
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_TRUNC: 0o1000, O_APPEND: 0o2000,
  SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGSTOP: 19, SIGCONT: 18, SIGUSR1: 10, SIGUSR2: 12,
  PAGE_SIZE: 4096, NSEC_PER_SEC: 1000000000, NSEC_PER_MSEC: 1000000, NSEC_PER_USEC: 1000, USEC_PER_SEC: 1000000,
};

const AGGS = new Set<string>(['count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist']);

const INT_NAMES: Record<string, [number, boolean]> = {
  char: [1, true], 'signed char': [1, true], 'unsigned char': [1, false], bool: [1, false], _Bool: [1, false],
  short: [2, true], 'unsigned short': [2, false], int: [4, true], 'unsigned int': [4, false], unsigned: [4, false], signed: [4, true],
  long: [8, true], 'unsigned long': [8, false], 'long long': [8, true], 'unsigned long long': [8, false],
  'long int': [8, true], 'unsigned long int': [8, false], 'short int': [2, true], 'unsigned short int': [2, false],
  int8: [1, true], int16: [2, true], int32: [4, true], int64: [8, true], uint8: [1, false], uint16: [2, false], uint32: [4, false], uint64: [8, false],
  s8: [1, true], s16: [2, true], s32: [4, true], s64: [8, true], u8: [1, false], u16: [2, false], u32: [4, false], u64: [8, false],
  __s8: [1, true], __s16: [2, true], __s32: [4, true], __s64: [8, true], __u8: [1, false], __u16: [2, false], __u32: [4, false], __u64: [8, false],
  int8_t: [1, true], int16_t: [2, true], int32_t: [4, true], int64_t: [8, true], uint8_t: [1, false], uint16_t: [2, false], uint32_t: [4, false], uint64_t: [8, false],
  size_t: [8, false], ssize_t: [8, true], pid_t: [4, true], uid_t: [4, false], gid_t: [4, false], loff_t: [8, true], umode_t: [2, false], dev_t: [4, false],
  sector_t: [8, false], gfp_t: [4, false], __be16: [2, false], __be32: [4, false], __le16: [2, false], __le32: [4, false],
};

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

class Checker {
  private readonly maps = new Map<string, MapInfo>();
  private readonly formats: FormatEntry[] = [];
  private readonly formatIds = new Map<Unit, Map<Expr, number>>();
  private unit!: Unit;
  private loopDepth = 0;
  private readonly constants = new Map<string, bigint>();
  private enumValues: Map<string, bigint> | undefined;

  /** A named constant: a well-known C macro, or an enum value from kernel BTF. */
  private constant(name: string): bigint | undefined {
    const m = MACROS[name];
    if (m !== undefined) return BigInt(m);
    const btf = this.env.btf();
    if (!btf) return undefined;
    if (!this.enumValues) {
      this.enumValues = new Map();
      for (const t of btf.types) {
        if (t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64) for (const v of t.values) if (!this.enumValues.has(v.name)) this.enumValues.set(v.name, BigInt(v.value));
      }
    }
    return this.enumValues.get(name);
  }

  constructor(
    readonly program: Program, readonly env: CheckEnv, readonly source: string, readonly fileName: string,
    /** first pass: skip statements that fail, to learn maps from all assignments */
    private readonly lenient = false,
    known?: Map<string, MapInfo>,
  ) {
    if (known) for (const [k, v] of known) this.maps.set(k, { ...v, keys: [...v.keys], value: { ...v.value } });
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

  private err(reason: string, pos: Pos): ScriptError {
    return new ScriptError(reason, pos, this.source, this.fileName);
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
          unit.kfunc = this.kfuncProto(spec.func, ap.pos);
        }
        this.unit = unit;
        this.formatIds.set(unit, new Map());
        if (probe.predicate) {
          try {
            const t = this.expr(probe.predicate);
            if (t.k !== 'int' && t.k !== 'ptr') throw this.err(`Invalid type for predicate: ${typeName(t)}`, probe.predicate.pos);
          } catch (e) {
            if (!this.lenient) throw e;
          }
        }
        this.stmts(probe.body);
        units.push(unit);
      }
    }
    return { program: this.program, units, maps: this.maps, formats: this.formats, formatIds: this.formatIds, constants: this.constants, source: this.source, fileName: this.fileName };
  }

  private stmts(list: Stmt[]): void {
    for (const s of list) {
      if (!this.lenient) this.stmt(s);
      else {
        try {
          this.stmt(s);
        } catch {
          /* learned what could be learned */
        }
      }
    }
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'expr': {
        const e = s.expr;
        if (e.kind === 'call' && AGGS.has(e.name)) throw this.err(`${e.name}() should be assigned to a map`, e.pos);
        this.expr(e, true);
        return;
      }
      case 'assign': return this.assign(s.target, s.op, s.value, s.opPos);
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
        if (s.count.value < 1n || s.count.value > 100n) throw this.err('unroll count must be between 1 and 100', s.count.pos);
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

  private assign(target: MapExpr | Extract<Expr, { kind: 'var' }>, op: string, value: Expr, pos: Pos): void {
    if (target.kind === 'map' && value.kind === 'call' && AGGS.has(value.name)) {
      if (op !== '=') throw this.err(`${value.name}() must be assigned with '='`, pos);
      return this.aggregation(target, value);
    }
    const vt = this.expr(value);
    if (vt.k === 'none') throw this.err('Invalid expression for assignment: it has no value', value.pos);
    if (op !== '=' && vt.k !== 'int') throw this.err(`The ${op} operator needs an integer`, value.pos);
    if (target.kind === 'var') {
      const prev = this.unit.vars.get(target.name);
      if (prev && !sameShape(prev, vt)) {
        throw this.err(`Type mismatch for $${target.name}: trying to assign value of type '${typeName(vt)}' when variable already contains a value of type '${typeName(prev)}'`, pos);
      }
      if (!prev && op !== '=') throw this.err(`Undefined or undeclared variable: $${target.name}`, target.pos);
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
    const agg = call.name as AggKind;
    const argc: Record<AggKind, number> = { count: 0, sum: 1, avg: 1, min: 1, max: 1, stats: 1, hist: 1, lhist: 4 };
    if (call.args.length !== argc[agg]) throw this.err(`${agg}() requires ${argc[agg]} argument${argc[agg] === 1 ? '' : 's'} (${call.args.length} provided)`, call.pos);
    let lhist: { min: number; max: number; step: number } | undefined;
    let signed = true;
    if (call.args.length) {
      const t = this.expr(call.args[0]!);
      if (t.k !== 'int') throw this.err(`${agg}() expects an integer (${typeName(t)} provided)`, call.args[0]!.pos);
      signed = t.signed;
    }
    if (agg === 'lhist') {
      const [mn, mx, st] = call.args.slice(1).map((a) => {
        if (a.kind !== 'int') throw this.err('lhist(): min, max and step must be integer literals', a.pos);
        return Number(a.value);
      }) as [number, number, number];
      if (st <= 0) throw this.err('lhist() step must be >= 1', call.args[3]!.pos);
      if (mn < 0) throw this.err('lhist() min must be non-negative', call.args[1]!.pos);
      if (mx <= mn) throw this.err('lhist() max must be greater than min', call.args[2]!.pos);
      if ((mx - mn) / st > 1000) throw this.err('lhist() too many buckets, maximum is 1000', call.pos);
      lhist = { min: mn, max: mx, step: st };
    }
    const keys = this.mapKeys(target);
    const info = this.mapInfo(target, keys, { kind: 'agg', agg, lhist, signed });
    if (info.value.kind !== 'agg' || info.value.agg !== agg) {
      throw this.err(`Type mismatch for @${target.name}: trying to assign value of type '${agg}' when map already contains a value of type '${info.value.kind === 'agg' ? info.value.agg : typeName(info.value.type)}'`, call.pos);
    }
    if (lhist && info.value.lhist && (lhist.min !== info.value.lhist.min || lhist.max !== info.value.lhist.max || lhist.step !== info.value.lhist.step)) {
      throw this.err(`lhist() of @${target.name} used with different parameters`, call.pos);
    }
    this.unit.types.set(call, NONE);
  }

  private mapKeys(m: MapExpr): SType[] {
    return m.keys.map((k) => {
      const t = this.expr(k);
      if (t.k === 'none') throw this.err('Invalid map key: it has no value', k.pos);
      return widen(t);
    });
  }

  private mapInfo(m: MapExpr, keys: SType[], value: MapInfo['value']): MapInfo {
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

  private set(e: Expr, t: SType): SType {
    this.unit.types.set(e, t);
    return t;
  }

  expr(e: Expr, statement = false): SType {
    return this.set(e, this.exprType(e, statement));
  }

  private exprType(e: Expr, statement: boolean): SType {
    const spec = this.unit.spec;
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
        if (e.keys.length === 0 && info.keys.length > 0) return { k: 'none' }; // a whole map, for print/clear/delete
        this.mapInfo(e, keys, info.value);
        if (info.value.kind === 'agg') {
          if (info.value.agg === 'hist' || info.value.agg === 'lhist' || info.value.agg === 'stats') return NONE;
          return info.value.agg === 'count' ? UINT64 : INT64;
        }
        return info.value.type;
      }
      case 'builtin': return this.builtin(e.name, e.pos, spec);
      case 'ident': {
        const v = this.constant(e.name);
        if (v === undefined) throw this.err(`Unknown identifier: '${e.name}'`, e.pos);
        this.constants.set(e.name, v);
        return INT64;
      }
      case 'sizeof': {
        if (e.type) return INT64;
        this.expr(e.operand!);
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
          if (t.to) return t.to;
          return this.fromBtf(t.btfId!, e.pos);
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
        const target = this.resolveTypeName(e.type);
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
        if (t.k === 'ptr') return t.to ?? this.fromBtf(t.btfId!, e.pos);
        throw this.err(`The [] operator can not be used on expressions of type '${typeName(t)}'`, e.pos);
      }
      case 'call': return this.call(e, statement);
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
    const num = (t: SType): boolean => t.k === 'int' || t.k === 'ptr' || t.k === 'ksym' || t.k === 'usym';
    if (!num(a) || !num(b)) throw this.err(`Type mismatch for '${e.op}': comparing '${typeName(a)}' with '${typeName(b)}'`, e.pos);
    if (cmp || e.op === '&&' || e.op === '||') return UINT64;
    if (a.k === 'ptr' && (e.op === '+' || e.op === '-') && b.k === 'int') return a;
    const signed = (a.k === 'int' ? a.signed : false) && (b.k === 'int' ? b.signed : false);
    return { k: 'int', size: 8, signed };
  }

  /** A kfunc's parameters: fentry programs see them as an array of u64 (the return value after them). */
  private kfuncProto(func: string, pos: Pos): NonNullable<Unit['kfunc']> {
    const btf = this.btfOr(pos);
    const f = btf.findByName(func, BtfKind.FUNC);
    if (!f || f.kind !== BtfKind.FUNC) throw this.err(`No BTF found for ${func}: kfunc probes need a function of the kernel's BTF`, pos);
    const proto = btf.typeById(f.type);
    if (proto.kind !== BtfKind.FUNC_PROTO) throw this.err(`${func}: BTF function without a prototype`, pos);
    if (proto.params.some((p) => p.type === 0)) throw this.err(`${func}: variadic functions cannot be traced with kfunc`, pos);
    return { params: proto.params.map((p) => ({ name: p.name, type: p.type })), returnType: proto.returnType };
  }

  private builtin(name: string, pos: Pos, spec: ProbeSpec): SType {
    const t = spec.type;
    switch (name) {
      case 'pid': case 'tid': case 'uid': case 'gid': case 'cpu': case 'rand': return { k: 'int', size: 8, signed: false };
      case 'nsecs': case 'elapsed': case 'cgroup': return UINT64;
      case 'comm': return COMM;
      case 'username': return { k: 'username' };
      case 'probe': return { k: 'str', size: this.unit.name.length + 1 };
      case 'func': {
        const f = probeFunc(spec);
        if (f === undefined) throw this.err(`The func builtin can not be used with '${t}' probes`, pos);
        return { k: 'str', size: f.length + 1 };
      }
      case 'kstack': return { k: 'stack', user: false, limit: 127, mode: 'bpftrace' };
      case 'ustack': return { k: 'stack', user: true, limit: 127, mode: 'bpftrace' };
      case 'curtask': {
        const btf = this.btfOr(pos);
        const task = btf.findByName('task_struct', BtfKind.STRUCT);
        if (!task) throw this.err('struct task_struct not found in BTF', pos);
        return { k: 'ptr', btfId: task.id };
      }
      case 'ctx': return UINT64;
      case 'retval':
        if (t === 'kretfunc') {
          const r = this.unit.kfunc!.returnType;
          if (r === 0) throw this.err(`${probeFunc(spec)} returns void: there is no retval`, pos);
          const rt = this.fromBtf(r, pos);
          if (rt.k !== 'int' && rt.k !== 'ptr') throw this.err(`${probeFunc(spec)} returns ${typeName(rt)}: only integer and pointer return values can be read`, pos);
          return rt;
        }
        if (t !== 'kretprobe' && t !== 'uretprobe') throw this.err(`The retval builtin can only be used with 'kretprobe', 'uretprobe' and 'kretfunc' probes`, pos);
        return UINT64;
      case 'args':
        if (t !== 'tracepoint' && t !== 'kfunc' && t !== 'kretfunc') throw this.err(`The args builtin can only be used with tracepoint/kfunc/uprobe probes (${t} used here)`, pos);
        return { k: 'none' };
      default:
        if (/^arg\d$/.test(name)) {
          if (t !== 'kprobe' && t !== 'uprobe' && t !== 'rawtracepoint') {
            throw this.err(`The ${name} builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes`, pos);
          }
          if (Number(name.slice(3)) > 5) throw this.err(`${name} is beyond the 6 register arguments`, pos);
          return UINT64;
        }
        if (/^sarg\d$/.test(name)) return UINT64;
        if (name === 'cpid') return UINT64;
        throw this.err(`Unknown builtin: ${name}`, pos);
    }
  }

  private field(e: Extract<Expr, { kind: 'field' }>): SType {
    if (e.object.kind === 'builtin' && e.object.name === 'args') {
      this.expr(e.object);
      const kf = this.unit.kfunc;
      if (kf) {
        const i = kf.params.findIndex((p) => p.name === e.field);
        if (i < 0) throw this.err(`Can't find function parameter ${e.field}`, e.pos);
        const t = this.fromBtf(kf.params[i]!.type, e.pos);
        if (t.k !== 'int' && t.k !== 'ptr') throw this.err(`args->${e.field}: only integer and pointer parameters can be read`, e.pos);
        // each argument is a u64 slot of the context
        this.unit.argFields.set(e, { name: e.field, ctype: '', offset: i * 8, size: 8, signed: false, dataLoc: false, pointer: t.k === 'ptr' });
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
    if (e.arrow) {
      if (t.k !== 'ptr' || t.btfId === undefined) throw this.err(`Can not access field '${e.field}' on expression of type '${typeName(t)}'`, e.pos);
      rec = this.fromBtf(t.btfId, e.pos);
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
    const btf = this.btfOr(e.pos);
    const found = findMember(btf, rec.btfId, e.field);
    if (!found) throw this.err(`Struct/union of type '${rec.name}' does not contain a field named '${e.field}'`, e.pos);
    if (found.bitfield) throw this.err(`Bitfield '${e.field}' is not supported`, e.pos);
    this.unit.fieldOffsets.set(e, found.offset);
    return this.fromBtf(found.type, e.pos);
  }

  private fieldType(f: TracepointField): SType {
    const base = f.ctype.replace(/\b(const|volatile|struct)\b/g, '').trim();
    if (f.dataLoc) return { k: 'str', size: STRLEN };
    if (f.pointer) {
      const inner = base.replace(/\*\s*$/, '').trim();
      const it = INT_NAMES[inner];
      const user = this.unit.spec.type === 'tracepoint' && this.unit.spec.category === 'syscalls';
      if (!it && /\bstruct\b/.test(f.ctype)) {
        const b = this.env.btf();
        const st = b?.findByName(inner, BtfKind.STRUCT);
        if (st) return { k: 'ptr', btfId: st.id, user };
      }
      return { k: 'ptr', to: it ? { k: 'int', size: it[0] as 1, signed: it[1] } : { k: 'int', size: 1, signed: false }, user };
    }
    if (f.arrayLen !== undefined) {
      const elemSize = f.size / f.arrayLen;
      if (/^(char|signed char|unsigned char)$/.test(base) && elemSize === 1 && base === 'char') return { k: 'str', size: f.arrayLen };
      return { k: 'array', elem: { k: 'int', size: (elemSize as 1), signed: f.signed }, len: f.arrayLen };
    }
    const size = f.size === 1 || f.size === 2 || f.size === 4 || f.size === 8 ? f.size : 8;
    return { k: 'int', size, signed: f.signed };
  }

  private btfOr(pos: Pos): Btf {
    const b = this.env.btf();
    if (!b) throw this.err('kernel BTF is not available (/sys/kernel/btf/vmlinux)', pos);
    return b;
  }

  /** The script type of a BTF type id. */
  private fromBtf(id: number, pos: Pos): SType {
    const btf = this.btfOr(pos);
    const t = btf.resolve(id);
    return btfToSType(btf, t, pos, (r, p) => this.err(r, p));
  }

  resolveTypeName(tn: TypeName): SType {
    let base = tn.base;
    let arr: number | undefined;
    const am = /^(.*)\[(\d+)\]$/.exec(base);
    if (am) {
      base = am[1]!;
      arr = Number(am[2]);
    }
    let t: SType;
    const int = INT_NAMES[base];
    if (int) t = { k: 'int', size: int[0] as 1, signed: int[1] };
    else if (base === 'void') t = { k: 'int', size: 1, signed: false };
    else if (base === 'string') t = { k: 'str', size: arr ?? STRLEN };
    else if (base === 'inet') t = { k: 'inet' };
    else {
      const btf = this.btfOr(tn.pos);
      const m = /^(struct|union|enum) (\w+)$/.exec(base);
      const kind = m ? (m[1] === 'struct' ? BtfKind.STRUCT : m[1] === 'union' ? BtfKind.UNION : BtfKind.ENUM) : undefined;
      const bt = m ? btf.findByName(m[2]!, kind) : btf.findByName(base, BtfKind.TYPEDEF);
      if (!bt) throw this.err(`Unknown type: ${base}`, tn.pos);
      if (tn.pointers > 0) {
        let s: SType = { k: 'ptr', btfId: bt.id };
        for (let i = 1; i < tn.pointers; i++) s = { k: 'ptr', to: s };
        return s;
      }
      t = btfToSType(btf, btf.resolve(bt.id), tn.pos, (r, p) => this.err(r, p));
      if (t.k === 'record') throw this.err(`Cannot cast to '${base}': only pointers to structs can be cast to`, tn.pos);
    }
    if (arr !== undefined && t.k === 'int') t = { k: 'array', elem: t, len: arr };
    for (let i = 0; i < tn.pointers; i++) t = { k: 'ptr', to: t };
    return t;
  }

  private call(e: CallExpr, statement: boolean): SType {
    const a = e.args;
    const argc = (min: number, max = min): void => {
      if (a.length < min || a.length > max) {
        throw this.err(`${e.name}() requires ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'} (${a.length} provided)`, e.pos);
      }
    };
    const fmtArg = (kind: FormatEntry['kind']): SType => {
      if (a.length === 0 || a[0]!.kind !== 'str') throw this.err(`${e.name}() expects a string literal as the first argument`, a[0]?.pos ?? e.pos);
      const fmt = (a[0] as { value: string }).value;
      let parsed: ParsedFormat;
      try {
        parsed = parseFormat(fmt);
      } catch (x) {
        if (x instanceof FormatError) throw this.err(`${e.name}: ${x.message}`, a[0]!.pos);
        throw x;
      }
      const rest = a.slice(1).map((x) => this.expr(x));
      if (parsed.convs.length !== rest.length) {
        throw this.err(`${e.name}: Expected ${parsed.convs.length} argument${parsed.convs.length === 1 ? '' : 's'} for the format string, ${rest.length} provided`, e.pos);
      }
      rest.forEach((t, i) => {
        const c = parsed.convs[i]!;
        if (t.k === 'none' || t.k === 'record') throw this.err(`${e.name}: argument ${i + 1} has no printable value`, a[i + 1]!.pos);
        if ('diouxXc'.includes(c.conv) && t.k !== 'int' && t.k !== 'ptr' && t.k !== 'ksym' && t.k !== 'usym') {
          throw this.err(`${e.name}: %${c.conv} specifier expects a value of type integer (${typeName(t)} supplied)`, a[i + 1]!.pos);
        }
      });
      this.unit.types.set(a[0]!, { k: 'str', size: fmt.length + 1 });
      this.addFormat(e, { kind, fmt, parsed, args: rest });
      return NONE;
    };
    const onlyStatement = (): void => {
      if (!statement) throw this.err(`${e.name}() should not be used in an expression`, e.pos);
    };
    switch (e.name) {
      case 'printf': onlyStatement(); return fmtArg('printf');
      case 'cat': onlyStatement(); return fmtArg('cat');
      case 'system':
        onlyStatement();
        if (!this.env.unsafe) throw this.err('system() is an unsafe function: use --unsafe to allow it', e.pos);
        return fmtArg('system');
      case 'time': {
        onlyStatement();
        argc(0, 1);
        if (a[0] && a[0].kind !== 'str') throw this.err('time() expects a string literal', a[0].pos);
        this.addFormat(e, { kind: 'time', fmt: a[0] ? (a[0] as { value: string }).value : '%H:%M:%S\n', args: [] });
        return NONE;
      }
      case 'exit':
        onlyStatement();
        argc(0);
        this.addFormat(e, { kind: 'exit', fmt: '', args: [] });
        return NONE;
      case 'print': {
        onlyStatement();
        argc(1, 3);
        const m = a[0]!;
        if (m.kind === 'map' && m.keys.length === 0) {
          if (!this.maps.has(m.name)) throw this.err(`Undefined map: @${m.name}`, m.pos);
          this.addFormat(e, { kind: 'print', fmt: '', args: [], map: m.name });
          return NONE;
        }
        const t = this.expr(m);
        if (t.k === 'none') throw this.err('print() of this expression has no value', m.pos);
        this.addFormat(e, { kind: 'print', fmt: '', args: [t] });
        return NONE;
      }
      case 'clear': case 'zero': {
        onlyStatement();
        argc(1);
        const m = a[0]!;
        if (m.kind !== 'map' || m.keys.length) throw this.err(`${e.name}() expects a map with no keys`, m.pos);
        if (!this.maps.has(m.name)) throw this.err(`Undefined map: @${m.name}`, m.pos);
        this.addFormat(e, { kind: e.name, fmt: '', args: [], map: m.name });
        return NONE;
      }
      case 'delete': {
        onlyStatement();
        argc(1);
        const m = a[0]!;
        if (m.kind !== 'map') throw this.err('delete() expects a map element', m.pos);
        const info = this.maps.get(m.name);
        if (!info) throw this.err(`Undefined map: @${m.name}`, m.pos);
        this.mapInfo(m, this.mapKeys(m), info.value);
        return NONE;
      }
      case 'join': {
        onlyStatement();
        argc(1, 2);
        const t = this.expr(a[0]!);
        if (t.k !== 'ptr' && t.k !== 'int') throw this.err('join() expects a pointer to an array of strings', a[0]!.pos);
        const sep = a[1] ? (a[1].kind === 'str' ? a[1].value : undefined) : ' ';
        if (sep === undefined) throw this.err('join() separator must be a string literal', a[1]!.pos);
        this.addFormat(e, { kind: 'join', fmt: sep, args: [] });
        return NONE;
      }
      case 'str': {
        argc(1, 2);
        const t = this.expr(a[0]!);
        if (t.k === 'str') return t;
        if (t.k !== 'ptr' && t.k !== 'int' && t.k !== 'array') throw this.err(`str() expects a pointer or an integer (${typeName(t)} provided)`, a[0]!.pos);
        let size = STRLEN;
        if (a[1]) {
          const n = a[1];
          this.expr(n);
          if (n.kind === 'int') size = Math.min(STRLEN, Number(n.value) + 1);
          else if (n.kind !== 'var' && n.kind !== 'builtin' && n.kind !== 'binary') throw this.err('str(): length must be an integer', n.pos);
        }
        return { k: 'str', size: Math.max(1, size) };
      }
      case 'buf': {
        argc(1, 2);
        const t = this.expr(a[0]!);
        let size = t.k === 'array' ? t.len * (t.elem.k === 'int' ? t.elem.size : 8) : 0;
        if (a[1]) {
          const lt = this.expr(a[1]);
          if (lt.k !== 'int') throw this.err('buf(): length must be an integer', a[1].pos);
          // a run-time length is bounded by the buffer of the default string size
          size = a[1].kind === 'int' ? Number(a[1].value) : STRLEN;
        }
        if (!size) throw this.err('buf(): the length is needed for a pointer', e.pos);
        if (size > STRLEN) size = STRLEN;
        return { k: 'buf', size };
      }
      case 'ntop': {
        argc(1, 2);
        const ts = a.map((x) => this.expr(x));
        const addr = ts[ts.length - 1]!;
        if (ts.length === 2 && ts[0]!.k !== 'int') throw this.err('ntop(): the address family must be an integer', a[0]!.pos);
        if (addr.k === 'int') return { k: 'inet' };
        if (addr.k === 'array' && addr.elem.k === 'int' && (addr.len * addr.elem.size === 4 || addr.len * addr.elem.size === 16)) return { k: 'inet' };
        throw this.err(`ntop() expects an integer or an array of 4 or 16 bytes (${typeName(addr)} provided)`, a[a.length - 1]!.pos);
      }
      case 'bswap': {
        argc(1);
        const t = this.expr(a[0]!);
        if (t.k !== 'int') throw this.err(`bswap() expects an integer (${typeName(t)} provided)`, a[0]!.pos);
        return t;
      }
      case 'kaddr': {
        argc(1);
        if (a[0]!.kind !== 'str') throw this.err('kaddr() expects a string literal', a[0]!.pos);
        this.unit.types.set(a[0]!, NONE);
        return { k: 'ptr', to: UINT64 };
      }
      case 'ksym': case 'usym': {
        argc(1);
        const t = this.expr(a[0]!);
        if (t.k !== 'int' && t.k !== 'ptr') throw this.err(`${e.name}() expects an integer`, a[0]!.pos);
        return { k: e.name };
      }
      case 'kstack': case 'ustack': {
        argc(0, 2);
        let mode: 'bpftrace' | 'perf' | 'raw' = 'bpftrace';
        let limit = 127;
        for (const x of a) {
          if (x.kind === 'ident' && (x.name === 'perf' || x.name === 'bpftrace' || x.name === 'raw')) mode = x.name;
          else if (x.kind === 'int') limit = Number(x.value);
          else throw this.err(`${e.name}(): expected a mode (bpftrace, perf, raw) or a frame limit`, x.pos);
          this.unit.types.set(x, NONE);
        }
        if (limit < 1 || limit > 127) throw this.err(`${e.name}(): the frame limit must be between 1 and 127`, e.pos);
        return { k: 'stack', user: e.name === 'ustack', limit, mode };
      }
      case 'strftime': {
        argc(2);
        if (a[0]!.kind !== 'str') throw this.err('strftime() expects a string literal format', a[0]!.pos);
        this.unit.types.set(a[0]!, NONE);
        const t = this.expr(a[1]!);
        if (t.k !== 'int') throw this.err('strftime() expects an integer timestamp', a[1]!.pos);
        const id = this.addFormat(e, { kind: 'strftime', fmt: (a[0] as { value: string }).value, args: [] });
        return { k: 'timestamp', fmt: id };
      }
      case 'strncmp': {
        argc(3);
        const x = this.expr(a[0]!);
        const y = this.expr(a[1]!);
        if (x.k !== 'str' || y.k !== 'str' || a[2]!.kind !== 'int') throw this.err('strncmp(string, string, integer literal)', e.pos);
        this.expr(a[2]!);
        return UINT64;
      }
      default:
        if (AGGS.has(e.name)) throw this.err(`${e.name}() should be assigned to a map`, e.pos);
        throw this.err(`Unknown function: ${e.name}`, { ...e.pos, end: e.pos.start + e.name.length });
    }
  }

  private addFormat(e: Expr, f: FormatEntry): number {
    const id = this.formats.length;
    this.formats.push(f);
    this.formatIds.get(this.unit)!.set(e, id);
    return id;
  }
}

/** Integers keep their width in registers only; everywhere else (maps, variables) they are 64-bit. */
function widen(t: SType): SType {
  if (t.k === 'int') return { k: 'int', size: 8, signed: t.signed };
  if (t.k === 'array' && t.elem.k === 'int' && t.elem.size === 1) return t;
  return t;
}

/** Convert a resolved BTF type to a script type. */
export function btfToSType(btf: Btf, t: BtfType, pos: Pos, err: (r: string, p: Pos) => Error): SType {
  switch (t.kind) {
    case BtfKind.INT: {
      const size = t.size === 1 || t.size === 2 || t.size === 4 || t.size === 8 ? t.size : 8;
      return { k: 'int', size, signed: (t.encoding & BTF_INT_SIGNED) !== 0 };
    }
    case BtfKind.ENUM: case BtfKind.ENUM64: {
      const size = t.size === 1 || t.size === 2 || t.size === 4 || t.size === 8 ? t.size : 8;
      return { k: 'int', size, signed: t.kind === BtfKind.ENUM ? t.signed : false };
    }
    case BtfKind.PTR: {
      const target = btf.resolve(t.type);
      if (target.kind === BtfKind.INT) return { k: 'ptr', to: btfToSType(btf, target, pos, err) };
      if (target.kind === BtfKind.UNKN) return { k: 'ptr', to: { k: 'int', size: 1, signed: false } };
      return { k: 'ptr', btfId: btf.resolveId(t.type) };
    }
    case BtfKind.STRUCT: case BtfKind.UNION:
      return { k: 'record', btfId: t.id, name: `${t.kind === BtfKind.STRUCT ? 'struct' : 'union'} ${t.name}` };
    case BtfKind.ARRAY: {
      const elem = btf.resolve(t.type);
      if (elem.kind === BtfKind.INT && elem.size === 1 && (elem.encoding & 2 || elem.name === 'char')) return { k: 'str', size: t.nelems };
      const et = btfToSType(btf, elem, pos, err);
      if (et.k !== 'int' && et.k !== 'ptr') throw err(`arrays of '${typeName(et)}' are not supported`, pos);
      return { k: 'array', elem: et.k === 'ptr' ? { k: 'int', size: 8, signed: false } : et, len: t.nelems };
    }
    default:
      throw err(`BTF type kind ${BtfKind[t.kind]} is not supported here`, pos);
  }
}

/** Find a member by name, looking through anonymous struct/union members; offset in bytes. */
export function findMember(btf: Btf, id: number, name: string): { offset: number; type: number; bitfield: boolean } | undefined {
  const t = btf.resolve(id);
  if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) return undefined;
  for (const m of t.members) {
    if (m.name === name) return { offset: m.bitOffset / 8, type: m.type, bitfield: m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0 };
    if (m.name === '') {
      const inner = findMember(btf, m.type, name);
      if (inner) return { ...inner, offset: inner.offset + m.bitOffset / 8 };
    }
  }
  return undefined;
}

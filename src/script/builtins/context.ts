// What a builtin is (its checker rule and its code) and what it may use of the checker and the code
// generator: the contract between the builtins (variables.ts, output.ts, strings.ts, values.ts) and
// the two passes that use them.
import type { Btf } from '../../btf/btf.js';
import type { Builder } from '../../isa/builder.js';
import type { CallExpr, Expr, MapExpr, Pos } from '../ast.js';
import type { Checked, CheckEnv, FormatEntry, Unit } from '../checker/checker.js';
import type { ScriptError } from '../error.js';
import type { ProbeRegs } from '../pt-regs.js';
import type { ScriptTypes } from '../checker/script-types.js';
import type { MapInfo, SType } from '../types.js';

/** What a builtin's checker rule uses of the checker. */
export interface CheckContext {
  /** the structs, unions and enums the script defines */
  readonly scriptTypes: ScriptTypes;
  readonly env: CheckEnv;
  readonly unit: Unit;
  readonly maps: ReadonlyMap<string, MapInfo>;
  /** where probe arguments are (the kernel's BTF is read only when a script uses them) */
  regs(pos: Pos): ProbeRegs;
  err(reason: string, pos: Pos): ScriptError;
  /** check an expression: its type */
  expr(e: Expr): SType;
  /** record the type of an expression the checker does not visit itself (a literal argument) */
  setType(e: Expr, t: SType): void;
  /** the map's key types, checked against its earlier uses */
  mapKeys(m: MapExpr): SType[];
  mapInfo(m: MapExpr, keys: SType[], value: MapInfo['value']): MapInfo;
  /** an event for user space (printf, exit, ...): its format index */
  addFormat(e: Expr, f: FormatEntry): number;
  btf(pos: Pos): Btf;
  fromBtf(id: number, pos: Pos): SType;
}

/** What a builtin's code uses of the code generator. r6 holds the context, r10 is the frame. */
export interface GenContext {
  readonly b: Builder;
  readonly c: Checked;
  readonly u: Unit;
  readonly o: { startNs: bigint; params: string[]; cpid?: number; kaddr?: (name: string) => bigint | undefined };
  readonly regs: ProbeRegs;
  err(reason: string, pos: Pos): ScriptError;
  type(x: Expr): SType;
  /** `size` bytes of stack (8-aligned); returns the fp-relative offset */
  alloc(size: number, pos: Pos): number;
  mark(): number;
  release(mark: number): void;
  /** r0 = the value of a scalar expression */
  scalar(x: Expr): void;
  /** the value of `x`, as type `t`, written to the stack at fp+off */
  into(x: Expr, off: number, t: SType): void;
  zero(off: number, size: number): void;
  literal(s: string, off: number, size: number): void;
  /** probe_read (or probe_read_str) n bytes at the address in r0 into a zeroed buffer of `size` at fp+off */
  readInto(off: number, n: number, size: number, str: boolean): void;
  /** copy n bytes of the context at ctxOff to fp+off */
  ctxCopy(ctxOff: number, off: number, n: number): void;
  /** r0 = r0 truncated to `size` bytes, sign- or zero-extended */
  narrow(size: 1 | 2 | 4 | 8, signed: boolean): void;
  /** r0 = address of a record or field reached through BTF */
  address(x: Expr): void;
  /** a map's key built on the stack; its offset */
  mapKey(m: MapExpr): number;
  /** send a record [u64 format id][args] to user space */
  event(id: number, args: Expr[], pos: Pos): void;
  /** r0 = a stack id of the current kernel or user stack */
  stack(user: boolean): void;
  /** end the action here (exit()): the rest of the probe's statements do not run */
  leave(): void;
}

export interface BuiltinVariable {
  name: string;
  /** what it is, for listings and messages */
  doc: string;
  /** the type of a use in this unit (throws where its probe type has no such thing) */
  check(c: CheckContext, pos: Pos): SType;
  /** r0 = its value (scalar types) */
  scalar?(g: GenContext, pos: Pos, t: SType): void;
  /** its value written at fp+off as type t (strings) */
  into?(g: GenContext, off: number, t: SType): void;
}

export interface BuiltinFunction {
  name: string;
  /** how it is written: `str(ptr[, len])` */
  signature: string;
  /** it acts on the system (signals a task, runs a command, overrides a return): only with --unsafe */
  unsafe?: boolean;
  /** its type (NONE for statements); `statement` says whether it stands as a statement */
  check(c: CheckContext, e: CallExpr, statement: boolean): SType;
  /** its code as a statement; default: its value, dropped */
  statement?(g: GenContext, e: CallExpr): void;
  /** r0 = its value (scalar types) */
  scalar?(g: GenContext, e: CallExpr): void;
  /** its value written at fp+off as type t (strings, buffers, addresses) */
  into?(g: GenContext, e: CallExpr, off: number, t: SType): void;
}

/** `name(` with the argument count required, as bpftrace says it. */
export function checkArgCount(c: CheckContext, e: CallExpr, min: number, max = min): void {
  const n = e.args.length;
  if (n < min || n > max) {
    throw c.err(`${e.name}() requires ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'} (${n} provided)`, e.pos);
  }
}

/** A function that only stands as a statement (printf, exit, ...). */
export function onlyStatement(c: CheckContext, e: CallExpr, statement: boolean): void {
  if (!statement) throw c.err(`${e.name}() should not be used in an expression`, e.pos);
}

// The syntax tree of a tsbpf script (bpftrace's language). Every node carries the source span it came
// from, so that type errors, and verifier rejections mapped back through codegen, point at the text.

import type { SourceSpan } from '../isa/code.js';

/** A source span: 1-based line and column of its start, byte offsets [start, end) (the builder's spans). */
export type Pos = SourceSpan;

export interface Program {
  probes: Probe[];
  /** `#include` lines of the preamble (ignored: types come from BTF). */
  includes: string[];
  /** `struct NAME { ... }`, `union NAME { ... }`, `enum NAME { ... }` definitions of the preamble, as C text. */
  structs: { name: string; text: string; pos: Pos }[];
}

export interface Probe {
  attachPoints: AttachPoint[];
  predicate?: Expr;
  body: Stmt[];
  pos: Pos;
  /** written with several attach points or a wildcard (bpftrace then skips one that cannot attach) */
  several?: boolean;
}

/** `provider:part:part`, exactly as written (wildcards included); resolved by the checker. */
export interface AttachPoint {
  raw: string;
  /** `raw` split at ':' (a '/path' segment keeps its own slashes). */
  parts: string[];
  pos: Pos;
}

export type Stmt =
  | { kind: 'expr'; expr: Expr; pos: Pos }
  | { kind: 'assign'; target: MapExpr | VarExpr; op: AssignOp; value: Expr; pos: Pos; opPos: Pos }
  | { kind: 'if'; cond: Expr; then: Stmt[]; else?: Stmt[]; pos: Pos }
  | { kind: 'while'; cond: Expr; body: Stmt[]; pos: Pos }
  | { kind: 'unroll'; count: Expr; body: Stmt[]; pos: Pos }
  | { kind: 'return'; pos: Pos }
  | { kind: 'break'; pos: Pos }
  | { kind: 'continue'; pos: Pos };

export type AssignOp = '=' | '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>=';

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>'
  | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export type UnaryOp = '-' | '!' | '~' | '*' | '&';

/** A C type as written in a cast: `struct sock *`, `uint32`, `unsigned int`, `char[16]`. */
export interface TypeName {
  /** base name: `int`, `u32`, `struct sock`, `unsigned long` ... */
  base: string;
  pointers: number;
  pos: Pos;
}

export interface IntExpr { kind: 'int'; value: bigint; pos: Pos }
export interface StrExpr { kind: 'str'; value: string; pos: Pos }
export interface VarExpr { kind: 'var'; name: string; pos: Pos }
export interface MapExpr { kind: 'map'; name: string; keys: Expr[]; pos: Pos }
export interface BuiltinExpr { kind: 'builtin'; name: string; pos: Pos }
/** `$1`..`$N` and `$#`: positional parameters (n = 0 means `$#`). */
export interface PositionalExpr { kind: 'positional'; n: number; pos: Pos }
export interface CallExpr { kind: 'call'; name: string; args: Expr[]; pos: Pos }
export interface BinaryExpr { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: Pos }
export interface UnaryExpr { kind: 'unary'; op: UnaryOp; operand: Expr; pos: Pos }
export interface TernaryExpr { kind: 'ternary'; cond: Expr; then: Expr; else: Expr; pos: Pos }
/** `e->f` (arrow) or `e.f` */
export interface FieldExpr { kind: 'field'; object: Expr; field: string; arrow: boolean; pos: Pos }
export interface IndexExpr { kind: 'index'; object: Expr; index: Expr; pos: Pos }
export interface CastExpr { kind: 'cast'; type: TypeName; operand: Expr; pos: Pos }
/** `x++`, `--@m[k]` ... on a map or variable */
export interface IncDecExpr { kind: 'incdec'; op: '++' | '--'; prefix: boolean; target: MapExpr | VarExpr; pos: Pos }
/** `(a, b, ...)` */
export interface TupleExpr { kind: 'tuple'; elems: Expr[]; pos: Pos }
/** A bare identifier that is no builtin: a stack mode (`perf`), an enum constant ... resolved by the checker. */
export interface IdentExpr { kind: 'ident'; name: string; pos: Pos }
/** `sizeof(type)` or `sizeof(expr)` */
export interface SizeofExpr { kind: 'sizeof'; type?: TypeName; operand?: Expr; pos: Pos; /** the size, set by the checker */ size?: number }

export type Expr =
  | IntExpr | StrExpr | VarExpr | MapExpr | BuiltinExpr | PositionalExpr | CallExpr | BinaryExpr
  | UnaryExpr | TernaryExpr | FieldExpr | IndexExpr | CastExpr | IncDecExpr | TupleExpr | IdentExpr | SizeofExpr;

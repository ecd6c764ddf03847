// A small WebAssembly binary encoder: just what the JIT emits (i32/i64 integer code, one imported
// memory, imported functions, structured control flow).

export const enum T {
  i32 = 0x7f,
  i64 = 0x7e,
  void = 0x40,
}

/** Opcodes (WebAssembly core spec, binary format). */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, br_if: 0x0d,
  br_table: 0x0e, return: 0x0f, call: 0x10, drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  i32_load: 0x28, i32_load8_u: 0x2d, i32_load16_u: 0x2f, i64_load: 0x29, i64_load8_s: 0x30, i64_load8_u: 0x31, i64_load16_s: 0x32, i64_load16_u: 0x33,
  i64_load32_s: 0x34, i64_load32_u: 0x35, i32_store: 0x36, i64_store: 0x37, i64_store8: 0x3c, i64_store16: 0x3d, i64_store32: 0x3e,
  i32_const: 0x41, i64_const: 0x42,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_gt_s: 0x55, i64_gt_u: 0x56,
  i64_le_s: 0x57, i64_le_u: 0x58, i64_ge_s: 0x59, i64_ge_u: 0x5a,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f, i32_rem_u: 0x70,
  i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73, i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76, i32_rotl: 0x77, i32_rotr: 0x78,
  i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e, i64_div_s: 0x7f, i64_div_u: 0x80, i64_rem_s: 0x81, i64_rem_u: 0x82,
  i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85, i64_shl: 0x86, i64_shr_s: 0x87, i64_shr_u: 0x88, i64_rotl: 0x89, i64_rotr: 0x8a,
  i32_wrap_i64: 0xa7, i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad,
  i32_extend8_s: 0xc0, i32_extend16_s: 0xc1, i64_extend8_s: 0xc2, i64_extend16_s: 0xc3, i64_extend32_s: 0xc4,
} as const;

export function uleb(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

export function sleb(out: number[], value: bigint | number): void {
  let v = BigInt(value);
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return;
  }
}

/** A function body under construction. */
export class Code {
  readonly bytes: number[] = [];
  op(...ops: number[]): this {
    this.bytes.push(...ops);
    return this;
  }
  /** An instruction with one unsigned LEB128 immediate: a local, a label depth or a function index. */
  private index(op: number, n: number): this {
    this.bytes.push(op);
    uleb(this.bytes, n);
    return this;
  }
  get(l: number): this {
    return this.index(Op.local_get, l);
  }
  set(l: number): this {
    return this.index(Op.local_set, l);
  }
  tee(l: number): this {
    return this.index(Op.local_tee, l);
  }
  i32(v: number): this {
    this.bytes.push(Op.i32_const);
    sleb(this.bytes, v | 0);
    return this;
  }
  i64(v: bigint): this {
    this.bytes.push(Op.i64_const);
    sleb(this.bytes, BigInt.asIntN(64, v));
    return this;
  }
  br(op: number, depth: number): this {
    return this.index(op, depth);
  }
  call(f: number): this {
    return this.index(Op.call, f);
  }
  /** Load/store with alignment hint 0 and a constant offset added to the address. */
  mem(op: number, offset = 0): this {
    this.bytes.push(op, 0);
    uleb(this.bytes, offset);
    return this;
  }
  block(kind: number, type: T = T.void): this {
    this.bytes.push(kind, type);
    return this;
  }
  brTable(targets: number[], dflt: number): this {
    this.bytes.push(Op.br_table);
    uleb(this.bytes, targets.length);
    for (const t of targets) uleb(this.bytes, t);
    uleb(this.bytes, dflt);
    return this;
  }
}

export interface FuncType {
  params: T[];
  results: T[];
}

export interface ModuleSpec {
  types: FuncType[];
  imports: { module: string; name: string; type: number }[];
  memory: { module: string; name: string };
  globals: { type: T; mutable: boolean; init: bigint }[];
  funcs: { type: number; locals: [count: number, type: T][]; code: Code }[];
  exports: { name: string; func: number }[];
}

/** push(...src) without the argument-count limit of spreading large arrays. */
export function append(out: number[], src: readonly number[]): void {
  for (let i = 0; i < src.length; i++) out.push(src[i]!);
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  append(out, body);
}

function name(out: number[], s: string): void {
  const b = new TextEncoder().encode(s);
  uleb(out, b.length);
  out.push(...b);
}

export function encodeModule(m: ModuleSpec): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  let b: number[] = [];
  uleb(b, m.types.length);
  for (const t of m.types) {
    b.push(0x60);
    uleb(b, t.params.length);
    b.push(...t.params);
    uleb(b, t.results.length);
    b.push(...t.results);
  }
  section(out, 1, b);
  b = [];
  uleb(b, m.imports.length + 1);
  for (const i of m.imports) {
    name(b, i.module);
    name(b, i.name);
    b.push(0x00);
    uleb(b, i.type);
  }
  name(b, m.memory.module);
  name(b, m.memory.name);
  b.push(0x02, 0x00, 0x00); // memory, limits: min 0, no max
  section(out, 2, b);
  b = [];
  uleb(b, m.funcs.length);
  for (const f of m.funcs) uleb(b, f.type);
  section(out, 3, b);
  if (m.globals.length) {
    b = [];
    uleb(b, m.globals.length);
    for (const g of m.globals) {
      b.push(g.type, g.mutable ? 1 : 0, g.type === T.i64 ? Op.i64_const : Op.i32_const);
      sleb(b, g.init);
      b.push(Op.end);
    }
    section(out, 6, b);
  }
  b = [];
  uleb(b, m.exports.length);
  for (const e of m.exports) {
    name(b, e.name);
    b.push(0x00);
    uleb(b, e.func);
  }
  section(out, 7, b);
  b = [];
  uleb(b, m.funcs.length);
  for (const f of m.funcs) {
    const body: number[] = [];
    uleb(body, f.locals.length);
    for (const [n, t] of f.locals) {
      uleb(body, n);
      body.push(t);
    }
    append(body, f.code.bytes);
    body.push(Op.end);
    uleb(b, body.length);
    append(b, body);
  }
  section(out, 10, b);
  return Uint8Array.from(out);
}

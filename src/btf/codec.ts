// Decode the bytes of a BTF-described value into plain JS values and encode them back.
// compileCodec generates one specialized function per type (an object literal of DataView reads for
// a struct), so decoding ring-buffer records costs what hand-written code would.
//   ints -> number (64/128-bit -> bigint), _Bool -> boolean, char arrays -> string (to the first NUL),
//   other arrays -> arrays, struct/union -> object (members of anonymous struct/union members are
//   lifted into the parent, as C accesses them), enum -> number (enumName gives the name; ENUM64 ->
//   bigint), pointer -> bigint, float/double -> number, bitfields -> as their base type, DATASEC ->
//   object of its variables.
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import { BtfKind, BTF_INT_SIGNED, BTF_INT_BOOL, BTF_INT_CHAR, type BtfType, type BtfMember } from './types.js';

export interface Codec<T = any> {
  /** bytes the value occupies */
  readonly size: number;
  decode(view: DataView, offset?: number): T;
  encode(value: T, view: DataView, offset?: number): void;
}

const MAX_DEPTH = 48;
const INLINE_BUDGET = 2000;
const cache = new WeakMap<Btf, Map<number, Codec>>();

/** A codec for type `typeId` of `btf` (compiled once per Btf and type, then cached). */
export function compileCodec<T = any>(btf: Btf, typeId: number): Codec<T> {
  return cached(btf, typeId, 0) as Codec<T>;
}

/** The enumerator name of `value` in enum type `typeId` (qualifiers skipped), or undefined. */
export function enumName(btf: Btf, typeId: number, value: number | bigint): string | undefined {
  const t = btf.resolve(typeId);
  if (t.kind !== BtfKind.ENUM && t.kind !== BtfKind.ENUM64) throw new BtfError(`type ${typeId} is not an enum`);
  for (const v of t.values) if (BigInt(v.value) === BigInt(value)) return v.name;
  return undefined;
}

// Helpers the generated code calls (passed in as arguments: generated code sees no globals).
const dec = new TextDecoder();
const enc = new TextEncoder();
/** The NUL-terminated string in char[n] at `o` (ASCII without a decoder call, UTF-8 past it). */
export function readString(v: DataView, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = v.getUint8(o + i);
    if (c === 0) return s;
    if (c > 0x7f) {
      let end = i;
      while (end < n && v.getUint8(o + end) !== 0) end++;
      return s + dec.decode(new Uint8Array(v.buffer, v.byteOffset + o + i, end - i));
    }
    s += String.fromCharCode(c);
  }
  return s;
}
function writeString(v: DataView, o: number, n: number, s: unknown): void {
  const b = typeof s === 'string' ? enc.encode(s) : s instanceof Uint8Array ? s : Array.isArray(s) ? Uint8Array.from(s as number[]) : new Uint8Array(0);
  const len = Math.min(b.length, typeof s === 'string' ? n - 1 : n); // strings keep their NUL
  for (let i = 0; i < n; i++) v.setUint8(o + i, i < len ? b[i]! : 0);
}
function readBits(v: DataView, o: number, bitOff: number, bits: number, signed: boolean): bigint {
  const first = bitOff >> 3;
  const nbytes = ((bitOff & 7) + bits + 7) >> 3;
  let raw = 0n;
  for (let i = nbytes - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(v.getUint8(o + first + i));
  raw = BigInt.asUintN(bits, raw >> BigInt(bitOff & 7));
  return signed ? BigInt.asIntN(bits, raw) : raw;
}
function writeBits(v: DataView, o: number, bitOff: number, bits: number, value: unknown): void {
  const first = bitOff >> 3;
  const shift = BigInt(bitOff & 7);
  const nbytes = ((bitOff & 7) + bits + 7) >> 3;
  let raw = 0n;
  for (let i = nbytes - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(v.getUint8(o + first + i));
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  raw = (raw & ~mask) | ((BigInt.asUintN(bits, toBig(value)) << shift) & mask);
  for (let i = 0; i < nbytes; i++) {
    v.setUint8(o + first + i, Number(raw & 0xffn));
    raw >>= 8n;
  }
}
function toBig(x: unknown): bigint {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'boolean') return x ? 1n : 0n;
  if (x === undefined || x === null) return 0n;
  const n = Number(x);
  return Number.isFinite(n) ? BigInt(Math.trunc(n)) : 0n;
}
function toNum(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') return Number(BigInt.asIntN(64, x));
  if (typeof x === 'boolean') return x ? 1 : 0;
  return Number(x ?? 0) || 0;
}
function readU128(v: DataView, o: number, le: boolean, signed: boolean): bigint {
  const lo = v.getBigUint64(o + (le ? 0 : 8), le);
  const hi = v.getBigUint64(o + (le ? 8 : 0), le);
  const u = (hi << 64n) | lo;
  return signed ? BigInt.asIntN(128, u) : u;
}
function writeU128(v: DataView, o: number, le: boolean, x: unknown): void {
  const u = BigInt.asUintN(128, toBig(x));
  v.setBigUint64(o + (le ? 0 : 8), u & 0xffffffffffffffffn, le);
  v.setBigUint64(o + (le ? 8 : 0), u >> 64n, le);
}
function readRaw(v: DataView, o: number, n: number): Uint8Array {
  return new Uint8Array(v.buffer.slice(v.byteOffset + o, v.byteOffset + o + n));
}
function writeRaw(v: DataView, o: number, n: number, x: unknown): void {
  const b = x instanceof Uint8Array ? x : new Uint8Array(0);
  for (let i = 0; i < n; i++) v.setUint8(o + i, b[i] ?? 0);
}

function short(v: DataView, o: number, size: number, what: string): never {
  throw new BtfError(`${what}: ${size} bytes needed at offset ${o}, the buffer has ${v.byteLength}`);
}

const HELPERS = { short, readString, writeString, readBits, writeBits, toBig, toNum, readU128, writeU128, readRaw, writeRaw };

/** Generates the decode expression and encode statements of one type. */
class Gen {
  private readonly subs: Codec[] = [];
  private tmp = 0;
  constructor(
    private readonly btf: Btf,
    private readonly le: boolean,
  ) {}

  /** inline expressions emitted so far: past INLINE_BUDGET, nested values call compiled sub-codecs */
  private nodes = 0;

  resetBudget(): void {
    this.nodes = 0;
  }

  sub(typeId: number, depth: number): string {
    this.subs.push(cached(this.btf, typeId, depth + 1));
    return `S[${this.subs.length - 1}]`;
  }

  get subCodecs(): Codec[] {
    return this.subs;
  }

  /** true if the type decodes as a char string */
  isCharArrayElem(typeId: number): boolean {
    const e = this.btf.resolve(typeId);
    return e.kind === BtfKind.INT && e.size === 1 && (e.name === 'char' || (e.encoding & BTF_INT_CHAR) !== 0);
  }

  decode(typeId: number, o: string, depth: number): string {
    if (depth > MAX_DEPTH) throw new BtfError(`type ${typeId}: value nesting too deep (cyclic BTF?)`);
    const t = this.btf.resolve(typeId);
    const le = this.le;
    // bound the size of one generated function: big nested values go through sub-codecs
    if (++this.nodes > INLINE_BUDGET && depth > 0 && (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION || t.kind === BtfKind.ARRAY)) {
      return `${this.sub(t.id, depth)}.decode(v, ${o})`;
    }
    switch (t.kind) {
      case BtfKind.INT:
        return this.intDecode(t.size, (t.encoding & BTF_INT_SIGNED) !== 0, (t.encoding & BTF_INT_BOOL) !== 0, o);
      case BtfKind.ENUM:
        return this.intDecode(t.size, t.signed, false, o);
      case BtfKind.ENUM64:
        return t.size === 8 ? `v.get${t.signed ? 'BigInt64' : 'BigUint64'}(${o}, ${le})` : this.intDecode(t.size, t.signed, false, o);
      case BtfKind.PTR:
        return `v.getBigUint64(${o}, ${le})`;
      case BtfKind.FLOAT:
        if (t.size === 4) return `v.getFloat32(${o}, ${le})`;
        if (t.size === 8) return `v.getFloat64(${o}, ${le})`;
        return `H.readRaw(v, ${o}, ${t.size})`;
      case BtfKind.ARRAY: {
        if (this.isCharArrayElem(t.type)) return `H.readString(v, ${o}, ${t.nelems})`;
        if (t.nelems === 0) return '[]';
        const esz = this.btf.sizeof(t.type);
        if (t.nelems <= 8 && isScalar(this.btf.resolve(t.type))) {
          const items = [];
          for (let i = 0; i < t.nelems; i++) items.push(this.decode(t.type, `${o} + ${i * esz}`, depth + 1));
          return `[${items.join(', ')}]`;
        }
        const s = this.sub(t.type, depth);
        return `((o0) => { const a = new Array(${t.nelems}); for (let i = 0; i < ${t.nelems}; i++) a[i] = ${s}.decode(v, o0 + i * ${esz}); return a; })(${o})`;
      }
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        return `{ ${this.fields(t, o, 0, depth).join(', ')} }`;
      case BtfKind.DATASEC: {
        const parts = t.vars.map((sv) => `${JSON.stringify(this.btf.nameOf(sv.type))}: ${this.decode(sv.type, `${o} + ${sv.offset}`, depth + 1)}`);
        return `{ ${parts.join(', ')} }`;
      }
      case BtfKind.VAR:
        return this.decode(t.type, o, depth + 1);
      default:
        throw new BtfError(`type ${typeId} (${BtfKind[t.kind]} '${t.name}') has no value to decode`);
    }
  }

  private intDecode(size: number, signed: boolean, bool: boolean, o: string): string {
    const le = this.le;
    let e: string;
    switch (size) {
      case 1:
        e = `v.get${signed ? 'Int8' : 'Uint8'}(${o})`;
        break;
      case 2:
        e = `v.get${signed ? 'Int16' : 'Uint16'}(${o}, ${le})`;
        break;
      case 4:
        e = `v.get${signed ? 'Int32' : 'Uint32'}(${o}, ${le})`;
        break;
      case 8:
        e = `v.get${signed ? 'BigInt64' : 'BigUint64'}(${o}, ${le})`;
        break;
      case 16:
        e = `H.readU128(v, ${o}, ${le}, ${signed})`;
        break;
      default:
        throw new BtfError(`integer of ${size} bytes cannot be decoded`);
    }
    return bool ? `(${e} !== ${size === 8 || size === 16 ? '0n' : '0'})` : e;
  }

  /**
   * A struct or union whose members do not fit in it (malformed BTF) would read past the value, or
   * one that holds itself through anonymous members would never end: a BtfError naming the type.
   */
  private checkComposite(t: Composite, depth: number): void {
    if (depth > MAX_DEPTH) throw new BtfError(`${typeLabel(t)}: members nested more than ${MAX_DEPTH} deep (an anonymous member that contains its own struct?)`);
    for (const m of t.members) {
      const bits = m.bitfieldSize || this.btf.sizeof(m.type) * 8;
      if (m.bitOffset + bits > t.size * 8) {
        throw new BtfError(`${typeLabel(t)}: member '${m.name || '(anonymous)'}' (${bits} bits at bit ${m.bitOffset}) lies past the end of the ${t.size}-byte ${t.kind === BtfKind.UNION ? 'union' : 'struct'}`);
      }
    }
  }

  /**
   * The members of `t` (checked to fit it), each with its type resolved and its bit offset from the
   * outermost struct: named ones through `each`, anonymous struct/union members through `lift` (their
   * members belong to the parent, as C sees them); unnamed padding bitfields are skipped.
   */
  private walkMembers(t: Composite, baseBits: number, depth: number, each: (m: BtfMember, mt: BtfType, bitOff: number) => void, lift: (mt: Composite, bitOff: number) => void): void {
    this.checkComposite(t, depth);
    for (const m of t.members) {
      const bitOff = baseBits + m.bitOffset;
      const mt = this.btf.resolve(m.type);
      if (m.name) each(m, mt, bitOff);
      else if (mt.kind === BtfKind.STRUCT || mt.kind === BtfKind.UNION) lift(mt, bitOff);
    }
  }

  /** `name: expr` pairs of a struct's members; anonymous composite members are lifted */
  private fields(t: Composite, o: string, baseBits: number, depth: number): string[] {
    const out: string[] = [];
    this.walkMembers(t, baseBits, depth,
      (m, mt, bitOff) => out.push(`${JSON.stringify(m.name)}: ${this.member(m, mt, o, bitOff, depth)}`),
      (mt, bitOff) => out.push(...this.fields(mt, o, bitOff, depth + 1)));
    return out;
  }

  private bitfieldInfo(m: BtfMember, mt: BtfType, bitOff: number): { signed: boolean; big: boolean; bool: boolean } | undefined {
    const size = 'size' in mt ? (mt.size as number) : 0;
    const bits = m.bitfieldSize;
    if (!bits && bitOff % 8 === 0) return undefined;
    if (!bits) throw new BtfError(`member '${m.name}' is not byte aligned`);
    if (mt.kind !== BtfKind.INT && mt.kind !== BtfKind.ENUM && mt.kind !== BtfKind.ENUM64) {
      throw new BtfError(`bitfield '${m.name}' of ${BtfKind[mt.kind]} type`);
    }
    if (!this.le) throw new BtfError(`bitfield '${m.name}': big-endian bitfields are not supported`);
    const signed = mt.kind === BtfKind.INT ? (mt.encoding & BTF_INT_SIGNED) !== 0 : mt.signed;
    const bool = mt.kind === BtfKind.INT && (mt.encoding & BTF_INT_BOOL) !== 0;
    return { signed, big: size > 4, bool };
  }

  private member(m: BtfMember, mt: BtfType, o: string, bitOff: number, depth: number): string {
    const bf = this.bitfieldInfo(m, mt, bitOff);
    if (!bf) return this.decode(m.type, `${o} + ${bitOff / 8}`, depth + 1);
    const bits = m.bitfieldSize;
    const shift = bitOff & 7;
    if (bf.big || shift + bits > 32) {
      const e = `H.readBits(v, ${o}, ${bitOff}, ${bits}, ${bf.signed})`;
      return bf.big ? e : `Number(${e})`;
    }
    const first = bitOff >> 3;
    const nbytes = (shift + bits + 7) >> 3;
    const parts = [];
    for (let i = 0; i < nbytes; i++) parts.push(i ? `(v.getUint8(${o} + ${first + i}) << ${8 * i})` : `v.getUint8(${o} + ${first})`);
    const raw = `((${parts.join(' | ')}) >>> ${shift})`;
    let e = bits === 32 ? `(${raw} | 0)` : bf.signed ? `((${raw} << ${32 - bits}) >> ${32 - bits})` : `(${raw} & ${2 ** bits - 1})`;
    if (!bf.signed && bits === 32) e = `(${raw} >>> 0)`;
    return bf.bool ? `(${e} !== 0)` : e;
  }

  encode(typeId: number, val: string, o: string, depth: number): string {
    if (depth > MAX_DEPTH) throw new BtfError(`type ${typeId}: value nesting too deep (cyclic BTF?)`);
    const t = this.btf.resolve(typeId);
    const le = this.le;
    if (++this.nodes > INLINE_BUDGET && depth > 0 && (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION)) {
      return `${this.sub(t.id, depth)}.encode(${val}, v, ${o});`;
    }
    switch (t.kind) {
      case BtfKind.INT:
        return this.intEncode(t.size, val, o);
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        return this.intEncode(t.size, val, o);
      case BtfKind.PTR:
        return `v.setBigUint64(${o}, BigInt.asUintN(64, H.toBig(${val})), ${le});`;
      case BtfKind.FLOAT:
        if (t.size === 4) return `v.setFloat32(${o}, H.toNum(${val}), ${le});`;
        if (t.size === 8) return `v.setFloat64(${o}, H.toNum(${val}), ${le});`;
        return `H.writeRaw(v, ${o}, ${t.size}, ${val});`;
      case BtfKind.ARRAY: {
        if (this.isCharArrayElem(t.type)) return `H.writeString(v, ${o}, ${t.nelems}, ${val});`;
        if (t.nelems === 0) return '';
        const esz = this.btf.sizeof(t.type);
        const s = this.sub(t.type, depth);
        const a = `a${this.tmp++}`;
        return `{ const ${a} = ${val} ?? []; for (let i = 0; i < ${t.nelems}; i++) ${s}.encode(${a}[i], v, ${o} + i * ${esz}); }`;
      }
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        const s = `s${this.tmp++}`;
        // a union writes only the members the value has (they overlap); a struct writes all
        return `{ const ${s} = ${val} ?? {}; ${this.encodeFields(t, s, o, 0, depth, t.kind === BtfKind.UNION)} }`;
      }
      case BtfKind.DATASEC: {
        const s = `s${this.tmp++}`;
        const parts = t.vars.map((sv) => this.encode(sv.type, `${s}[${JSON.stringify(this.btf.nameOf(sv.type))}]`, `${o} + ${sv.offset}`, depth + 1));
        return `{ const ${s} = ${val} ?? {}; ${parts.join(' ')} }`;
      }
      case BtfKind.VAR:
        return this.encode(t.type, val, o, depth + 1);
      default:
        throw new BtfError(`type ${typeId} (${BtfKind[t.kind]} '${t.name}') has no value to encode`);
    }
  }

  private encodeFields(t: Composite, s: string, o: string, baseBits: number, depth: number, union: boolean): string {
    const out: string[] = [];
    this.walkMembers(t, baseBits, depth,
      (m, mt, bitOff) => {
        const val = `${s}[${JSON.stringify(m.name)}]`;
        const bf = this.bitfieldInfo(m, mt, bitOff);
        const stmt = bf ? `H.writeBits(v, ${o}, ${bitOff}, ${m.bitfieldSize}, ${val});` : this.encode(m.type, val, `${o} + ${bitOff / 8}`, depth + 1);
        out.push(union ? `if (${val} !== undefined) ${stmt}` : stmt);
      },
      (mt, bitOff) => out.push(this.encodeFields(mt, s, o, bitOff, depth + 1, union || mt.kind === BtfKind.UNION)));
    return out.join(' ');
  }

  private intEncode(size: number, val: string, o: string): string {
    const le = this.le;
    switch (size) {
      case 1:
        return `v.setUint8(${o}, H.toNum(${val}) & 0xff);`;
      case 2:
        return `v.setUint16(${o}, H.toNum(${val}) & 0xffff, ${le});`;
      case 4:
        return `v.setUint32(${o}, H.toNum(${val}) >>> 0, ${le});`;
      case 8:
        return `v.setBigUint64(${o}, BigInt.asUintN(64, H.toBig(${val})), ${le});`;
      case 16:
        return `H.writeU128(v, ${o}, ${le}, ${val});`;
      default:
        throw new BtfError(`integer of ${size} bytes cannot be encoded`);
    }
  }
}

type Composite = Extract<BtfType, { kind: BtfKind.STRUCT | BtfKind.UNION }>;

/** `struct sock`, `union (anonymous, id 42)`: how an error names a type. */
function typeLabel(t: Composite): string {
  return `${t.kind === BtfKind.UNION ? 'union' : 'struct'} ${t.name || `(anonymous, id ${t.id})`}`;
}

function isScalar(t: BtfType): boolean {
  return t.kind === BtfKind.INT || t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64 || t.kind === BtfKind.PTR || t.kind === BtfKind.FLOAT;
}

/** compileCodec's cache, for sub-codecs: each type is compiled once per Btf */
function cached(btf: Btf, typeId: number, depth: number): Codec {
  let m = cache.get(btf);
  if (!m) cache.set(btf, (m = new Map()));
  let c = m.get(typeId);
  if (!c) {
    c = build(btf, typeId, depth);
    m.set(typeId, c);
  }
  return c;
}

function build(btf: Btf, typeId: number, depth = 0): Codec {
  const size = btf.sizeof(typeId);
  const g = new Gen(btf, btf.littleEndian);
  const decodeBody = `return ${g.decode(typeId, 'o', depth)};`;
  g.resetBudget();
  const encodeBody = g.encode(typeId, 'x', 'o', depth);
  const S = g.subCodecs;
  const check = `if (o + ${size} > v.byteLength || o < 0) H.short(v, o, ${size}, ${JSON.stringify(btf.nameOf(typeId) || `type ${typeId}`)});`;
  const decodeFn = new Function('H', 'S', `return function decode(v, o = 0) { ${check} ${decodeBody} };`)(HELPERS, S);
  const encodeFn = new Function('H', 'S', `return function encode(x, v, o = 0) { ${check} ${encodeBody} };`)(HELPERS, S);
  return { size, decode: decodeFn, encode: encodeFn };
}

// Write BTF back to bytes, and build BTF from scratch.
// marshalBtf(btf) encodes a Btf's own types (for split BTF: the module part, string offsets after the
// base's) with a fresh deduplicated string section. BtfBuilder makes types for the script compiler
// (its maps and records) and rewrites an object's types (sanitizing for older kernels).
import { Btf, type TypeSource } from './btf.js';
import { BtfError } from './error.js';
import { BTF_MAGIC, BTF_VERSION, BtfKind, BTF_INT_SIGNED, BTF_INT_BOOL, type BtfType, type BtfTypeInit, type BtfMember } from './types.js';

const HDR_LEN = 24;

/** Growing little/big-endian byte writer */
class Writer {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  len = 0;
  constructor(private readonly le: boolean) {}
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.len, v >>> 0, this.le);
    this.len += 4;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Deduplicated string section under construction (offset 0 = ''). */
class Strings {
  private readonly offs = new Map<string, number>([['', 0]]);
  private buf = new Uint8Array(1 << 16);
  private len = 1;
  private readonly enc = new TextEncoder();
  constructor(private readonly base: number) {}
  add(s: string): number {
    if (s === '') return 0;
    let o = this.offs.get(s);
    if (o === undefined) {
      o = this.len;
      this.write(s);
      this.offs.set(s, o);
    }
    return o + this.base;
  }
  private write(s: string): void {
    const need = this.len + s.length * 3 + 1;
    if (need > this.buf.length) {
      const b = new Uint8Array(Math.max(need, this.buf.length * 2));
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
    }
    let p = this.len;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0) throw new BtfError(`BTF name ${JSON.stringify(s)} contains a NUL byte`);
      if (c > 0x7f) {
        p = this.len + this.enc.encodeInto(s, this.buf.subarray(this.len)).written;
        break;
      }
      this.buf[p++] = c;
    }
    this.buf[p++] = 0;
    this.len = p;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const info = (kind: BtfKind, vlen: number, kflag: boolean) => (((kflag ? 1 : 0) << 31) | ((kind & 0x1f) << 24) | (vlen & 0xffff)) >>> 0;

function vlenCheck(t: BtfType, n: number): number {
  if (n > 0xffff) throw new BtfError(`type ${t.id} '${t.name}': ${n} entries exceed BTF's 65535`);
  return n;
}

/** Encode one type record: `struct btf_type` (name, info, size or type), then what its kind adds. */
function writeType(w: Writer, s: Strings, t: BtfType): void {
  const name = s.add(t.name);
  const head = (vlen: number, kflag: boolean, sizeOrType: number): void => {
    w.u32(name);
    w.u32(info(t.kind, vlen, kflag));
    w.u32(sizeOrType);
  };
  switch (t.kind) {
    case BtfKind.INT:
      head(0, false, t.size);
      w.u32(((t.encoding & 0x0f) << 24) | ((t.bitOffset & 0xff) << 16) | (t.bits & 0xff));
      return;
    case BtfKind.PTR:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
      head(0, false, t.type);
      return;
    case BtfKind.TYPE_TAG:
      head(0, t.kindFlag, t.type);
      return;
    case BtfKind.ARRAY:
      head(0, false, 0);
      w.u32(t.type);
      w.u32(t.indexType);
      w.u32(t.nelems);
      return;
    case BtfKind.STRUCT:
    case BtfKind.UNION: {
      const kflag = t.kindFlag || t.members.some((m) => m.bitfieldSize > 0);
      head(vlenCheck(t, t.members.length), kflag, t.size);
      for (const m of t.members) {
        if (kflag && (m.bitOffset > 0xffffff || m.bitfieldSize > 0xff)) throw new BtfError(`member '${m.name}' of '${t.name}': offset or bitfield too large`);
        w.u32(s.add(m.name));
        w.u32(m.type);
        w.u32(kflag ? ((m.bitfieldSize << 24) | m.bitOffset) >>> 0 : m.bitOffset);
      }
      return;
    }
    case BtfKind.ENUM:
      head(vlenCheck(t, t.values.length), t.signed, t.size);
      for (const v of t.values) {
        w.u32(s.add(v.name));
        w.u32(v.value);
      }
      return;
    case BtfKind.ENUM64:
      head(vlenCheck(t, t.values.length), t.signed, t.size);
      for (const v of t.values) {
        const u = BigInt.asUintN(64, v.value);
        w.u32(s.add(v.name));
        w.u32(Number(u & 0xffffffffn));
        w.u32(Number(u >> 32n));
      }
      return;
    case BtfKind.FWD:
      head(0, t.union, 0);
      return;
    case BtfKind.FUNC:
      head(t.linkage, false, t.type);
      return;
    case BtfKind.FUNC_PROTO:
      head(vlenCheck(t, t.params.length), false, t.returnType);
      for (const p of t.params) {
        w.u32(s.add(p.name));
        w.u32(p.type);
      }
      return;
    case BtfKind.VAR:
      head(0, false, t.type);
      w.u32(t.linkage);
      return;
    case BtfKind.DATASEC:
      head(vlenCheck(t, t.vars.length), false, t.size);
      for (const v of t.vars) {
        w.u32(v.type);
        w.u32(v.offset);
        w.u32(v.size);
      }
      return;
    case BtfKind.FLOAT:
      head(0, false, t.size);
      return;
    case BtfKind.DECL_TAG:
      head(0, t.kindFlag, t.type);
      w.u32(t.componentIdx);
      return;
    default:
      throw new BtfError(`type ${t.id}: cannot encode kind ${BtfKind[t.kind]}`);
  }
}

/** Encode a Btf's own types as .BTF bytes (header, types, strings), in its byte order. */
export function marshalBtf(btf: Btf): Uint8Array {
  return marshalBtfWithStrings(btf, []).bytes;
}

/**
 * marshalBtf plus extra strings in the string section (line_info file names and source lines must
 * point into the BTF loaded with the program); `offsets` maps each extra string to its offset.
 */
export function marshalBtfWithStrings(btf: Btf, extra: Iterable<string>): { bytes: Uint8Array; offsets: Map<string, number> } {
  const le = btf.littleEndian;
  const types = new Writer(le);
  const strings = new Strings(btf.startStrOff);
  for (const t of btf.ownTypes()) writeType(types, strings, t);
  const offsets = new Map<string, number>();
  for (const x of extra) offsets.set(x, strings.add(x));
  const typeBytes = types.done();
  const strBytes = strings.bytes();
  const out = new Writer(le);
  out.bytes(new Uint8Array(4));
  const v = new DataView(out.buf.buffer);
  v.setUint16(0, BTF_MAGIC, le);
  v.setUint8(2, BTF_VERSION);
  v.setUint8(3, 0);
  out.u32(HDR_LEN);
  out.u32(0); // type_off
  out.u32(typeBytes.length);
  out.u32(typeBytes.length); // str_off
  out.u32(strBytes.length);
  out.bytes(typeBytes);
  out.bytes(strBytes);
  return { bytes: out.done(), offsets };
}

/** A deep copy of a type (its member/parameter/value/variable lists too), far cheaper than structuredClone. */
function cloneType(t: BtfType): BtfType {
  const c = { ...t } as BtfType & { members?: BtfMember[]; params?: unknown[]; values?: unknown[]; vars?: unknown[] };
  if ('members' in t) c.members = t.members.map((m) => ({ ...m }));
  if ('params' in t) c.params = t.params.map((p) => ({ ...p }));
  if ('values' in t) c.values = t.values.map((v) => ({ ...v }));
  if ('vars' in t) c.vars = t.vars.map((v) => ({ ...v }));
  return c;
}

/** Types held as objects (a built Btf). */
class ArraySource implements TypeSource {
  constructor(private readonly types: BtfType[]) {}
  get count(): number {
    return this.types.length;
  }
  kind(i: number): BtfKind {
    return this.types[i]!.kind;
  }
  name(i: number): string {
    return this.types[i]!.name;
  }
  decode(i: number): BtfType {
    return this.types[i]!;
  }
}

export interface FieldSpec {
  name: string;
  type: number;
  /** bitfield width; 0/undefined = a whole field */
  bits?: number;
}

/**
 * Builds BTF type by type. Ids start after the base's (split BTF) or at 1.
 *   const b = new BtfBuilder();
 *   const u32 = b.int('unsigned int', 4);
 *   const ev = b.struct('event', [{ name: 'pid', type: u32 }, { name: 'comm', type: b.array(b.int('char', 1, true), 16) }]);
 *   const btf = b.build();  // or b.marshal() for bytes
 */
export class BtfBuilder {
  private readonly types: BtfType[] = [];
  readonly startId: number;

  constructor(readonly base?: Btf) {
    this.startId = base ? base.length : 1;
  }

  /** A builder holding a copy of `btf`'s own types (to rewrite them), on the same base. */
  static from(btf: Btf): BtfBuilder {
    const b = new BtfBuilder(btf.base);
    for (const t of btf.ownTypes()) b.types.push(cloneType(t));
    return b;
  }

  /** next id to be assigned; one past the last type */
  get length(): number {
    return this.startId + this.types.length;
  }

  add(t: BtfTypeInit): number {
    const id = this.length;
    this.types.push({ ...t, id } as BtfType);
    return id;
  }

  /** the type with `id` as built so far (base types included) */
  get(id: number): BtfType {
    if (id < this.startId) {
      if (!this.base) throw new BtfError(`type id ${id} out of range`);
      return this.base.typeById(id);
    }
    const t = this.types[id - this.startId];
    if (!t) throw new BtfError(`type id ${id} out of range`);
    return t;
  }

  /** replace type `id` (a builder's own) */
  set(id: number, t: BtfTypeInit): void {
    if (id < this.startId || id >= this.length) throw new BtfError(`type id ${id} is not this builder's`);
    this.types[id - this.startId] = { ...t, id } as BtfType;
  }

  int(name: string, size: number, signed = false, opts: { bool?: boolean; char?: boolean } = {}): number {
    const encoding = (signed ? BTF_INT_SIGNED : 0) | (opts.bool ? BTF_INT_BOOL : 0) | (opts.char ? 2 : 0);
    return this.add({ kind: BtfKind.INT, name, size, encoding, bitOffset: 0, bits: size * 8 });
  }
  ptr(type: number): number {
    return this.add({ kind: BtfKind.PTR, name: '', type });
  }
  array(type: number, nelems: number, indexType?: number): number {
    return this.add({ kind: BtfKind.ARRAY, name: '', type, indexType: indexType ?? this.indexInt(), nelems });
  }
  typedef(name: string, type: number): number {
    return this.add({ kind: BtfKind.TYPEDEF, name, type });
  }
  const(type: number): number {
    return this.add({ kind: BtfKind.CONST, name: '', type });
  }
  volatile(type: number): number {
    return this.add({ kind: BtfKind.VOLATILE, name: '', type });
  }
  float(name: string, size: number): number {
    return this.add({ kind: BtfKind.FLOAT, name, size });
  }
  fwd(name: string, union = false): number {
    return this.add({ kind: BtfKind.FWD, name, union });
  }
  enum(name: string, values: [string, number][], size = 4, signed = values.some(([, v]) => v < 0)): number {
    return this.add({ kind: BtfKind.ENUM, name, size, signed, values: values.map(([n, v]) => ({ name: n, value: v })) });
  }
  enum64(name: string, values: [string, bigint][], signed = false): number {
    return this.add({ kind: BtfKind.ENUM64, name, size: 8, signed, values: values.map(([n, v]) => ({ name: n, value: v })) });
  }
  funcProto(returnType: number, params: { name?: string; type: number }[]): number {
    return this.add({ kind: BtfKind.FUNC_PROTO, name: '', returnType, params: params.map((p) => ({ name: p.name ?? '', type: p.type })) });
  }
  func(name: string, proto: number, linkage = 1): number {
    return this.add({ kind: BtfKind.FUNC, name, type: proto, linkage });
  }
  var(name: string, type: number, linkage = 1): number {
    return this.add({ kind: BtfKind.VAR, name, type, linkage });
  }
  datasec(name: string, vars: { type: number; offset: number; size: number }[], size?: number): number {
    return this.add({ kind: BtfKind.DATASEC, name, size: size ?? vars.reduce((m, v) => Math.max(m, v.offset + v.size), 0), vars });
  }

  /** A struct laid out as C would (natural alignment, bitfields packed into their base type's units). */
  struct(name: string, fields: FieldSpec[]): number {
    return this.add(this.layout(BtfKind.STRUCT, name, fields));
  }
  /** A union: every member at offset 0. */
  union(name: string, fields: FieldSpec[]): number {
    return this.add(this.layout(BtfKind.UNION, name, fields));
  }

  private indexInt(): number {
    for (let i = 0; i < this.types.length; i++) {
      const t = this.types[i]!;
      if (t.kind === BtfKind.INT && t.name === '__ARRAY_SIZE_TYPE__') return t.id;
    }
    return this.add({ kind: BtfKind.INT, name: '__ARRAY_SIZE_TYPE__', size: 4, encoding: 0, bitOffset: 0, bits: 32 });
  }

  private layout(kind: BtfKind.STRUCT | BtfKind.UNION, name: string, fields: FieldSpec[]): BtfTypeInit {
    const view = this.build();
    let off = 0; // bits
    let size = 0;
    let align = 1;
    const members: BtfMember[] = [];
    for (const f of fields) {
      const fsize = view.sizeof(f.type);
      const falign = view.alignof(f.type);
      align = Math.max(align, falign);
      if (kind === BtfKind.UNION) {
        members.push({ name: f.name, type: f.type, bitOffset: 0, bitfieldSize: f.bits ?? 0 });
        size = Math.max(size, fsize);
        continue;
      }
      if (f.bits) {
        if (f.bits > fsize * 8) throw new BtfError(`bitfield '${f.name}' wider than its type`);
        // start a new unit if the bits would straddle the base type's aligned unit
        const unit = fsize * 8;
        if (Math.floor(off / unit) !== Math.floor((off + f.bits - 1) / unit)) off = Math.ceil(off / unit) * unit;
        members.push({ name: f.name, type: f.type, bitOffset: off, bitfieldSize: f.bits });
        off += f.bits;
      } else {
        off = Math.ceil(off / (falign * 8)) * falign * 8;
        members.push({ name: f.name, type: f.type, bitOffset: off, bitfieldSize: 0 });
        off += fsize * 8;
      }
      size = Math.ceil(off / 8);
    }
    size = Math.ceil(size / align) * align;
    return { kind, name, size, members, kindFlag: members.some((m) => m.bitfieldSize > 0) };
  }

  /** The types built so far as a Btf (a snapshot; later additions need another build()). */
  build(): Btf {
    return new Btf(new ArraySource(this.types.slice()), undefined, this.base, this.base?.littleEndian ?? true);
  }

  /** The types as .BTF bytes */
  marshal(): Uint8Array {
    return marshalBtf(this.build());
  }
}

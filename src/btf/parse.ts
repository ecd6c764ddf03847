// Parse a .BTF blob (struct btf_header, type section, string section) into a Btf.
// One upfront pass finds every type record and checks every type id and string offset it holds, so
// the lazy per-type decoding afterwards can never read out of bounds. Big-endian BTF (from bpfeb
// objects) is read too: the magic tells the byte order.
import { Btf, type StringTable, type TypeSource } from './btf.js';
import { BtfError } from './error.js';
import { BTF_MAGIC, BTF_KIND_MAX, BtfKind, type BtfType, type BtfMember } from './types.js';

export interface BtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

const HEADER_MIN = 24;
const TYPE_HDR = 12;

export function parseBtfHeader(bytes: Uint8Array): BtfHeader & { littleEndian: boolean } {
  if (bytes.length < HEADER_MIN) throw new BtfError(`BTF too short for a header: ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (view.getUint16(0, true) === BTF_MAGIC) le = true;
  else if (view.getUint16(0, false) === BTF_MAGIC) le = false;
  else throw new BtfError(`bad BTF magic 0x${view.getUint16(0, true).toString(16)} (want 0xeb9f)`);
  const h = {
    magic: BTF_MAGIC,
    version: view.getUint8(2),
    flags: view.getUint8(3),
    hdrLen: view.getUint32(4, le),
    typeOff: view.getUint32(8, le),
    typeLen: view.getUint32(12, le),
    strOff: view.getUint32(16, le),
    strLen: view.getUint32(20, le),
    littleEndian: le,
  };
  if (h.version !== 1) throw new BtfError(`unsupported BTF version ${h.version}`);
  if (h.hdrLen < HEADER_MIN || h.hdrLen > bytes.length) throw new BtfError(`bad BTF header length ${h.hdrLen}`);
  const data = bytes.length - h.hdrLen;
  if (h.typeOff % 4 !== 0) throw new BtfError(`BTF type section offset ${h.typeOff} not 4-byte aligned`);
  if (h.typeOff + h.typeLen > data || h.typeOff + h.typeLen < h.typeOff) {
    throw new BtfError(`BTF type section [${h.typeOff}, +${h.typeLen}) beyond the ${data} data bytes`);
  }
  if (h.strOff + h.strLen > data || h.strOff + h.strLen < h.strOff) {
    throw new BtfError(`BTF string section [${h.strOff}, +${h.strLen}) beyond the ${data} data bytes`);
  }
  if (h.typeOff < h.strOff + h.strLen && h.strOff < h.typeOff + h.typeLen && h.typeLen && h.strLen) {
    throw new BtfError('BTF type and string sections overlap');
  }
  return h;
}

/** Parse .BTF bytes; `base` for split BTF (module BTF on top of vmlinux). */
export function parseBtf(bytes: Uint8Array, base?: Btf): Btf {
  const h = parseBtfHeader(bytes);
  const le = h.littleEndian;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const strings = makeStrings(bytes.subarray(h.hdrLen + h.strOff, h.hdrLen + h.strOff + h.strLen), base);
  const startStr = base ? base.stringsLength : 0;
  const startId = base ? base.length : 1;
  const typeStart = h.hdrLen + h.typeOff;
  const typeEnd = typeStart + h.typeLen;

  // Pass 1: record offsets.
  let offsets = new Uint32Array(Math.max(16, (h.typeLen / TYPE_HDR) | 0));
  let n = 0;
  for (let p = typeStart; p < typeEnd; ) {
    if (p + TYPE_HDR > typeEnd) throw new BtfError(`type ${startId + n}: truncated header at type offset ${p - typeStart}`);
    const info = view.getUint32(p + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const size = TYPE_HDR + extraSize(kind, vlen, startId + n);
    if (p + size > typeEnd) throw new BtfError(`type ${startId + n} (${BtfKind[kind]}): truncated, needs ${size} bytes`);
    if (n === offsets.length) {
      const grown = new Uint32Array(n * 2);
      grown.set(offsets);
      offsets = grown;
    }
    offsets[n++] = p;
    p += size;
  }
  offsets = offsets.subarray(0, n);
  const total = startId + n;
  const strTotal = startStr + h.strLen;

  // Pass 2: validate every type id and string offset the records hold.
  const checkType = (id: number, ref: number, what: string) => {
    if (ref >= total) throw new BtfError(`type ${id}: ${what} refers to type ${ref}, beyond the last type ${total - 1}`);
  };
  const checkStr = (id: number, off: number) => {
    if (off >= strTotal && off !== 0) throw new BtfError(`type ${id}: name offset ${off} beyond the string section (${strTotal} bytes)`);
  };
  for (let i = 0; i < n; i++) {
    const p = offsets[i]!;
    const id = startId + i;
    const info = view.getUint32(p + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const st = view.getUint32(p + 8, le);
    checkStr(id, view.getUint32(p, le));
    switch (kind) {
      case BtfKind.INT: {
        const e = view.getUint32(p + 12, le);
        const bits = e & 0xff;
        if (st === 0 || st > 16 || bits > st * 8 || ((e >>> 16) & 0xff) + bits > st * 8) {
          throw new BtfError(`type ${id}: bad INT size ${st} / bits ${bits}`);
        }
        break;
      }
      case BtfKind.PTR:
      case BtfKind.TYPEDEF:
      case BtfKind.VOLATILE:
      case BtfKind.CONST:
      case BtfKind.RESTRICT:
      case BtfKind.FUNC:
      case BtfKind.VAR:
      case BtfKind.TYPE_TAG:
      case BtfKind.DECL_TAG:
      case BtfKind.FUNC_PROTO:
        checkType(id, st, 'type');
        break;
      case BtfKind.ARRAY:
        checkType(id, view.getUint32(p + 12, le), 'element type');
        checkType(id, view.getUint32(p + 16, le), 'index type');
        break;
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        for (let j = 0, q = p + TYPE_HDR; j < vlen; j++, q += 12) {
          checkStr(id, view.getUint32(q, le));
          checkType(id, view.getUint32(q + 4, le), `member ${j}`);
        }
        break;
      case BtfKind.ENUM:
        for (let j = 0, q = p + TYPE_HDR; j < vlen; j++, q += 8) checkStr(id, view.getUint32(q, le));
        break;
      case BtfKind.ENUM64:
        for (let j = 0, q = p + TYPE_HDR; j < vlen; j++, q += 12) checkStr(id, view.getUint32(q, le));
        break;
      case BtfKind.DATASEC:
        for (let j = 0, q = p + TYPE_HDR; j < vlen; j++, q += 12) checkType(id, view.getUint32(q, le), `variable ${j}`);
        break;
    }
    if (kind === BtfKind.FUNC_PROTO) {
      for (let j = 0, q = p + TYPE_HDR; j < vlen; j++, q += 8) {
        checkStr(id, view.getUint32(q, le));
        checkType(id, view.getUint32(q + 4, le), `parameter ${j}`);
      }
    }
  }

  const source = new RawTypes(view, le, offsets, strings, startStr, base);
  return new Btf(source, strings, base, le);
}

function extraSize(kind: number, vlen: number, id: number): number {
  switch (kind) {
    case BtfKind.INT:
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      return 4;
    case BtfKind.PTR:
    case BtfKind.FWD:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.FUNC:
    case BtfKind.FLOAT:
    case BtfKind.TYPE_TAG:
      return 0;
    case BtfKind.ARRAY:
      return 12;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.DATASEC:
    case BtfKind.ENUM64:
      return 12 * vlen;
    case BtfKind.ENUM:
    case BtfKind.FUNC_PROTO:
      return 8 * vlen;
    default:
      throw new BtfError(`type ${id}: unknown BTF kind ${kind} (max ${BTF_KIND_MAX})`);
  }
}

/** String section; ASCII sections (all real ones) are decoded once and sliced. */
function makeStrings(sec: Uint8Array, base: Btf | undefined): StringTable {
  if (!base && sec.length > 0 && sec[0] !== 0) throw new BtfError('BTF string section does not start with an empty string');
  let ascii = true;
  for (let i = 0; i < sec.length; i++) {
    if (sec[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  const dec = new TextDecoder();
  if (ascii) {
    const all = dec.decode(sec);
    // one string object per offset: repeated names (member names, etc.) share it and its hash
    const interned = new Map<number, string>();
    return {
      length: sec.length,
      get(off: number): string {
        let s = interned.get(off);
        if (s !== undefined) return s;
        if (off >= sec.length || off < 0) throw new BtfError(`string offset ${off} beyond the string section (${sec.length} bytes)`);
        const end = all.indexOf('\0', off);
        s = all.slice(off, end < 0 ? all.length : end);
        interned.set(off, s);
        return s;
      },
    };
  }
  return {
    length: sec.length,
    get(off: number): string {
      if (off >= sec.length || off < 0) throw new BtfError(`string offset ${off} beyond the string section (${sec.length} bytes)`);
      let end = sec.indexOf(0, off);
      if (end < 0) end = sec.length;
      return dec.decode(sec.subarray(off, end));
    },
  };
}

/** Lazily decoded type records of one parsed blob. */
class RawTypes implements TypeSource {
  constructor(
    private readonly view: DataView,
    private readonly le: boolean,
    private readonly offsets: Uint32Array,
    private readonly strings: StringTable,
    private readonly startStr: number,
    private readonly base?: Btf,
  ) {}

  get count(): number {
    return this.offsets.length;
  }

  kind(i: number): BtfKind {
    return (this.view.getUint32(this.offsets[i]! + 4, this.le) >>> 24) & 0x1f;
  }

  name(i: number): string {
    return this.str(this.view.getUint32(this.offsets[i]!, this.le));
  }

  private str(off: number): string {
    if (off === 0) return '';
    if (off < this.startStr) return this.base!.string(off);
    return this.strings.get(off - this.startStr);
  }

  decode(i: number, id: number): BtfType {
    const v = this.view;
    const le = this.le;
    const p = this.offsets[i]!;
    const name = this.str(v.getUint32(p, le));
    const info = v.getUint32(p + 4, le);
    const kind = ((info >>> 24) & 0x1f) as BtfKind;
    const vlen = info & 0xffff;
    const kflag = (info & 0x80000000) !== 0;
    const st = v.getUint32(p + 8, le);
    const q = p + TYPE_HDR;
    switch (kind) {
      case BtfKind.INT: {
        const e = v.getUint32(q, le);
        return { kind, id, name, size: st, encoding: (e >>> 24) & 0x0f, bitOffset: (e >>> 16) & 0xff, bits: e & 0xff };
      }
      case BtfKind.PTR:
      case BtfKind.TYPEDEF:
        return { kind, id, name, type: st };
      case BtfKind.VOLATILE:
      case BtfKind.CONST:
      case BtfKind.RESTRICT:
        return { kind, id, name, type: st };
      case BtfKind.TYPE_TAG:
        return { kind, id, name, type: st, kindFlag: kflag };
      case BtfKind.ARRAY:
        return { kind, id, name, type: v.getUint32(q, le), indexType: v.getUint32(q + 4, le), nelems: v.getUint32(q + 8, le) };
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        const members: BtfMember[] = new Array(vlen);
        for (let j = 0; j < vlen; j++) {
          const r = q + 12 * j;
          const off = v.getUint32(r + 8, le);
          members[j] = {
            name: this.str(v.getUint32(r, le)),
            type: v.getUint32(r + 4, le),
            bitOffset: kflag ? off & 0xffffff : off,
            bitfieldSize: kflag ? off >>> 24 : 0,
          };
        }
        return { kind, id, name, size: st, members, kindFlag: kflag };
      }
      case BtfKind.ENUM: {
        const values = new Array(vlen);
        for (let j = 0; j < vlen; j++) {
          const r = q + 8 * j;
          values[j] = { name: this.str(v.getUint32(r, le)), value: kflag ? v.getInt32(r + 4, le) : v.getUint32(r + 4, le) };
        }
        return { kind, id, name, size: st, signed: kflag, values };
      }
      case BtfKind.ENUM64: {
        const values = new Array(vlen);
        for (let j = 0; j < vlen; j++) {
          const r = q + 12 * j;
          const u = (BigInt(v.getUint32(r + 8, le)) << 32n) | BigInt(v.getUint32(r + 4, le));
          values[j] = { name: this.str(v.getUint32(r, le)), value: kflag ? BigInt.asIntN(64, u) : u };
        }
        return { kind, id, name, size: st, signed: kflag, values };
      }
      case BtfKind.FWD:
        return { kind, id, name, union: kflag };
      case BtfKind.FUNC:
        return { kind, id, name, type: st, linkage: vlen };
      case BtfKind.FUNC_PROTO: {
        const params = new Array(vlen);
        for (let j = 0; j < vlen; j++) {
          const r = q + 8 * j;
          params[j] = { name: this.str(v.getUint32(r, le)), type: v.getUint32(r + 4, le) };
        }
        return { kind, id, name, returnType: st, params };
      }
      case BtfKind.VAR:
        return { kind, id, name, type: st, linkage: v.getUint32(q, le) };
      case BtfKind.DATASEC: {
        const vars = new Array(vlen);
        for (let j = 0; j < vlen; j++) {
          const r = q + 12 * j;
          vars[j] = { type: v.getUint32(r, le), offset: v.getUint32(r + 4, le), size: v.getUint32(r + 8, le) };
        }
        return { kind, id, name, size: st, vars };
      }
      case BtfKind.FLOAT:
        return { kind, id, name, size: st };
      case BtfKind.DECL_TAG:
        return { kind, id, name, type: st, componentIdx: v.getInt32(q, le), kindFlag: kflag };
      default:
        throw new BtfError(`type ${id}: unknown BTF kind ${kind}`);
    }
  }
}

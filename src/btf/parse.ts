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

/**
 * The type section as 32-bit words in host order: a view when the bytes are little-endian and
 * 4-byte aligned (the usual case: no copy), else a byte-swapped copy. Every field of a type record
 * is a whole 32-bit word, so the scans below read words and need no DataView.
 */
function typeWords(bytes: Uint8Array, start: number, len: number, le: boolean): Uint32Array {
  const n = len >>> 2;
  const at = bytes.byteOffset + start;
  if (le && HOST_LE && at % 4 === 0) return new Uint32Array(bytes.buffer, at, n);
  const view = new DataView(bytes.buffer, at, len);
  const w = new Uint32Array(n);
  for (let i = 0; i < n; i++) w[i] = view.getUint32(4 * i, le);
  return w;
}

const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Parse .BTF bytes; `base` for split BTF (module BTF on top of vmlinux). */
export function parseBtf(bytes: Uint8Array, base?: Btf): Btf {
  const h = parseBtfHeader(bytes);
  const le = h.littleEndian;
  const strings = makeStrings(bytes.subarray(h.hdrLen + h.strOff, h.hdrLen + h.strOff + h.strLen), base);
  const startStr = base ? base.stringsLength : 0;
  const startId = base ? base.length : 1;
  const typeStart = h.hdrLen + h.typeOff;
  const w = typeWords(bytes, typeStart, h.typeLen, le);
  const words = w.length; // a trailing partial word can only belong to a truncated record

  // Pass 1: record the offset (in words) of every type and its name offset.
  let offsets = new Uint32Array(Math.max(16, (words / 3) | 0));
  let n = 0;
  for (let p = 0; p * 4 < h.typeLen; ) {
    if (p + 3 > words) throw new BtfError(`type ${startId + n}: truncated header at type offset ${p * 4}`);
    const info = w[p + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const size = 3 + (extraSize(kind, info & 0xffff, startId + n) >>> 2);
    if (p + size > words) throw new BtfError(`type ${startId + n} (${BtfKind[kind]}): truncated, needs ${size * 4} bytes`);
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

  // Pass 2: validate every type id and string offset the records hold (so that lazy decoding can
  // trust them). Words, no closures: this runs over ~100k kernel types at every start.
  let badType = -1;
  let badRef = 0;
  let badWhat = '';
  let badStr = -1;
  let badOff = 0;
  for (let i = 0; i < n && badType < 0 && badStr < 0; i++) {
    const p = offsets[i]!;
    const info = w[p + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const st = w[p + 2]!;
    const nameOff = w[p]!;
    if (nameOff >= strTotal && nameOff !== 0) {
      badStr = i;
      badOff = nameOff;
      break;
    }
    const q = p + 3;
    switch (kind) {
      case BtfKind.INT: {
        const e = w[q]!;
        const bits = e & 0xff;
        if (st === 0 || st > 16 || bits > st * 8 || ((e >>> 16) & 0xff) + bits > st * 8) {
          throw new BtfError(`type ${startId + i}: bad INT size ${st} / bits ${bits}`);
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
        if (st >= total) (badType = i), (badRef = st), (badWhat = 'type');
        break;
      case BtfKind.ARRAY:
        if (w[q]! >= total) (badType = i), (badRef = w[q]!), (badWhat = 'element type');
        else if (w[q + 1]! >= total) (badType = i), (badRef = w[q + 1]!), (badWhat = 'index type');
        break;
      case BtfKind.FUNC_PROTO:
      case BtfKind.STRUCT:
      case BtfKind.UNION:
      case BtfKind.ENUM:
      case BtfKind.ENUM64: {
        if (kind === BtfKind.FUNC_PROTO && st >= total) {
          (badType = i), (badRef = st), (badWhat = 'type');
          break;
        }
        // vlen records that open with a name: btf_param (name, type), btf_member (name, type, offset),
        // btf_enum (name, value), btf_enum64 (name, two value halves)
        const typed = kind !== BtfKind.ENUM && kind !== BtfKind.ENUM64;
        const stride = kind === BtfKind.FUNC_PROTO || kind === BtfKind.ENUM ? 2 : 3;
        for (let j = 0, r = q; j < vlen; j++, r += stride) {
          const off = w[r]!;
          if (off >= strTotal && off !== 0) (badStr = i), (badOff = off);
          else if (typed && w[r + 1]! >= total) (badType = i), (badRef = w[r + 1]!), (badWhat = `${kind === BtfKind.FUNC_PROTO ? 'parameter' : 'member'} ${j}`);
          else continue;
          break;
        }
        break;
      }
      case BtfKind.DATASEC:
        for (let j = 0, r = q; j < vlen; j++, r += 3) {
          if (w[r]! >= total) (badType = i), (badRef = w[r]!), (badWhat = `variable ${j}`);
          else continue;
          break;
        }
        break;
    }
  }
  if (badStr >= 0) throw new BtfError(`type ${startId + badStr}: name offset ${badOff} beyond the string section (${strTotal} bytes)`);
  if (badType >= 0) throw new BtfError(`type ${startId + badType}: ${badWhat} refers to type ${badRef}, beyond the last type ${total - 1}`);

  const source = new RawTypes(w, offsets, strings, startStr, base);
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

/**
 * String section. A small one (an object's) is decoded in one go and sliced; a big one (a kernel's
 * 2.5 MB, mostly never needed) is decoded string by string when asked for. Either way a string is
 * made once per offset and interned, so repeated names (member names, etc.) share one string.
 */
function makeStrings(sec: Uint8Array, base: Btf | undefined): StringTable {
  if (!base && sec.length > 0 && sec[0] !== 0) throw new BtfError('BTF string section does not start with an empty string');
  const interned = new Map<number, string>();
  let dec: InstanceType<typeof TextDecoder> | undefined;
  // Any byte above 0x7f decodes to a non-ASCII character: then byte offsets are not string indexes.
  let all = sec.length <= SMALL_STRINGS ? (dec = new TextDecoder()).decode(sec) : undefined;
  if (all !== undefined && /[^\0-\x7f]/.test(all)) all = undefined;
  return {
    length: sec.length,
    bytes: sec,
    get(off: number): string {
      const known = interned.get(off);
      if (known !== undefined) return known;
      if (off >= sec.length || off < 0 || !Number.isInteger(off)) throw new BtfError(`string offset ${off} beyond the string section (${sec.length} bytes)`);
      let s: string;
      if (all !== undefined) {
        const end = all.indexOf('\0', off);
        s = all.slice(off, end < 0 ? all.length : end);
      } else {
        let end = sec.indexOf(0, off);
        if (end < 0) end = sec.length;
        let ascii = end - off < 256;
        for (let i = off; ascii && i < end; i++) if (sec[i]! > 0x7f) ascii = false;
        if (ascii) {
          s = '';
          for (let i = off; i < end; i++) s += String.fromCharCode(sec[i]!);
        } else s = (dec ??= new TextDecoder()).decode(sec.subarray(off, end));
      }
      interned.set(off, s);
      return s;
    },
  };
}

const SMALL_STRINGS = 256 * 1024;

/** The bytes of `s` in UTF-8 (names are ASCII in practice: no encoder needed then). */
function utf8(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return new TextEncoder().encode(s);
    out[i] = c;
  }
  return out;
}

/** Lazily decoded type records of one parsed blob: `w` the type section's words, `offsets` each type's first word. */
class RawTypes implements TypeSource {
  constructor(
    private readonly w: Uint32Array,
    private readonly offsets: Uint32Array,
    private readonly strings: StringTable,
    private readonly startStr: number,
    private readonly base?: Btf,
  ) {}

  get count(): number {
    return this.offsets.length;
  }

  kind(i: number): BtfKind {
    return (this.w[this.offsets[i]! + 1]! >>> 24) & 0x1f;
  }

  name(i: number): string {
    return this.str(this.w[this.offsets[i]!]!);
  }

  /**
   * Local indexes of the types named `name` (prefix: whose name starts with it): one pass over the
   * types comparing the bytes at each name offset, as libbpf's btf__find_by_name does; no strings
   * are made and no index built.
   */
  named(name: string, prefix: boolean): number[] | undefined {
    if (!name) return undefined;
    const pat = utf8(name);
    const sec = this.strings.bytes;
    if (!sec) return undefined;
    const w = this.w;
    const offsets = this.offsets;
    const n = offsets.length;
    const startStr = this.startStr;
    const len = pat.length;
    const first = pat[0]!;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      let o = w[offsets[i]!]!;
      if (o < startStr) {
        // split BTF: a name in the base's strings (module BTF is small; compare as strings)
        if (o !== 0) {
          const s = this.base!.string(o);
          if (prefix ? s.startsWith(name) : s === name) out.push(i);
        }
        continue;
      }
      o -= startStr;
      if (sec[o] !== first) continue;
      let k = 1;
      while (k < len && sec[o + k] === pat[k]) k++;
      if (k < len) continue;
      if (prefix || o + k >= sec.length || sec[o + k] === 0) out.push(i);
    }
    return out;
  }

  private str(off: number): string {
    if (off === 0) return '';
    if (off < this.startStr) return this.base!.string(off);
    return this.strings.get(off - this.startStr);
  }

  decode(i: number, id: number): BtfType {
    const w = this.w;
    const p = this.offsets[i]!;
    const name = this.str(w[p]!);
    const info = w[p + 1]!;
    const kind = ((info >>> 24) & 0x1f) as BtfKind;
    const vlen = info & 0xffff;
    const kflag = (info & 0x80000000) !== 0;
    const st = w[p + 2]!;
    const q = p + 3;
    switch (kind) {
      case BtfKind.INT: {
        const e = w[q]!;
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
        return { kind, id, name, type: w[q]!, indexType: w[q + 1]!, nelems: w[q + 2]! };
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        const members: BtfMember[] = new Array(vlen);
        for (let j = 0; j < vlen; j++) {
          const r = q + 3 * j;
          const off = w[r + 2]!;
          members[j] = {
            name: this.str(w[r]!),
            type: w[r + 1]!,
            bitOffset: kflag ? off & 0xffffff : off,
            bitfieldSize: kflag ? off >>> 24 : 0,
          };
        }
        return { kind, id, name, size: st, members, kindFlag: kflag };
      }
      case BtfKind.ENUM: {
        const values = new Array(vlen);
        for (let j = 0; j < vlen; j++) {
          const r = q + 2 * j;
          values[j] = { name: this.str(w[r]!), value: kflag ? w[r + 1]! | 0 : w[r + 1]! };
        }
        return { kind, id, name, size: st, signed: kflag, values };
      }
      case BtfKind.ENUM64: {
        const values = new Array(vlen);
        for (let j = 0; j < vlen; j++) {
          const r = q + 3 * j;
          const u = (BigInt(w[r + 2]!) << 32n) | BigInt(w[r + 1]!);
          values[j] = { name: this.str(w[r]!), value: kflag ? BigInt.asIntN(64, u) : u };
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
          const r = q + 2 * j;
          params[j] = { name: this.str(w[r]!), type: w[r + 1]! };
        }
        return { kind, id, name, returnType: st, params };
      }
      case BtfKind.VAR:
        return { kind, id, name, type: st, linkage: w[q]! };
      case BtfKind.DATASEC: {
        const vars = new Array(vlen);
        for (let j = 0; j < vlen; j++) {
          const r = q + 3 * j;
          vars[j] = { type: w[r]!, offset: w[r + 1]!, size: w[r + 2]! };
        }
        return { kind, id, name, size: st, vars };
      }
      case BtfKind.FLOAT:
        return { kind, id, name, size: st };
      case BtfKind.DECL_TAG:
        return { kind, id, name, type: st, componentIdx: w[q]! | 0, kindFlag: kflag };
      default:
        throw new BtfError(`type ${id}: unknown BTF kind ${kind}`);
    }
  }
}

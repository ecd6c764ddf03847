// A little-endian C struct being filled in or read back (a member of union bpf_attr, the *_info
// structs, perf_event_attr), by field name through a layout generated from the kernel's BTF
// (src/uapi/bpf-abi.ts, perf-abi.ts): no offsets typed in by hand. Pointer fields take bytes and
// store their address (addressOf); the caller keeps those bytes referenced until the system call
// returns.
import type { Field, FieldName, Layout } from '../uapi/layout.js';
import { native } from './native.js';

export class Struct<L extends Layout> {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  /** `size`: the bytes passed to the kernel, when not the whole struct of the generating kernel */
  constructor(
    readonly layout: L,
    size = layout.sizeof,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  private field(name: FieldName<L>): Field {
    const f = this.layout.fields[name];
    if (!f) throw new Error(`no field ${name} in this layout`);
    if (f.offset + f.size > this.bytes.length) throw new RangeError(`field ${name} lies beyond the ${this.bytes.length} bytes passed`);
    return f;
  }

  /** Byte offset of a field, for code that writes it again and again (prepared system calls). */
  offset(name: FieldName<L>): number {
    return this.field(name).offset;
  }

  /** An integer field (a bitfield too); 64-bit fields take a bigint or a number. */
  set(name: FieldName<L>, v: number | bigint): this {
    const f = this.field(name);
    if (f.bits !== undefined) {
      const mask = (1n << BigInt(f.bits)) - 1n;
      const word = this.word(f) & ~(mask << BigInt(f.bit!));
      return this.putWord(f, word | ((BigInt(v) & mask) << BigInt(f.bit!)));
    }
    switch (f.size) {
      case 1:
        this.view.setUint8(f.offset, Number(v) & 0xff);
        break;
      case 2:
        this.view.setUint16(f.offset, Number(v) & 0xffff, true);
        break;
      case 4:
        this.view.setUint32(f.offset, Number(v) >>> 0, true);
        break;
      case 8:
        this.view.setBigUint64(f.offset, BigInt.asUintN(64, BigInt(v)), true);
        break;
      default:
        throw new Error(`field ${name} is ${f.size} bytes, not an integer`);
    }
    return this;
  }

  /** A pointer field: the address of `b`'s first byte (0 for null/empty). */
  ptr(name: FieldName<L>, b: ArrayBufferView | null | undefined): this {
    return this.set(name, b && b.byteLength > 0 ? native().addressOf(b) : 0n);
  }

  /** A fixed char[] field, NUL-padded (truncated to its length - 1 bytes). */
  str(name: FieldName<L>, s: string): this {
    const f = this.field(name);
    const enc = new TextEncoder().encode(s);
    this.bytes.fill(0, f.offset, f.offset + f.size);
    this.bytes.set(enc.subarray(0, f.size - 1), f.offset);
    return this;
  }

  /** An integer field of up to 32 bits (or a bitfield), signed where the kernel declares it so. */
  get(name: FieldName<L>): number {
    const f = this.field(name);
    if (f.bits !== undefined) return Number((this.word(f) >> BigInt(f.bit!)) & ((1n << BigInt(f.bits)) - 1n));
    switch (f.size) {
      case 1:
        return f.signed ? this.view.getInt8(f.offset) : this.view.getUint8(f.offset);
      case 2:
        return f.signed ? this.view.getInt16(f.offset, true) : this.view.getUint16(f.offset, true);
      case 4:
        return f.signed ? this.view.getInt32(f.offset, true) : this.view.getUint32(f.offset, true);
    }
    throw new Error(`field ${name} is ${f.size} bytes: read it with get64() or bytesOf()`);
  }

  /** A 64-bit integer field. */
  get64(name: FieldName<L>): bigint {
    const f = this.field(name);
    if (f.size !== 8 || f.bits !== undefined) throw new Error(`field ${name} is not a 64-bit integer`);
    return f.signed ? this.view.getBigInt64(f.offset, true) : this.view.getBigUint64(f.offset, true);
  }

  /** A char[] field's text, up to its first NUL. */
  getStr(name: FieldName<L>): string {
    return cString(this.bytesOf(name));
  }

  /** The bytes of a field (an array such as a program's tag), as a view into the struct. */
  bytesOf(name: FieldName<L>): Uint8Array {
    const f = this.field(name);
    return this.bytes.subarray(f.offset, f.offset + f.size);
  }

  private word(f: Field): bigint {
    switch (f.size) {
      case 1:
        return BigInt(this.view.getUint8(f.offset));
      case 2:
        return BigInt(this.view.getUint16(f.offset, true));
      case 4:
        return BigInt(this.view.getUint32(f.offset, true));
      default:
        return this.view.getBigUint64(f.offset, true);
    }
  }

  private putWord(f: Field, w: bigint): this {
    switch (f.size) {
      case 1:
        this.view.setUint8(f.offset, Number(w));
        break;
      case 2:
        this.view.setUint16(f.offset, Number(w), true);
        break;
      case 4:
        this.view.setUint32(f.offset, Number(w), true);
        break;
      default:
        this.view.setBigUint64(f.offset, w, true);
    }
    return this;
  }
}

/** The text up to the first NUL. */
export function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

/** NUL-terminated UTF-8 bytes, for path and name pointers. */
export function cStringBytes(s: string): Uint8Array {
  const enc = new TextEncoder().encode(s);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

// A little-endian C struct being filled in or read back (union bpf_attr, perf_event_attr, the
// *_info structs). Pointer fields take bytes and store their address (addressOf); the caller keeps
// those bytes referenced until the system call returns.
import { native } from './native.js';

export class Struct {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(off: number, v: number): this {
    this.bytes[off] = v;
    return this;
  }
  u16(off: number, v: number): this {
    this.view.setUint16(off, v, true);
    return this;
  }
  u32(off: number, v: number): this {
    this.view.setUint32(off, v >>> 0, true);
    return this;
  }
  i32(off: number, v: number): this {
    this.view.setInt32(off, v, true);
    return this;
  }
  u64(off: number, v: bigint | number): this {
    this.view.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
    return this;
  }
  /** A pointer field: the address of `b`'s first byte (0 for null/empty). */
  ptr(off: number, b: ArrayBufferView | null | undefined): this {
    this.view.setBigUint64(off, b && b.byteLength > 0 ? native().addressOf(b) : 0n, true);
    return this;
  }
  /** A fixed char[len] field, NUL-padded (truncated to len-1 bytes). */
  str(off: number, len: number, s: string): this {
    const enc = new TextEncoder().encode(s);
    this.bytes.fill(0, off, off + len);
    this.bytes.set(enc.subarray(0, len - 1), off);
    return this;
  }

  getU32(off: number): number {
    return this.view.getUint32(off, true);
  }
  getI32(off: number): number {
    return this.view.getInt32(off, true);
  }
  getU64(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }
  getStr(off: number, len: number): string {
    return cString(this.bytes.subarray(off, off + len));
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

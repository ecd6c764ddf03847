// How a map key/value (or a ring-buffer record) turns into a JS value and back. The BTF engineer's
// compileCodec(btf, typeId) produces this same shape from a type; these are the plain ones.
export interface Codec<T> {
  /** size in bytes */
  size: number;
  decode(view: DataView, off: number): T;
  encode(value: T, view: DataView, off: number): void;
}

export const u8: Codec<number> = { size: 1, decode: (v, o) => v.getUint8(o), encode: (x, v, o) => v.setUint8(o, x) };
export const u16: Codec<number> = { size: 2, decode: (v, o) => v.getUint16(o, true), encode: (x, v, o) => v.setUint16(o, x, true) };
export const u32: Codec<number> = { size: 4, decode: (v, o) => v.getUint32(o, true), encode: (x, v, o) => v.setUint32(o, x, true) };
export const i32: Codec<number> = { size: 4, decode: (v, o) => v.getInt32(o, true), encode: (x, v, o) => v.setInt32(o, x, true) };
export const u64: Codec<bigint> = { size: 8, decode: (v, o) => v.getBigUint64(o, true), encode: (x, v, o) => v.setBigUint64(o, x, true) };
export const i64: Codec<bigint> = { size: 8, decode: (v, o) => v.getBigInt64(o, true), encode: (x, v, o) => v.setBigInt64(o, x, true) };
/** A u64 read as a JS number (exact below 2^53: counters, timestamps in ns for ~104 days). */
export const u64n: Codec<number> = {
  size: 8,
  decode: (v, o) => v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x100000000,
  encode: (x, v, o) => {
    v.setUint32(o, x % 0x100000000, true);
    v.setUint32(o + 4, Math.floor(x / 0x100000000), true);
  },
};

/** Raw bytes of a fixed size (decode copies). */
export function bytes(size: number): Codec<Uint8Array> {
  return {
    size,
    // (a typed array's slice, not its buffer's: small copies then live on V8's heap, while each
    // ArrayBuffer.slice allocates a backing store off it, which cost microseconds apiece in GC)
    decode: (v, o) => new Uint8Array(v.buffer, v.byteOffset + o, size).slice(),
    encode: (x, v, o) => {
      if (x.length !== size) throw new RangeError(`expected ${size} bytes, got ${x.length}`);
      new Uint8Array(v.buffer, v.byteOffset + o, size).set(x);
    },
  };
}

/** NUL-padded string in a char[size] field. */
export function cstring(size: number): Codec<string> {
  return {
    size,
    decode: (v, o) => {
      const b = new Uint8Array(v.buffer, v.byteOffset + o, size);
      const end = b.indexOf(0);
      return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
    },
    encode: (x, v, o) => {
      const b = new Uint8Array(v.buffer, v.byteOffset + o, size);
      b.fill(0);
      b.set(new TextEncoder().encode(x).subarray(0, size - 1));
    },
  };
}

/** struct bpf_lpm_trie_key: u32 prefixlen followed by the data bytes. */
export interface LpmKey {
  prefixLen: number;
  data: Uint8Array;
}
export function lpmKey(dataSize: number): Codec<LpmKey> {
  return {
    size: 4 + dataSize,
    decode: (v, o) => ({ prefixLen: v.getUint32(o, true), data: new Uint8Array(v.buffer.slice(v.byteOffset + o + 4, v.byteOffset + o + 4 + dataSize)) }),
    encode: (x, v, o) => {
      v.setUint32(o, x.prefixLen, true);
      const b = new Uint8Array(v.buffer, v.byteOffset + o + 4, dataSize);
      b.fill(0);
      b.set(x.data.subarray(0, dataSize));
    },
  };
}

// Reading a record in place, for the tools whose records arrive by the ten thousand per second:
// member offsets of a struct taken from the object's BTF (never written by hand), and field readers
// over the ring's own DataView. The generic BTF codec builds a plain object first (byte arrays as
// arrays of numbers) that the front end then turns into its event: twice the work and garbage.
import type { CollectionSpec } from '../../object/spec.js';
import { BtfKind } from '../../btf/types.js';
import { readString } from '../../btf/codec.js';

/** Byte offset and size of each named member of `struct` (a top-level, non-bitfield member). */
export function memberOffsets<K extends string>(coll: { spec: CollectionSpec }, struct: string, names: readonly K[]): Record<K, { offset: number; size: number }> {
  const btf = coll.spec.btf;
  if (!btf) throw new Error(`object ${coll.spec.name} has no BTF: cannot lay out struct ${struct}`);
  const t = btf.findByName(struct, BtfKind.STRUCT);
  if (!t || t.kind !== BtfKind.STRUCT) throw new Error(`no struct ${struct} in the BTF of ${coll.spec.name}`);
  const out = {} as Record<K, { offset: number; size: number }>;
  for (const name of names) {
    const m = t.members.find((x) => x.name === name);
    if (!m || m.bitfieldSize || m.bitOffset % 8) throw new Error(`struct ${struct} of ${coll.spec.name} has no byte-aligned member ${name}`);
    const offset = m.bitOffset / 8;
    const size = btf.sizeof(m.type);
    if (offset + size > t.size) throw new Error(`member ${name} of struct ${struct} lies outside it`);
    out[name] = { offset, size };
  }
  return out;
}

/** The NUL-terminated string in char[max] at `off`: what the BTF codecs read a char array with. */
export const cStringAt: (v: DataView, off: number, max: number) => string = readString;

/** A u64 as a JS number (exact below 2^53: microsecond timestamps, counters). */
export function u64At(v: DataView, off: number): number {
  return v.getUint32(off, true) + v.getUint32(off + 4, true) * 0x100000000;
}

/** The bytes at `off` as a view into the same memory (valid as long as the view's memory is). */
export function bytesAt(v: DataView, off: number, n: number): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset + off, n);
}

/**
 * A value made from `size` bytes of a record (a multiple of 4), made again only when they differ
 * from the previous call's: for fields that repeat from record to record (a process name, an
 * address), so the same string or bigint is handed out instead of a new one per event.
 */
export class SameBytes<T> {
  private readonly last: Uint32Array;
  private value: T | undefined;
  private valid = false;

  constructor(size: number, private readonly make: (v: DataView, off: number) => T) {
    if (size <= 0 || size % 4) throw new RangeError(`SameBytes: ${size} is not a positive multiple of 4`);
    this.last = new Uint32Array(size / 4);
  }

  get(v: DataView, off: number): T {
    const last = this.last;
    let same = this.valid;
    for (let i = 0; i < last.length; i++) {
      const w = v.getUint32(off + 4 * i, true);
      if (w !== last[i]) {
        same = false;
        last[i] = w;
      }
    }
    if (!same) {
      this.value = this.make(v, off);
      this.valid = true;
    }
    return this.value as T;
  }
}

// Bounds-checked reading of a DWARF section: every read names the section and offset it would pass
// the end of, so truncated input is an error that says where, never a RangeError or garbage.

/** Malformed, truncated or unsupported DWARF. */
export class DwarfError extends Error {
  override name = 'DwarfError';
}

const hex = (n: number): string => `0x${n.toString(16)}`;

export class Cursor {
  private readonly view: DataView;

  /** `pos` and `end` are offsets in `bytes` (a section); `what` names the section in errors. */
  constructor(readonly bytes: Uint8Array, public pos: number, readonly end: number, readonly what: string) {
    if (end > bytes.length || pos < 0 || pos > end) throw new DwarfError(`${what}: range ${hex(pos)}..${hex(end)} is outside the section (${bytes.length} bytes)`);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.end - this.pos;
  }

  need(n: number, what = 'data'): void {
    if (this.pos + n > this.end) throw new DwarfError(`${this.what}: truncated ${what} at ${hex(this.pos)} (${n} bytes wanted, ${this.end - this.pos} left)`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  /** A fixed-size little-endian value read by `read` at the cursor, which then moves past it. */
  private fixed<T>(n: number, read: (view: DataView, at: number) => T): T {
    this.need(n);
    const v = read(this.view, this.pos);
    this.pos += n;
    return v;
  }
  u16(): number {
    return this.fixed(2, (v, at) => v.getUint16(at, true));
  }
  u24(): number {
    return this.fixed(3, (v, at) => v.getUint16(at, true) | (v.getUint8(at + 2) << 16));
  }
  u32(): number {
    return this.fixed(4, (v, at) => v.getUint32(at, true));
  }
  u64(): bigint {
    return this.fixed(8, (v, at) => v.getBigUint64(at, true));
  }
  /** A 64-bit value that must fit a JavaScript number (an offset or a size). */
  u64n(what: string): number {
    const at = this.pos;
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DwarfError(`${this.what}: ${what} at ${hex(at)} is too large (${v})`);
    return Number(v);
  }
  /** An offset of the unit's format: 4 bytes (32-bit DWARF) or 8 (64-bit DWARF). */
  offset(size: 4 | 8, what = 'offset'): number {
    return size === 4 ? this.u32() : this.u64n(what);
  }
  /** Unsigned LEB128 (DWARF 5 section 7.6); values past 2^53 are refused rather than rounded. */
  uleb(): number {
    const at = this.pos;
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) break;
      mul *= 128;
      if (mul > 2 ** 56) throw new DwarfError(`${this.what}: LEB128 at ${hex(at)} is too long`);
    }
    if (v > Number.MAX_SAFE_INTEGER) throw new DwarfError(`${this.what}: LEB128 at ${hex(at)} is too large`);
    return v;
  }
  /** An attribute's LEB128 value (DW_FORM_udata/sdata): a bigint past 2^53 (64-bit enumerators, `-1` bounds), up to 128 bits. */
  lebValue(signed: boolean): number | bigint {
    const v = this.lebBig(signed, 133n, 'longer than 128 bits');
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }
  /** Signed LEB128. */
  sleb(): number {
    const at = this.pos;
    const v = this.lebBig(true, 70n, 'too long');
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new DwarfError(`${this.what}: LEB128 at ${hex(at)} is too large`);
    return Number(v);
  }
  /** A LEB128 of at most `maxShift` bits' worth of 7-bit groups, exactly, as a bigint. */
  private lebBig(signed: boolean, maxShift: bigint, tooLong: string): bigint {
    const at = this.pos;
    let v = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.u8();
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (shift > maxShift) throw new DwarfError(`${this.what}: LEB128 at ${hex(at)} is ${tooLong}`);
    } while (b & 0x80);
    return signed && b & 0x40 ? v - (1n << shift) : v;
  }
  bytesOf(n: number): Uint8Array {
    this.need(n, 'block');
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** A NUL-terminated string. */
  cstr(): string {
    const at = this.pos;
    const nul = this.bytes.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) throw new DwarfError(`${this.what}: string at ${hex(at)} has no terminating NUL`);
    this.pos = nul + 1;
    return decoder.decode(this.bytes.subarray(at, nul));
  }
}

const decoder = new TextDecoder();

/** The NUL-terminated string at `offset` of a string section (.debug_str, .debug_line_str). */
export function stringAt(section: Uint8Array | undefined, offset: number, what: string): string {
  if (!section) throw new DwarfError(`${what}: a string refers to the section, which the file does not have`);
  if (offset >= section.length) throw new DwarfError(`${what}: string offset ${hex(offset)} is past the section's end (${section.length} bytes)`);
  return new Cursor(section, offset, section.length, what).cstr();
}

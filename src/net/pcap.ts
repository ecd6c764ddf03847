// Classic pcap files (read and write) and pcapng (read): the formats tcpdump and Wireshark use.
// Pure: bytes in, values out. Both byte orders and both timestamp resolutions (microsecond magic
// 0xa1b2c3d4, nanosecond magic 0xa1b23c4d) are read; files are written little-endian.
// Timestamps are kept as seconds + nanoseconds.
// What is read is what libpcap 1.10 reads: the versions it accepts (pcap 2.0-2.4 with its
// length-swapping quirks of 2.0-2.3, pcapng 1.0 and 1.2), records cut to the snapshot length,
// pcapng interfaces that must agree on link type and snapshot length, and its error messages.

export const LINKTYPE_ETHERNET = 1;
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Alexey Kuznetzov's patched tcpdump: 24-byte record headers. */
export const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
/**
 * libpcap's largest snapshot length for the link types tsbpf reads (MAXIMUM_SNAPLEN): a record
 * longer than this is corruption, and a header snapshot length of 0 or more means this.
 */
export const MAX_SNAPLEN = 262144;

export class PcapFormatError extends Error {
  constructor(
    message: string,
    /** byte offset in the file where the problem is */
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
    this.name = 'PcapFormatError';
  }
}

export interface PcapHeader {
  /** LINKTYPE_ value (FCS-length bits removed); for pcapng, the first interface's */
  linktype: number;
  /** the snapshot length records are cut to (as libpcap reads it: 0 or too large → MAX_SNAPLEN) */
  snaplen: number;
  nanosecond: boolean;
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  format: 'pcap' | 'pcapng';
}

export interface PcapRecord {
  /** seconds since the epoch */
  sec: number;
  /** nanoseconds within the second */
  nsec: number;
  /** bytes captured (data.length) */
  caplen: number;
  /** length of the packet on the wire */
  wirelen: number;
  data: Uint8Array;
}

/** Read every record of a pcap or pcapng file. */
export function readPcap(bytes: Uint8Array): { header: PcapHeader; records: PcapRecord[] } {
  const r = new PcapReader(bytes);
  const records: PcapRecord[] = [];
  while (r.next()) records.push(r.record());
  return { header: r.header, records };
}

/**
 * A cursor over a capture file that does not allocate per packet: after next() returns true,
 * `start`, `caplen`, `wirelen`, `sec`, `nsec` describe the current record (data at bytes[start..]).
 */
export class PcapReader {
  readonly header: PcapHeader;
  start = 0;
  caplen = 0;
  wirelen = 0;
  /** index of the current record, from 0 */
  index = -1;
  private pos: number;
  private view: DataView;
  /** set when next() stopped at a record that continues past the end of `bytes` (partial mode) */
  incomplete = false;
  private le = true;
  /** offset of the current record's header (classic pcap) */
  private rec = 0;
  /** classic pcap: bytes of a record header (16, or 24 for Kuznetzov's format) */
  private recHeader = 16;
  /** classic pcap before 2.4 stored caplen and wirelen the other way round (always, or when caplen > wirelen) */
  private swapLengths: 'no' | 'yes' | 'maybe' = 'no';
  /**
   * The current record is stored exactly as a little-endian microsecond pcap file of this
   * reader's snapshot length would store it (16-byte header, lengths as read, not cut), so it can
   * be copied as it is.
   */
  copyable = false;
  /** the snapshot length (header.snaplen, read on every record) */
  private snap = MAX_SNAPLEN;
  /** records need oddRecord(): swapped lengths or Kuznetzov's longer headers */
  private odd = false;
  private ngSec = 0;
  private readonly ng: boolean;
  private ngNsec = 0;
  // pcapng: per-interface link type and timestamp resolution (units per second)
  private ifaces: { linktype: number; snaplen: number; tsUnits: bigint }[] = [];

  /**
   * @param partial `bytes` may end inside a record (a chunk of a larger file): next() then returns
   *   false with `incomplete` set instead of throwing; continue with refill().
   */
  constructor(
    public bytes: Uint8Array,
    private partial = false,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 4) throw new PcapFormatError(`not a capture file: only ${bytes.length} bytes`, 0);
    const magicLE = this.view.getUint32(0, true);
    if (magicLE === PCAPNG_SHB) {
      this.header = this.pcapngStart();
      this.ng = true;
      this.pos = 0;
      return;
    }
    const magicBE = this.view.getUint32(0, false);
    const magics = [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_KUZNETZOV];
    let magic: number;
    if (magics.includes(magicLE)) {
      this.le = true;
      magic = magicLE;
    } else if (magics.includes(magicBE)) {
      this.le = false;
      magic = magicBE;
    } else {
      throw new PcapFormatError(`not a pcap or pcapng file (magic 0x${magicBE.toString(16).padStart(8, '0')})`, 0);
    }
    const nanosecond = magic === PCAP_MAGIC_NS;
    if (bytes.length < 24) throw new PcapFormatError(`truncated pcap file header: ${bytes.length} of 24 bytes`, 0);
    const versionMajor = this.view.getUint16(4, this.le);
    const versionMinor = this.view.getUint16(6, this.le);
    if (versionMajor < 2) throw new PcapFormatError('archaic pcap savefile format', 4);
    if (!((versionMajor === 2 && versionMinor <= 4) || (versionMajor === 543 && versionMinor === 0))) {
      throw new PcapFormatError(`unsupported pcap savefile version ${versionMajor}.${versionMinor}`, 4);
    }
    this.swapLengths = versionMajor === 543 || versionMinor < 3 ? 'yes' : versionMinor === 3 ? 'maybe' : 'no';
    let snaplen = this.view.getUint32(16, this.le);
    if (snaplen === 0 || snaplen > MAX_SNAPLEN) snaplen = MAX_SNAPLEN;
    if (magic === PCAP_MAGIC_KUZNETZOV) {
      // libpcap reads these records with 8 more header bytes, and allows 14 more data bytes
      this.recHeader = 24;
      snaplen += 14;
    }
    const linktype = this.view.getUint32(20, this.le) & 0x03ffffff;
    this.header = { linktype, snaplen, nanosecond, littleEndian: this.le, versionMajor, versionMinor, format: 'pcap' };
    this.snap = snaplen;
    this.odd = this.swapLengths !== 'no' || this.recHeader !== 16;
    this.ng = false;
    this.pos = 24;
  }

  /** Byte offset (in `bytes`) of the first byte not yet consumed. */
  get offset(): number {
    return this.pos;
  }

  /**
   * Partial mode: continue with the next chunk, which must start with the bytes from `offset` on of
   * the previous one (the unfinished record).
   */
  refill(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.incomplete = false;
  }

  /** Advance to the next record; false at the end of the file. Throws PcapFormatError on damage. */
  next(): boolean {
    if (this.ng) return this.nextNg();
    // the hot path, kept small enough for V8 to inline into the caller's loop: a whole 16-byte
    // record within the snapshot length; everything else goes to oddRecord()
    const p = this.pos;
    const end = this.bytes.length;
    if (p + 16 > end || this.odd) return this.oddRecord(p, end);
    const caplen = this.u32(p + 8);
    const next = p + 16 + caplen;
    if (caplen > this.snap || next > end) return this.oddRecord(p, end);
    this.rec = p;
    this.start = p + 16;
    this.caplen = caplen;
    this.wirelen = this.u32(p + 12);
    this.copyable = true;
    this.pos = next;
    this.index++;
    return true;
  }

  private oddRecord(p: number, end: number): boolean {
    if (p === end) return false;
    const h = this.recHeader;
    if (p + h > end) {
      if (this.partial) return this.stop();
      throw new PcapFormatError(`truncated dump file; tried to read ${h} header bytes, only got ${end - p}`, p);
    }
    let caplen = this.u32(p + 8);
    let wirelen = this.u32(p + 12);
    const swap = this.swapLengths === 'yes' || (this.swapLengths === 'maybe' && caplen > wirelen);
    if (swap) [caplen, wirelen] = [wirelen, caplen];
    if (caplen > MAX_SNAPLEN) throw new PcapFormatError(`invalid packet capture length ${caplen}, bigger than snaplen of ${this.snap}`, p + 8);
    // a record longer than the snapshot length: libpcap keeps the first snaplen bytes
    const keep = caplen > this.snap ? this.snap : caplen;
    if (p + h + caplen > end) {
      if (this.partial) return this.stop();
      if (p + h + keep > end) throw new PcapFormatError(`truncated dump file; tried to read ${keep} captured bytes, only got ${end - p - h}`, p + h);
      throw new PcapFormatError(`truncated dump file; tried to read ${caplen - keep} bytes past the snapshot length, only got ${end - p - h - keep}`, p + h + keep);
    }
    this.rec = p;
    this.start = p + h;
    this.caplen = keep;
    this.wirelen = wirelen;
    this.copyable = h === 16 && !swap && keep === caplen;
    this.pos = p + h + caplen;
    this.index++;
    return true;
  }

  /** Partial mode: there is no more input; next() now reports an unfinished record as damage. */
  endOfInput(): void {
    this.partial = false;
    this.incomplete = false;
  }

  private stop(): false {
    this.incomplete = true;
    return false;
  }

  /** Offset in `bytes` of the current record's 16-byte header (classic pcap files). */
  get recordOffset(): number {
    return this.rec;
  }

  /** seconds since the epoch of the current record */
  get sec(): number {
    return this.ng ? this.ngSec : this.secAt(this.rec);
  }

  /** nanoseconds within the second of the current record */
  get nsec(): number {
    return this.ng ? this.ngNsec : this.nsecAt(this.rec);
  }

  /**
   * The records are all plain: classic pcap, little-endian, 16-byte headers with the lengths in
   * order (what next()'s hot path reads; others may still be cut to the snapshot length or run past
   * the end of the bytes). Such records can be walked without the reader: see recordAt and skip.
   */
  get plainRecords(): boolean {
    return !this.ng && !this.odd && this.le;
  }

  /** Make the plain record at `rec` (a record offset of these bytes) the current one; pos and index stay. */
  recordAt(rec: number): void {
    this.rec = rec;
    this.start = rec + 16;
    this.caplen = this.u32(rec + 8);
    this.wirelen = this.u32(rec + 12);
    this.copyable = true;
  }

  /** Go on reading at byte `pos`, `records` records further (walked by someone else). */
  skip(pos: number, records: number): void {
    this.pos = pos;
    this.index += records;
  }

  /** Classic pcap: the seconds of the record whose header is at `rec` (a recordOffset of this chunk). */
  secAt(rec: number): number {
    return this.u32(rec);
  }

  /** Classic pcap: the nanoseconds of the record whose header is at `rec`. */
  nsecAt(rec: number): number {
    const frac = this.u32(rec + 4);
    return this.header.nanosecond ? frac : frac * 1000;
  }

  /** pcapng (whose timestamps depend on the interface): secAt and nsecAt do not apply. */
  get pcapng(): boolean {
    return this.ng;
  }

  /** A 32-bit field of a classic pcap file, in the file's byte order (plain byte arithmetic: the hot path). */
  private u32(p: number): number {
    const b = this.bytes;
    return this.le
      ? (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0
      : ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** The current record as an object (data is a view into the file bytes). */
  record(): PcapRecord {
    return { sec: this.sec, nsec: this.nsec, caplen: this.caplen, wirelen: this.wirelen, data: this.bytes.subarray(this.start, this.start + this.caplen) };
  }

  // ---- pcapng ----

  private pcapngStart(): PcapHeader {
    // the section header (and, in partial mode, the first chunk) must hold at least 28 bytes
    if (this.bytes.length < 28) throw new PcapFormatError('truncated pcapng section header', 0);
    const bom = this.view.getUint32(8, true);
    if (bom === PCAPNG_BOM) this.le = true;
    else if (this.view.getUint32(8, false) === PCAPNG_BOM) this.le = false;
    else throw new PcapFormatError('pcapng section header has a bad byte-order magic', 8);
    const versionMajor = this.view.getUint16(12, this.le);
    const versionMinor = this.view.getUint16(14, this.le);
    checkNgVersion(versionMajor, versionMinor, 12);
    // the link type and snapshot length are the first interface's: look ahead for it (libpcap
    // does the same when it opens the file)
    const first = this.firstInterface();
    return {
      linktype: first?.linktype ?? LINKTYPE_ETHERNET, snaplen: first?.snaplen ?? MAX_SNAPLEN, nanosecond: true, littleEndian: this.le,
      versionMajor, versionMinor, format: 'pcapng',
    };
  }

  /** The first Interface Description Block's link type and snapshot length, if the bytes hold one. */
  private firstInterface(): { linktype: number; snaplen: number } | undefined {
    const v = this.view;
    for (let p = 0; p + 12 <= this.bytes.length; ) {
      const type = v.getUint32(p, this.le);
      const len = v.getUint32(p + 4, this.le);
      if (len < 12 || len % 4 !== 0) return undefined; // nextNg() reports it
      if (type === 1 && p + 16 <= this.bytes.length) return { linktype: v.getUint16(p + 8, this.le), snaplen: ngSnaplen(v.getUint32(p + 12, this.le)) };
      if (type === 2 || type === 3 || type === 6) throw new PcapFormatError('the capture file has a packet block before any Interface Description Blocks', p);
      p += len;
    }
    return undefined;
  }

  private nextNg(): boolean {
    const v = this.view;
    for (;;) {
      const p = this.pos;
      if (p === this.bytes.length) return false;
      if (this.partial && (p + 12 > this.bytes.length || p + v.getUint32(p + 4, this.le) > this.bytes.length) && (p + 12 > this.bytes.length || v.getUint32(p + 4, this.le) <= MAX_BLOCK)) {
        this.incomplete = true;
        return false;
      }
      if (p + 12 > this.bytes.length) throw new PcapFormatError('truncated pcapng block header', p);
      const type = v.getUint32(p, this.le);
      const len = v.getUint32(p + 4, this.le);
      if (len < 12 || len % 4 !== 0 || p + len > this.bytes.length) throw new PcapFormatError(`pcapng block of type 0x${type.toString(16)} has a bad length ${len}`, p + 4);
      if (v.getUint32(p + len - 4, this.le) !== len) throw new PcapFormatError('pcapng block trailer length does not match its header', p + len - 4);
      this.pos = p + len;
      if (type === PCAPNG_SHB) {
        const bom = v.getUint32(p + 8, true);
        this.le = bom === PCAPNG_BOM;
        checkNgVersion(v.getUint16(p + 12, this.le), v.getUint16(p + 14, this.le), p + 12);
        this.ifaces = [];
      } else if (type === 1) {
        // Interface Description Block: link type, snaplen, options (if_tsresol = 9)
        if (len < 20) throw new PcapFormatError('truncated pcapng interface block', p);
        let tsUnits = 1000000n;
        for (let o = p + 16; o + 4 <= p + len - 4; ) {
          const code = v.getUint16(o, this.le);
          const olen = v.getUint16(o + 2, this.le);
          if (code === 0) break;
          if (code === 9 && olen >= 1) {
            const r = this.bytes[o + 4]!;
            tsUnits = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
          }
          o += 4 + ((olen + 3) & ~3);
        }
        const linktype = v.getUint16(p + 8, this.le);
        const snaplen = ngSnaplen(v.getUint32(p + 12, this.le));
        // libpcap reads a file as one link type: every interface (in every section) must have the first one's
        if (linktype !== this.header.linktype) throw new PcapFormatError(`an interface has a type ${linktype} different from the type of the first interface`, p + 8);
        if (snaplen !== this.header.snaplen) throw new PcapFormatError(`an interface has a snapshot length ${snaplen} different from the snapshot length of the first interface`, p + 12);
        this.ifaces.push({ linktype, snaplen, tsUnits });
      } else if (type === 6 || type === 3) {
        // Enhanced Packet Block (6) or Simple Packet Block (3)
        let caplen: number, wirelen: number, start: number, units = 1000000n, ts = 0n;
        if (type === 6) {
          if (len < 32) throw new PcapFormatError('truncated pcapng packet block', p);
          const iface = this.ifaces[v.getUint32(p + 8, this.le)];
          if (!iface) throw new PcapFormatError('pcapng packet refers to an undefined interface', p + 8);
          units = iface.tsUnits;
          ts = (BigInt(v.getUint32(p + 12, this.le)) << 32n) | BigInt(v.getUint32(p + 16, this.le));
          caplen = v.getUint32(p + 20, this.le);
          wirelen = v.getUint32(p + 24, this.le);
          start = p + 28;
          if (caplen > this.header.snaplen) throw new PcapFormatError(`invalid packet capture length ${caplen}, bigger than snaplen of ${this.header.snaplen}`, p + 20);
        } else {
          if (!this.ifaces.length) throw new PcapFormatError('the capture file has a Simple Packet Block before any Interface Description Blocks', p);
          wirelen = v.getUint32(p + 8, this.le);
          // a simple packet block has no captured length: the packet cut to the snapshot length
          caplen = Math.min(wirelen, this.header.snaplen);
          start = p + 12;
        }
        if (start + caplen > p + len - 4) throw new PcapFormatError(`block of type ${type} in pcapng dump file is too short`, p);
        this.ngSec = Number(ts / units);
        this.ngNsec = Number(((ts % units) * 1000000000n) / units);
        this.start = start;
        this.caplen = caplen;
        this.wirelen = wirelen;
        this.copyable = false;
        this.index++;
        return true;
      }
      // other blocks (name resolution, statistics, custom) are skipped
    }
  }
}

/** libpcap's largest pcapng block (MAX_BLOCKSIZE): a longer length is damage. */
const MAX_BLOCK = 16 * 1024 * 1024;

function checkNgVersion(major: number, minor: number, at: number): void {
  // 1.2 was written by some tools for a while; libpcap reads it as 1.0
  if (major !== 1 || (minor !== 0 && minor !== 2)) throw new PcapFormatError(`unsupported pcapng savefile version ${major}.${minor}`, at);
}

/** An interface's snapshot length as libpcap takes it: 0 (unlimited) or too large → MAX_SNAPLEN. */
const ngSnaplen = (n: number): number => (n === 0 || n > MAX_SNAPLEN ? MAX_SNAPLEN : n);

/** The 24-byte header of a little-endian classic pcap file. */
export function pcapFileHeader(o: { snaplen?: number; linktype?: number; nanosecond?: boolean } = {}): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, o.nanosecond ? PCAP_MAGIC_NS : PCAP_MAGIC_US, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, o.snaplen ?? 262144, true);
  v.setUint32(20, o.linktype ?? LINKTYPE_ETHERNET, true);
  return b;
}

/** One record (16-byte header + data) for a file written with pcapFileHeader({ nanosecond }). */
export function pcapRecord(rec: { sec: number; nsec: number; data: Uint8Array; wirelen?: number }, nanosecond = false): Uint8Array {
  const b = new Uint8Array(16 + rec.data.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, rec.sec >>> 0, true);
  v.setUint32(4, nanosecond ? rec.nsec : Math.floor(rec.nsec / 1000), true);
  v.setUint32(8, rec.data.length, true);
  v.setUint32(12, rec.wirelen ?? rec.data.length, true);
  b.set(rec.data, 16);
  return b;
}

/** A whole pcap file from records. */
export function writePcap(records: readonly { sec: number; nsec: number; data: Uint8Array; wirelen?: number }[], o: { snaplen?: number; linktype?: number; nanosecond?: boolean } = {}): Uint8Array {
  return concat(pcapFileHeader(o), ...records.map((r) => pcapRecord(r, o.nanosecond)));
}

/** The bytes of `parts` one after the other. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Writes a classic little-endian pcap stream through `sink` in large chunks, without allocating per
 * record: records are laid out directly in a reusable buffer.
 */
export class PcapWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = 0;

  constructor(
    private readonly sink: (chunk: Uint8Array) => void,
    private readonly o: { snaplen?: number; linktype?: number; nanosecond?: boolean; bufferSize?: number } = {},
  ) {
    this.buf = new Uint8Array(o.bufferSize ?? 1 << 20);
    this.view = new DataView(this.buf.buffer);
    this.buf.set(pcapFileHeader(o));
    this.at = 24;
  }

  /** Append one record whose data is bytes[start .. start+caplen). */
  write(bytes: Uint8Array, start: number, caplen: number, sec: number, nsec: number, wirelen: number): void {
    if (this.at + 16 + caplen > this.buf.length) {
      this.flush();
      if (16 + caplen > this.buf.length) {
        this.buf = new Uint8Array(16 + caplen);
        this.view = new DataView(this.buf.buffer);
      }
    }
    const v = this.view;
    const p = this.at;
    v.setUint32(p, sec >>> 0, true);
    v.setUint32(p + 4, this.o.nanosecond ? nsec : Math.floor(nsec / 1000), true);
    v.setUint32(p + 8, caplen, true);
    v.setUint32(p + 12, wirelen, true);
    const b = this.buf;
    if (caplen <= 256) for (let k = 0; k < caplen; k++) b[p + 16 + k] = bytes[start + k]!; // no view object for small packets
    else b.set(bytes.subarray(start, start + caplen), p + 16);
    this.at = p + 16 + caplen;
  }

  /**
   * Append a record copied whole (header and data) from a classic pcap file in this writer's own
   * layout (little-endian, same timestamp resolution): the fast path when filtering a file.
   */
  writeRaw(bytes: Uint8Array, recordOffset: number, caplen: number): void {
    const n = 16 + caplen;
    if (this.at + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = new Uint8Array(n);
      this.view = new DataView(this.buf.buffer);
    }
    const b = this.buf;
    const p = this.at;
    if (n <= 272) for (let k = 0; k < n; k++) b[p + k] = bytes[recordOffset + k]!;
    else b.set(bytes.subarray(recordOffset, recordOffset + n), p);
    this.at = p + n;
  }

  /** Hand what is buffered to the sink (the sink must consume or copy it before returning). */
  flush(): void {
    if (this.at) this.sink(this.buf.subarray(0, this.at));
    this.at = 0;
  }
}

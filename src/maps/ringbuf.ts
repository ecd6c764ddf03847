// Reader of a BPF_MAP_TYPE_RINGBUF map (kernel/bpf/ringbuf.c layout):
//   page 0 (mapped RW): consumer_pos, written by us
//   page 1 (mapped RO): producer_pos, written by the kernel
//   then the data area, mapped twice in a row so a record that wraps is contiguous.
// Each record: an 8-byte header (u32 len with BUSY (bit 31) and DISCARD (bit 30) flags, u32 page
// offset), then len bytes, the whole rounded up to 8. A BUSY record is reserved but not committed:
// reading stops there until the producer commits it.
//
// Memory ordering: producer_pos is read once per drain and each header once before its data; the
// kernel publishes them with release stores. On x86-64 (TSO) plain loads in program order observe
// them correctly; consumer_pos is written after the record has been read. (A weakly ordered CPU such
// as arm64 would need acquire loads of producer_pos and the header — a native helper — which this
// reader does not have yet; the same holds for data_head in perfbuf.ts.)
//
// Wakeups: by default the kernel wakes the reader for a record submitted while the reader has caught
// up, so a reader as fast as its producer is woken once per record. A program that submits with
// BPF_RB_NO_WAKEUP and forces a wakeup only past a threshold (src/tools/common/events.bpf.h) saves
// that; its reader then also drains every `drainInterval` ms so records below the threshold arrive.
//
// Drops: a ring buffer cannot tell user space about records it refused (bpf_ringbuf_reserve returns
// NULL in the program). The libbpf-tools convention is for the program to count failed reservations
// in a map; give that map (or a function) as `lost` and the reader exposes it.
import { PROT_READ, PROT_WRITE, mmapShared, munmap } from '../sys/io.js';
import type { Fd } from '../sys/fds.js';
import { pageSize } from '../sys/pagesize.js';
import { PolledQueue, URGENT, followSignal, watchReadable, type PolledOptions } from '../sys/poll.js';
import { MapType } from '../uapi/bpf.js';
import type { BpfMap } from './map.js';
import type { Codec } from './codec.js';

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HDR = 8;
/** records per batches() array */
const BATCH_MAX = 4096;

export interface RingBufferOptions<T> {
  /** decode each record (record bytes start at offset 0 of the view) */
  decode?: Codec<T> | ((view: DataView, length: number) => T);
  /** decode each record in place, instead of `decode`: the view is the ring's own (valid only during the call), the record at `offset` */
  decodeAt?: (view: DataView, offset: number, length: number) => T;
  /** where the program counts records it could not reserve: a map (u64 at key 0, per-CPU summed) or a function */
  lost?: BpfMap<any, any> | (() => number);
  /**
   * ms between drains besides readiness, for programs that do not wake the reader on every record
   * (BPF_RB_NO_WAKEUP); the default of events(), batches() and consume(). Default: readiness only.
   */
  drainInterval?: number;
  /** stops events(), batches() and consume() loops not given a signal of their own */
  signal?: AbortSignal;
}

/** How to follow the ring: stop signal, drain timer (default the ring's drainInterval), coalescing. */
export interface RingFollowOptions {
  signal?: AbortSignal;
  interval?: number;
  /**
   * ms a record may wait while records arrive faster than one per `coalesce` ms (default 1; 0:
   * every wakeup at once). A busy ring is then drained on that timer instead of on each readiness:
   * a wakeup per record or two costs a context switch each, most of what following a ring costs.
   * Not while the ring is a quarter full. See watchReadable.
   */
  coalesce?: number;
}

/** consume()'s default coalescing, ms */
export const DEFAULT_COALESCE_MS = 1;

/** A reader's state that its consume() loops share: its stop signal, drain timer and running loops (which close() stops). */
export interface RingReader {
  readonly signal: AbortSignal | undefined;
  readonly drainInterval: number | undefined;
  readonly iterators: Set<{ stop(): void }>;
}

/**
 * consume()'s loop, the ring buffer's and the perf buffer's: drain(i) each time `fds[i]` is
 * readable, until the options' or the reader's signal aborts or its close() stops the loop;
 * resolves with the records drained. drain says how many it took and whether the ring was over a
 * quarter full before (URGENT: no coalescing then).
 */
export async function followRings(reader: RingReader, fds: readonly Fd[], drain: (i: number) => { got: number; urgent: boolean }, opts: RingFollowOptions): Promise<number> {
  let n = 0;
  const stop = followSignal(opts.signal ?? reader.signal);
  reader.iterators.add(stop);
  try {
    await watchReadable(fds, (i) => {
      const { got, urgent } = drain(i);
      n += got;
      return urgent ? URGENT : got;
    }, stop.signal, opts.interval ?? reader.drainInterval, opts.coalesce ?? DEFAULT_COALESCE_MS);
  } finally {
    stop.done();
    reader.iterators.delete(stop);
  }
  return n;
}

export class RingBuffer<T = Uint8Array> implements AsyncIterable<T> {
  readonly fd: Fd;
  readonly size: number;
  private consumer: ArrayBuffer | undefined;
  private producer: ArrayBuffer | undefined;
  private readonly cons: DataView;
  private readonly prod: DataView;
  /** the data area (twice), as bytes and view */
  private readonly data: Uint8Array;
  private readonly dataView: DataView;
  private readonly mask: number;
  /** a record at `off` in the data area → T (a codec reads in place; no per-record DataView) */
  private readonly recordAt: (off: number, len: number) => T;
  private readonly lostSource: RingBufferOptions<T>['lost'];
  private readonly drainInterval: number | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly iterators = new Set<{ stop(): void }>();

  constructor(map: BpfMap<any, any> | { fd: Fd; maxEntries: number; type?: MapType }, opts: RingBufferOptions<T> = {}) {
    if (map.type !== undefined && map.type !== MapType.RINGBUF) throw new TypeError(`RingBuffer needs a RINGBUF map, not ${MapType[map.type]}`);
    this.fd = map.fd;
    this.size = map.maxEntries;
    if (this.size === 0 || (this.size & (this.size - 1)) !== 0) throw new RangeError(`ring buffer size ${this.size} is not a power of two`);
    const page = pageSize();
    const c = mmapShared(this.fd, page, PROT_READ | PROT_WRITE, 0, `mmap ring buffer consumer page (map fd ${this.fd})`);
    let p: ArrayBuffer;
    try {
      p = mmapShared(this.fd, page + 2 * this.size, PROT_READ, page, `mmap ring buffer producer pages (map fd ${this.fd})`);
    } catch (e) {
      munmap(c);
      throw e;
    }
    this.consumer = c;
    this.producer = p;
    this.cons = new DataView(c);
    this.prod = new DataView(p, 0, page);
    this.data = new Uint8Array(p, page, 2 * this.size);
    this.dataView = new DataView(p, page, 2 * this.size);
    this.mask = this.size - 1;
    const d = opts.decode;
    const at = opts.decodeAt;
    const data = this.data;
    const dv = this.dataView;
    this.recordAt =
      at !== undefined
        ? (off, len) => at(dv, off, len)
        : d === undefined
          ? (off, len) => data.slice(off, off + len) as unknown as T
          : typeof d === 'function'
            ? (off, len) => d(new DataView(data.buffer, data.byteOffset + off, len), len)
            : (off) => d.decode(dv, off);
    this.lostSource = opts.lost;
    this.drainInterval = opts.drainInterval;
    this.signal = opts.signal;
  }

  private get consumerPos(): number {
    return this.cons.getUint32(0, true) + this.cons.getUint32(4, true) * 0x100000000;
  }
  private set consumerPos(v: number) {
    this.cons.setUint32(0, v >>> 0, true);
    this.cons.setUint32(4, (v - (v >>> 0)) / 0x100000000, true);
  }
  private get producerPos(): number {
    return this.prod.getUint32(0, true) + this.prod.getUint32(4, true) * 0x100000000;
  }

  /** Bytes committed or reserved but not yet consumed. */
  get available(): number {
    this.alive();
    return this.producerPos - this.consumerPos;
  }

  private alive(): void {
    if (!this.producer) throw new Error('ring buffer: used after close()');
  }

  /**
   * Consume every committed record now, synchronously: cb gets a view of the record's bytes in the
   * ring (valid only during the call) and its length. Returns the number of records.
   */
  drain(cb: (view: DataView, offset: number, length: number) => void, max = Infinity): number {
    this.alive();
    let cons = this.consumerPos;
    const dv = this.dataView;
    const cv = this.cons;
    const mask = this.mask;
    let n = 0;
    // The position is published after each record, as libbpf does (the producer can reuse the
    // space at once), as its low word alone: the high word changes every 4 GiB, and is written
    // then (plain arithmetic: a double modulo per record cost more than the record).
    let high = Math.floor(cons / 0x100000000);
    // Like libbpf: once caught up, look again for records committed meanwhile, so one wakeup
    // takes everything there is.
    for (let prod = this.producerPos; cons < prod; prod = this.producerPos) {
      while (cons < prod && n < max) {
        const off = cons & mask;
        const len = dv.getUint32(off, true);
        if (len & BUSY) return n;
        const size = len & ~(BUSY | DISCARD);
        if (!(len & DISCARD)) {
          cb(dv, off + HDR, size);
          n++;
        }
        cons += (size + HDR + 7) & ~7;
        if (cons >= (high + 1) * 0x100000000) {
          this.consumerPos = cons;
          high = Math.floor(cons / 0x100000000);
        } else cv.setUint32(0, cons - high * 0x100000000, true);
      }
      if (n >= max) break;
    }
    return n;
  }

  /** Consume every committed record as copies (or decoded values). */
  read(max = Infinity): T[] {
    const out: T[] = [];
    this.drain((_v, off, len) => out.push(this.recordAt(off, len)), max);
    return out;
  }


  /** Records as they arrive, woken by the ring buffer's epoll readiness (and the drain timer). */
  events(opts: PolledOptions = {}): AsyncIterableIterator<T> {
    this.alive();
    const q: PolledQueue<T> = new PolledQueue<T>(
      [this.fd],
      (_i, push) => {
        this.drain((_v, off, len) => push(this.recordAt(off, len)));
      },
      () => this.iterators.delete(q),
      { interval: this.drainInterval, ...opts, signal: opts.signal ?? this.signal },
    );
    this.iterators.add(q);
    // Records committed before the first readiness event are picked up by the first poll callback
    // (the fd is readable while data is pending).
    return q;
  }

  /**
   * The records of each drain as one array (at most 4096: the rest come in the next ones): what
   * events() yields, with one promise per wakeup instead of one per record. `highWater` counts
   * arrays here (default 16: as many records as events() queues).
   */
  batches(opts: PolledOptions = {}): AsyncIterableIterator<T[]> {
    this.alive();
    const q: PolledQueue<T[]> = new PolledQueue<T[]>(
      [this.fd],
      (_i, push) => {
        // (the fd stays readable while records are left: readiness comes back for them)
        const out: T[] = [];
        this.drain((_v, off, len) => void out.push(this.recordAt(off, len)), BATCH_MAX);
        if (out.length) push(out);
      },
      () => this.iterators.delete(q),
      { interval: this.drainInterval, highWater: 16, ...opts, signal: opts.signal ?? this.signal },
    );
    this.iterators.add(q);
    return q;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.events();
  }

  /**
   * The fastest way to follow the ring (like libbpf's ring_buffer__poll loop): every time the map
   * is readable, drain it through cb — zero-copy views, no queue, no promise per record. Resolves
   * with the record count when the signal aborts; rejects if cb throws.
   */
  async consume(cb: (view: DataView, offset: number, length: number) => void, opts: RingFollowOptions = {}): Promise<number> {
    this.alive();
    const first = this.drain(cb);
    return first + (await followRings({ signal: this.signal, drainInterval: this.drainInterval, iterators: this.iterators }, [this.fd], () => {
      if (!this.producer) return { got: 0, urgent: false };
      const urgent = this.producerPos - this.consumerPos > this.size / 4;
      return { got: this.drain(cb), urgent };
    }, opts));
  }

  /** Records the program reported as dropped (see `lost` option); 0 without a source. */
  get lost(): number {
    const s = this.lostSource;
    if (!s) return 0;
    if (typeof s === 'function') return s();
    const raw = s.lookup(new Uint8Array(s.keySize));
    if (!raw) return 0;
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    let total = 0;
    const stride = s.perCpu ? s.perCpuStride : raw.length;
    for (let o = 0; o + 8 <= raw.length; o += stride) total += v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x100000000;
    return total;
  }

  /** Stop iterators and consume() loops, and unmap (the map itself stays open: its owner closes it). */
  close(): void {
    for (const q of [...this.iterators]) q.stop();
    if (this.consumer) munmap(this.consumer);
    if (this.producer) munmap(this.producer);
    this.consumer = undefined;
    this.producer = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

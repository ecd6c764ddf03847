// Reader of a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one PERF_COUNT_SW_BPF_OUTPUT event per online CPU,
// each with an mmapped ring (struct perf_event_mmap_page, then 2^n data pages), stored in the map
// at its CPU index so bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, ...) lands there.
// Records: PERF_RECORD_SAMPLE (u32 size + raw bytes, padded to 8) and PERF_RECORD_LOST (u64 id,
// u64 lost), each behind a struct perf_event_header; a record may wrap around the ring's end.
import { PROT_READ, PROT_WRITE, mmapShared, munmap } from '../sys/io.js';
import { closeFd, type Fd } from '../sys/fds.js';
import { pageSize } from '../sys/pagesize.js';
import { onlineCpus } from '../sys/cpus.js';
import { PerfIoctl, PerfRecord, PerfSample, PerfSwConfig, PerfType, perfEventOpen, perfIoctl } from '../sys/perf.js';
import { PolledQueue, type PolledOptions } from '../sys/poll.js';
import { followRings, type RingFollowOptions } from './ringbuf.js';
import { MapType } from '../uapi/bpf.js';
import type { BpfMap } from './map.js';
import { u32, type Codec } from './codec.js';

// struct perf_event_mmap_page
const DATA_HEAD = 1024;
const DATA_TAIL = 1032;
const DATA_OFFSET = 1040;
const DATA_SIZE = 1048;

export interface PerfSampleRecord<T> {
  cpu: number;
  /** the raw sample (as the program wrote it, plus up to 7 bytes of padding), or its decoding */
  data: T;
}

export interface PerfBufferOptions<T> {
  /** data pages per CPU, a power of two (default 8) */
  pages?: number;
  /** wake up after this many samples (default 1); above 1, set drainInterval so a trickle still arrives */
  wakeupEvents?: number;
  /** ms between drains besides readiness: the default of events() and consume() (default: readiness only) */
  drainInterval?: number;
  decode?: Codec<T> | ((view: DataView, length: number) => T);
  /** CPUs to read (default: all online) */
  cpus?: number[];
  /** stops events() and consume() loops not given a signal of their own */
  signal?: AbortSignal;
}

interface CpuRing {
  cpu: number;
  fd: Fd;
  mem: ArrayBuffer | undefined;
  meta: DataView;
  data: Uint8Array;
  dataView: DataView;
  size: number;
}

export class PerfBuffer<T = Uint8Array> implements AsyncIterable<PerfSampleRecord<T>> {
  private readonly rings: CpuRing[] = [];
  private readonly decodeAt: (view: DataView, off: number, len: number) => T;
  private scratch = new Uint8Array(256);
  private readonly iterators = new Set<{ stop(): void }>();
  private readonly drainInterval: number | undefined;
  private readonly signal: AbortSignal | undefined;
  /** samples the kernel dropped because a ring was full (from PERF_RECORD_LOST) */
  lost = 0;

  constructor(private readonly map: BpfMap<any, any>, opts: PerfBufferOptions<T> = {}) {
    if (map.type !== MapType.PERF_EVENT_ARRAY) throw new TypeError(`PerfBuffer needs a PERF_EVENT_ARRAY map, not ${MapType[map.type]}`);
    const pages = opts.pages ?? 8;
    if (pages <= 0 || (pages & (pages - 1)) !== 0) throw new RangeError(`perf buffer pages ${pages} is not a power of two`);
    this.drainInterval = opts.drainInterval;
    this.signal = opts.signal;
    const d = opts.decode;
    // The view is the ring (or the scratch copy of a wrapped record): valid only during the call.
    this.decodeAt =
      d === undefined
        ? (v, off, len) => new Uint8Array(v.buffer, v.byteOffset + off, len).slice() as unknown as T
        : typeof d === 'function'
          ? (v, off, len) => d(new DataView(v.buffer.slice(v.byteOffset + off, v.byteOffset + off + len)), len)
          : (v, off) => d.decode(v, off);
    const page = pageSize();
    const cpus = (opts.cpus ?? onlineCpus()).filter((c) => c < map.maxEntries);
    const slots = map.as(u32, u32);
    try {
      for (const cpu of cpus) {
        const fd = perfEventOpen(
          { type: PerfType.SOFTWARE, config: PerfSwConfig.BPF_OUTPUT, sampleType: PerfSample.RAW, samplePeriod: 1, wakeupEvents: opts.wakeupEvents ?? 1 },
          { cpu, operation: `perf_event_open BPF_OUTPUT on CPU ${cpu}` },
        );
        let mem: ArrayBuffer;
        try {
          mem = mmapShared(fd, page * (pages + 1), PROT_READ | PROT_WRITE, 0, `mmap perf buffer of CPU ${cpu}`);
        } catch (e) {
          closeFd(fd);
          throw e;
        }
        const meta = new DataView(mem, 0, page);
        const off = Number(meta.getBigUint64(DATA_OFFSET, true)) || page;
        const size = Number(meta.getBigUint64(DATA_SIZE, true)) || page * pages;
        const ring: CpuRing = { cpu, fd, mem, meta, data: new Uint8Array(mem, off, size), dataView: new DataView(mem, off, size), size };
        this.rings.push(ring);
        slots.set(cpu, fd);
        perfIoctl(fd, PerfIoctl.ENABLE, 0, `enable perf buffer of CPU ${cpu}`);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** CPUs with a ring. */
  get cpus(): number[] {
    return this.rings.map((r) => r.cpu);
  }

  private readTail(r: CpuRing): number {
    return r.meta.getUint32(DATA_TAIL, true) + r.meta.getUint32(DATA_TAIL + 4, true) * 0x100000000;
  }

  private readHead(r: CpuRing): number {
    return r.meta.getUint32(DATA_HEAD, true) + r.meta.getUint32(DATA_HEAD + 4, true) * 0x100000000;
  }

  /**
   * Read one CPU's ring; cb gets each sample's bytes (valid during the call). The tail is published
   * once, after the loop (as libbpf does; also when cb throws: what was read stays read).
   */
  private drainRing(r: CpuRing, cb: (cpu: number, view: DataView, offset: number, length: number) => void): number {
    const head = this.readHead(r);
    let tail = this.readTail(r);
    const start = tail;
    let n = 0;
    const mask = r.size - 1;
    const dv = r.dataView;
    const cpu = r.cpu;
    try {
      while (tail < head) {
        const off = tail & mask;
        // The 8-byte header itself never wraps (records are 8-byte aligned, the size a power of two).
        const type = dv.getUint32(off, true);
        const size = dv.getUint16(off + 6, true);
        if (size < 8) break; // corrupt: stop rather than spin
        let view = dv;
        let base = off;
        if (off + size > r.size) {
          // Wrapped record: copy both parts into the scratch buffer.
          if (this.scratch.length < size) this.scratch = new Uint8Array(size * 2);
          const first = r.size - off;
          this.scratch.set(r.data.subarray(off, r.size), 0);
          this.scratch.set(r.data.subarray(0, size - first), first);
          view = new DataView(this.scratch.buffer);
          base = 0;
        }
        tail += size;
        if (type === PerfRecord.SAMPLE) {
          const len = view.getUint32(base + 8, true);
          n++;
          cb(cpu, view, base + 12, Math.min(len, size - 12));
        } else if (type === PerfRecord.LOST) {
          this.lost += view.getUint32(base + 16, true) + view.getUint32(base + 20, true) * 0x100000000;
        }
      }
    } finally {
      if (tail !== start) {
        // (integer arithmetic: a double modulo here cost as much as a record)
        r.meta.setUint32(DATA_TAIL, tail >>> 0, true);
        r.meta.setUint32(DATA_TAIL + 4, (tail - (tail >>> 0)) / 0x100000000, true);
      }
    }
    return n;
  }

  /** Consume everything pending on every CPU now; returns the number of samples. */
  drain(cb: (cpu: number, view: DataView, offset: number, length: number) => void): number {
    let n = 0;
    for (const r of this.rings) if (r.mem) n += this.drainRing(r, cb);
    return n;
  }

  read(): PerfSampleRecord<T>[] {
    const out: PerfSampleRecord<T>[] = [];
    this.drain((cpu, v, off, len) => out.push({ cpu, data: this.decodeAt(v, off, len) }));
    return out;
  }


  /** Samples from all CPUs as they arrive. */
  events(opts: PolledOptions = {}): AsyncIterableIterator<PerfSampleRecord<T>> {
    const rings = this.rings;
    const q: PolledQueue<PerfSampleRecord<T>> = new PolledQueue<PerfSampleRecord<T>>(
      rings.map((r) => r.fd),
      (i, push) => {
        const r = rings[i]!;
        if (r.mem) this.drainRing(r, (cpu, v, off, len) => push({ cpu, data: this.decodeAt(v, off, len) }));
      },
      () => this.iterators.delete(q),
      { interval: this.drainInterval, ...opts, signal: opts.signal ?? this.signal },
    );
    this.iterators.add(q);
    return q;
  }

  [Symbol.asyncIterator](): AsyncIterator<PerfSampleRecord<T>> {
    return this.events();
  }

  /** Drain each CPU's ring through cb whenever it is readable, until the signal aborts; resolves with the sample count. */
  async consume(cb: (cpu: number, view: DataView, offset: number, length: number) => void, opts: RingFollowOptions = {}): Promise<number> {
    const first = this.drain(cb);
    const rings = this.rings;
    return first + (await followRings({ signal: this.signal, drainInterval: this.drainInterval, iterators: this.iterators }, rings.map((r) => r.fd), (i) => {
      const r = rings[i];
      if (!r?.mem) return { got: 0, urgent: false };
      const urgent = this.readHead(r) - this.readTail(r) > r.size / 4;
      return { got: this.drainRing(r, cb), urgent };
    }, opts));
  }

  /** Stop, remove the events from the map, unmap and close them (the map stays open). */
  close(): void {
    for (const q of [...this.iterators]) q.stop();
    for (const r of this.rings) {
      if (!this.map.closed) {
        try {
          this.map.deleteRaw(new Uint8Array(new Uint32Array([r.cpu]).buffer));
        } catch {
          // the slot may already be empty
        }
      }
      if (r.mem) munmap(r.mem);
      r.mem = undefined;
      closeFd(r.fd);
    }
    this.rings.length = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

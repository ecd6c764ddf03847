// What every tool's front end does with its loaded object: open (load one hook variant with its
// filters, attach, close again when attaching fails), report kernel ids, close once. The event
// tools add the ring buffer `events` (failed reservations counted in `drops`, reported as lost),
// with wakeup batching (events.bpf.h) unless asked not to.
import { loadTool, attachAll, kernelIds, type Collection, type ToolLoadOptions } from './runtime.js';
import { RingBuffer } from '../../maps/ringbuf.js';

/**
 * Ring-buffer wakeup batching (src/tools/common/events.bpf.h): the program submits without waking
 * the reader until `wakeupBytes` wait unread; the reader also drains every `interval` ms. Events
 * then reach user space up to `interval` ms late, at a fraction of the CPU (one wakeup per batch).
 */
export interface WakeupBatch {
  /** unread bytes that wake the reader at once (well below the ring's size: the timer may be late) */
  wakeupBytes: number;
  /** ms between the reader's drains */
  interval: number;
}

// 100 ms as libbpf-tools polls: each drain is a timer round whether or not records wait (20 ms cost
// execsnoop twice libbpf-tools' CPU under an exec storm, mostly in drains of a few records each)
export const WAKEUP_BATCH: Readonly<WakeupBatch> = { wakeupBytes: 256 * 1024, interval: 100 };

/** A tool's batching option: false wakes the reader per record (the kernel's default). */
export function wakeupBatch(o: Partial<WakeupBatch> | false | undefined): WakeupBatch | false {
  if (o === false) return false;
  const b = { ...WAKEUP_BATCH, ...o };
  if (!Number.isInteger(b.wakeupBytes) || b.wakeupBytes < 1) throw new RangeError(`wakeupBytes ${b.wakeupBytes} is not a positive integer`);
  if (!(b.interval > 0 && Number.isFinite(b.interval))) throw new RangeError(`drain interval ${b.interval} ms is not a positive number`);
  return b;
}

/** The option every event tool takes. */
export interface BatchOption {
  /** ring-buffer wakeup batching (default WAKEUP_BATCH); false: the reader is woken per record */
  batch?: Partial<WakeupBatch> | false;
}

/** The batching each open tool's collection was loaded with: its ring reader drains to match. */
const batchOf = new WeakMap<Collection, WakeupBatch>();

export interface ToolOpenOptions extends ToolLoadOptions {
  /** the hook variant: only these programs are loaded (and attached) */
  programs: string[];
  /** false: `make` attaches (perf events); default attach every program where its SEC() says */
  attach?: boolean;
  /** wakeup batching of the `events` ring (the object includes events.bpf.h); default none */
  batch?: WakeupBatch | false;
}

/**
 * Loads src/tools/<tool>/<tool>.bpf.o with `programs` only, attaches them and builds the front end
 * on it; when attaching or building fails the object is closed and the error thrown.
 */
export async function openTool<T>(tool: string, opts: ToolOpenOptions, make: (coll: Collection) => T): Promise<T> {
  const { attach = true, batch = false, ...load } = opts;
  if (batch) load.constants = { ...load.constants, wakeup_bytes: batch.wakeupBytes };
  const coll = await loadTool(tool, load);
  if (batch) batchOf.set(coll, batch);
  try {
    if (attach) attachAll(coll, opts.programs);
    return make(coll);
  } catch (err) {
    coll.close();
    throw err;
  }
}

/** A loaded tool: its collection and what else it owns (closed first, in order). */
export class ToolTracer {
  private closed = false;
  private readonly owned: { close(): void }[];

  protected constructor(
    protected readonly coll: Collection,
    ...owned: { close(): void }[]
  ) {
    this.owned = owned;
  }

  /** The loaded object (programs and maps), for who reports on them (the agent's health metrics). */
  get collection(): Collection {
    return this.coll;
  }

  /** Kernel ids of what this tracer loaded (gone after close()). */
  kernelIds(): { programs: number[]; maps: number[] } {
    return kernelIds(this.coll);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const o of this.owned) o.close();
    this.coll.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A tool whose results are aggregations the kernel keeps (histograms, counts), read on demand: its
 * options stay with it, they say how to read the maps (units, keys).
 */
export abstract class AggregationTool<O> extends ToolTracer {
  protected constructor(
    coll: Collection,
    protected readonly opts: O,
  ) {
    super(coll);
  }
}

/**
 * The ring buffer `events` of a tool object, records decoded as BTF type `type` (null: raw bytes;
 * a function: decoded in place, see RingBufferOptions.decodeAt), drained on the timer its
 * batching needs. The tracer that holds it closes it.
 */
export function eventRing<R = Record<string, unknown>>(
  coll: Collection,
  type: string | null | ((view: DataView, offset: number, length: number) => R) = 'struct event',
): RingBuffer<R> {
  const batch = batchOf.get(coll);
  return new RingBuffer<R>(coll.map('events'), {
    ...(typeof type === 'function' ? { decodeAt: type } : type === null ? {} : { decode: coll.codec<R>(type) }),
    lost: coll.map('drops'),
    drainInterval: batch ? batch.interval : undefined,
  });
}

/**
 * A tracer of ring-buffer events: `events()` yields each record as `decode` makes it, until the
 * signal aborts or the tracer is closed. Without a ring (a counting mode) there are no events.
 */
export abstract class EventTracer<E, O extends { signal?: AbortSignal }, R = Record<string, unknown>> extends ToolTracer implements AsyncIterable<E> {
  protected constructor(
    coll: Collection,
    protected readonly opts: O,
    protected readonly ring: RingBuffer<R> | undefined,
  ) {
    super(coll, ...(ring ? [ring] : []));
  }

  /** Events the kernel could not queue (ring buffer full), counted by the program's drops map. */
  get lost(): number {
    return this.ring?.lost ?? 0;
  }

  /** One record as the library API gives it; undefined skips a record. */
  protected abstract decode(r: R): E | undefined;

  /**
   * The events of each drain of the ring as one array (never empty): one promise per wakeup, not
   * one per event, for consumers that keep up with thousands a second. Ends as events() does.
   */
  async *batches(signal: AbortSignal | undefined = this.opts.signal): AsyncGenerator<E[]> {
    if (!this.ring) return;
    for await (const batch of this.ring.batches(signal ? { signal } : {})) {
      const out: E[] = [];
      for (const r of batch) {
        const e = this.decode(r);
        if (e !== undefined) out.push(e);
      }
      if (out.length) yield out;
    }
  }

  /** Each event as `decode` makes it, until the signal aborts or the tracer is closed. */
  async *events(signal: AbortSignal | undefined = this.opts.signal): AsyncGenerator<E> {
    for await (const batch of this.batches(signal)) yield* batch;
  }

  [Symbol.asyncIterator](): AsyncIterator<E> {
    return this.events();
  }
}

/** A tracer's events as an async iterator: opened at the first next(), closed when the loop ends. */
export async function* tracerEvents<E>(open: () => Promise<{ events(): AsyncIterable<E>; close(): void }>): AsyncGenerator<E> {
  const t = await open();
  try {
    yield* t.events();
  } finally {
    t.close();
  }
}

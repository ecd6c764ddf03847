// What every tool's front end does with its loaded object: open (load one hook variant with its
// filters, attach, close again when attaching fails), report kernel ids, close once. The event
// tools add the ring buffer `events` (failed reservations counted in `drops`, reported as lost).
import { loadTool, attachAll, kernelIds, type Collection, type ToolLoadOptions } from './runtime.js';
import type { RingBuffer } from '../../maps/ringbuf.js';

export interface ToolOpenOptions extends ToolLoadOptions {
  /** the hook variant: only these programs are loaded (and attached) */
  programs: string[];
  /** false: `make` attaches (perf events); default attach every program where its SEC() says */
  attach?: boolean;
}

/**
 * Loads src/tools/<tool>/<tool>.bpf.o with `programs` only, attaches them and builds the front end
 * on it; when attaching or building fails the object is closed and the error thrown.
 */
export async function openTool<T>(tool: string, opts: ToolOpenOptions, make: (coll: Collection) => T): Promise<T> {
  const { attach = true, ...load } = opts;
  const coll = await loadTool(tool, load);
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

/** The ring buffer `events` of a tool object, records decoded as `type` (null: raw bytes). */
export function eventRing<R = Record<string, unknown>>(coll: Collection, type: string | null = 'struct event'): RingBuffer<R> {
  return coll.ringBuffer<R>('events', type === null ? { lost: coll.map('drops') } : { type, lost: coll.map('drops') });
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

  async *events(signal: AbortSignal | undefined = this.opts.signal): AsyncGenerator<E> {
    if (!this.ring) return;
    for await (const r of this.ring.events(signal ? { signal } : {})) {
      const e = this.decode(r);
      if (e !== undefined) yield e;
    }
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

// Event sources as async iterators, driven by fd readiness from libuv (uv_poll through the addon):
// no busy polling. A source drains its fds into a queue when they become readable; a full queue
// pauses polling (so the kernel side fills up and counts drops) until the consumer catches up. An
// AbortSignal or return() stops everything. A source whose producer does not wake the reader for
// every record (a ring buffer fed with BPF_RB_NO_WAKEUP, a perf buffer with wakeup_events > 1)
// adds `interval`: every fd is also drained on that timer, so a quiet trickle is never held back.
import { native } from './native.js';
import { SyscallError } from './errors.js';
import type { Fd } from './fds.js';

export const UV_READABLE = 1;
export const UV_WRITABLE = 2;
/** the peer hung up (a pipe's error condition comes with any of these) */
export const UV_DISCONNECT = 4;

export interface PolledOptions {
  signal?: AbortSignal;
  /** pause polling when this many items are queued (default 65536) */
  highWater?: number;
  /** also drain every fd each `interval` ms, readable or not (default: on readiness only) */
  interval?: number;
}

function checkInterval(interval: number | undefined): void {
  if (interval !== undefined && !(interval > 0 && Number.isFinite(interval))) throw new RangeError(`drain interval ${interval} ms is not a positive number`);
}

/** The longest of a drain timer's quick first ticks (ms): they end DRAIN_RAMP_MS * 2 - 1 ms after the start. */
export const DRAIN_RAMP_MS = 128;

/**
 * The drain timer of `interval` ms (unref'd: the fds' watchers keep the process alive), or undefined.
 * Its first ticks come sooner — 1 ms, then twice as long each time up to DRAIN_RAMP_MS — so the
 * first records of a source that batches its wakeups (a tool's ring buffer) are read within a
 * millisecond or two of the start instead of a whole interval later, for 8 extra wakeups; after
 * them, every `interval` ms (a long interval stays long: the ramp does not creep up to it).
 */
function drainTimer(interval: number | undefined, tick: () => void): { stop(): void } | undefined {
  if (interval === undefined) return undefined;
  let t: NodeJS.Timeout;
  let every = Math.min(1, interval);
  const next = (): void => {
    t = setTimeout(() => {
      every = every * 2 <= DRAIN_RAMP_MS ? Math.min(every * 2, interval) : interval;
      next();
      tick();
    }, every).unref();
  };
  next();
  return { stop: () => clearTimeout(t) };
}

export class PolledQueue<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private head = 0;
  private handles: object[] = [];
  private waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private error: unknown;
  private done = false;
  private readonly highWater: number;
  private timer: { stop(): void } | undefined;
  private readonly onAbort = (): void => this.stop();

  /**
   * @param fds   the fds to watch
   * @param fill  called with the index of a ready fd; pushes what it read with push()
   * @param onStop called once when iteration ends
   */
  constructor(
    private readonly fds: readonly Fd[],
    private readonly fill: (index: number, push: (v: T) => void) => void,
    private readonly onStop: () => void,
    private readonly opts: PolledOptions = {},
  ) {
    this.highWater = opts.highWater ?? 65536;
    checkInterval(opts.interval);
    if (opts.signal?.aborted) {
      this.done = true;
      return;
    }
    const tick = (): void => {
      // not while paused: the queue is full and the kernel side holds the rest
      for (let i = 0; i < this.fds.length && this.handles.length; i++) this.ready(i, 0);
    };
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.start();
    this.timer = drainTimer(opts.interval, tick);
  }

  private readonly push = (v: T): void => {
    this.queue.push(v);
  };

  private start(): void {
    this.handles = this.fds.map((fd, i) => {
      const h = native().poll(fd, UV_READABLE, (status) => this.ready(i, status));
      if (typeof h === 'number') throw new SyscallError('poll', -h, `watch fd ${fd} for readiness`);
      return h;
    });
  }

  private pause(): void {
    for (const h of this.handles) native().pollStop(h);
    this.handles = [];
  }

  private ready(i: number, status: number): void {
    if (this.done) return;
    if (status < 0) {
      this.error = new SyscallError('poll', -status, `readiness of fd ${this.fds[i]}`);
    } else {
      try {
        this.fill(i, this.push);
      } catch (e) {
        this.error = e;
      }
    }
    if (this.queue.length - this.head >= this.highWater) this.pause();
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.head < this.queue.length) {
      this.waiting = undefined;
      w.resolve({ value: this.take(), done: false });
    } else if (this.error !== undefined) {
      this.waiting = undefined;
      const e = this.error;
      this.stop();
      w.reject(e);
    } else if (this.done) {
      this.waiting = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }

  private take(): T {
    const v = this.queue[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (!this.done && this.handles.length === 0 && this.queue.length - this.head < this.highWater / 2) this.start();
    return v;
  }

  /** Items read but not yet consumed. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.queue.length) return Promise.resolve({ value: this.take(), done: false });
    if (this.error !== undefined) {
      const e = this.error;
      this.stop();
      return Promise.reject(e);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stop watching; queued items are dropped and a pending next() ends. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    this.pause();
    this.timer?.stop();
    this.queue.length = 0;
    this.head = 0;
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.onStop();
    this.wake();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** onReady's answer that the buffer is filling up: stay on readiness, do not coalesce. */
export const URGENT = -1;

/**
 * Call onReady(index) each time one of `fds` is readable (and, with `interval`, for every fd on
 * that timer), until the signal aborts (resolves) or onReady throws (rejects). The callback style
 * of PolledQueue: no queue, no promise per item.
 *
 * `coalesce` (ms): onReady returns how many items it took. When two wakeups in a row bring items
 * less than `coalesce` ms apart, the fds stop being watched and are drained every `coalesce` ms
 * instead, until a drain finds nothing (then readiness again: level-triggered, so nothing
 * committed meanwhile waits) or onReady answers URGENT (its buffer is a quarter full). A busy
 * source then costs one wakeup per `coalesce` ms instead of one per item or two — a context switch
 * is most of a wakeup — for at most that much latency; a quiet one is read at once.
 */
export function watchReadable(
  fds: readonly Fd[],
  onReady: (index: number) => number | void,
  signal?: AbortSignal,
  interval?: number,
  coalesce = 0,
): Promise<void> {
  checkInterval(interval);
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    let handles: object[] = [];
    let timer: { stop(): void } | undefined;
    let batching: NodeJS.Timeout | undefined;
    let stopped = false;
    let lastBusy = -Infinity;
    const unwatch = (): void => {
      for (const h of handles) native().pollStop(h);
      handles = [];
    };
    const stop = (): void => {
      stopped = true;
      unwatch();
      timer?.stop();
      clearTimeout(batching);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      stop();
      resolve();
    };
    /** onReady(i), its exceptions ending the watch; the items it took (URGENT passes through) */
    const call = (i: number): number => {
      try {
        return onReady(i) ?? 0;
      } catch (e) {
        stop();
        reject(e);
        return 0;
      }
    };
    const watch = (): void => {
      handles = fds.map((fd, i) => {
        const h = native().poll(fd, UV_READABLE, (status) => {
          if (handles.length === 0) return;
          if (status < 0) {
            stop();
            reject(new SyscallError('poll', -status, `readiness of fd ${fd}`));
            return;
          }
          const got = call(i);
          if (coalesce > 0 && got > 0 && !stopped) {
            const now = performance.now();
            if (now - lastBusy < coalesce) {
              // busy: drain on a timer instead (ref'd: it keeps the process alive as the watch did)
              unwatch();
              batching = setTimeout(tick, coalesce);
            }
            lastBusy = now;
          }
        });
        if (typeof h === 'number') throw new SyscallError('poll', -h, `watch fd ${fd} for readiness`);
        return h;
      });
    };
    const tick = (): void => {
      batching = undefined;
      let got = 0;
      let urgent = false;
      for (let i = 0; i < fds.length && !stopped; i++) {
        const n = call(i);
        if (n === URGENT) urgent = true;
        else got += n;
      }
      if (stopped) return;
      if (got > 0 && !urgent) batching = setTimeout(tick, coalesce);
      else {
        lastBusy = -Infinity;
        watch();
      }
    };
    try {
      watch();
      timer = drainTimer(interval, () => {
        for (let i = 0; i < fds.length && !stopped; i++) call(i);
      });
    } catch (e) {
      stop();
      reject(e);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A signal that aborts with `outer` or with stop(): how a reader's close() ends the loops that
 * follow it. done() detaches from `outer` once the loop has ended.
 */
export function followSignal(outer: AbortSignal | undefined): { signal: AbortSignal; stop(): void; done(): void } {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  if (outer?.aborted) ac.abort();
  else outer?.addEventListener('abort', stop, { once: true });
  return { signal: ac.signal, stop, done: () => outer?.removeEventListener('abort', stop) };
}

// Standard output as Unix tools write it, for every command of the CLI:
// - a pipe is written without blocking (through a non-blocking descriptor of its own, opened from
//   /proc/self/fd/1, so the shell's shared one keeps its flags), a socket with MSG_DONTWAIT: a
//   stalled reader never blocks the event loop, so Ctrl+C, timers and the kernel side keep going;
// - what the pipe cannot take waits in a queue in order; records (events) beyond `limit` queued
//   bytes are dropped and counted in `lost`, never buffered without bound; text the command owes
//   (headers, summaries, listings) is always queued;
// - a reader that goes away (EPIPE, or the pipe's error condition seen while idle) ends the output
//   quietly ('closed'), any other write error ends it as 'failed' (/dev/full: ENOSPC); the owner
//   (src/command/lifecycle.ts) hears of it once and ends the command.
// A terminal, a file or a device is written with plain blocking write(2), as libbpf-tools do.
import { fstatSync } from 'node:fs';
import { native } from './native.js';
import { Errno, SyscallError } from './errors.js';
import { O_NONBLOCK, O_WRONLY } from './io.js';
import { UV_DISCONNECT, UV_WRITABLE } from './poll.js';

const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;

/** Queued bytes past which records are dropped (1 MiB: seconds of output of a busy tracer). */
export const OUTPUT_LIMIT = 1 << 20;

export type OutputEnd = { kind: 'closed' } | { kind: 'failed'; error: SyscallError };

type Mode = 'blocking' | 'pipe' | 'socket';

export class Output {
  private mode: Mode | undefined;
  private wfd: number;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private watcher: { handle: object; events: number } | undefined;
  private waiters: (() => void)[] = [];
  private listeners: ((e: OutputEnd) => void)[] = [];
  private idleWatch = false;
  /** records dropped because the reader did not keep up */
  lost = 0;
  /** set once: the reader went away, or a write failed */
  ended: OutputEnd | undefined;

  constructor(
    readonly fd = 1,
    readonly limit = OUTPUT_LIMIT,
  ) {
    this.wfd = fd;
  }

  /** Called once when the output ends (at once if it has). */
  onEnd(cb: (e: OutputEnd) => void): void {
    if (this.ended) cb(this.ended);
    else this.listeners.push(cb);
  }

  /** Text or bytes the command owes (header, summary, listing): queued however long the queue is. */
  write(s: string | Uint8Array): void {
    this.put(typeof s === 'string' ? Buffer.from(s) : s);
  }

  /**
   * `count` records as one text: dropped (and counted in `lost`) when the reader is `limit` bytes
   * behind. Returns false if dropped.
   */
  record(s: string | Uint8Array, count = 1): boolean {
    if (this.ended) return false;
    if (this.queued >= this.limit) {
      this.lost += count;
      return false;
    }
    this.put(typeof s === 'string' ? Buffer.from(s) : s);
    return true;
  }

  /** True while records would be dropped. */
  get full(): boolean {
    return this.queued >= this.limit;
  }

  /** Bytes waiting for the reader. */
  get pending(): number {
    return this.queued;
  }

  /** Resolves when everything queued is written, or the output has ended. */
  drain(): Promise<void> {
    if (this.queued === 0 || this.ended) return Promise.resolve();
    return new Promise((res) => this.waiters.push(res));
  }

  /**
   * While on, a pipe whose reader goes away is noticed at once, even with nothing to write (the
   * pipe's error condition), instead of at the next write. On during a Run (src/command/lifecycle.ts):
   * the watch keeps the event loop alive.
   */
  watchReader(on: boolean): void {
    this.idleWatch = on;
    if (this.mode && this.queued === 0) this.idle();
  }

  private setup(): void {
    if (this.mode) return;
    this.mode = 'blocking';
    let st;
    try {
      st = fstatSync(this.fd);
    } catch {
      return;
    }
    if (st.isSocket()) this.mode = 'socket';
    else if (st.isFIFO()) {
      const fd = native().open(`/proc/self/fd/${this.fd}`, O_WRONLY | O_NONBLOCK);
      if (fd >= 0) {
        this.mode = 'pipe';
        this.wfd = fd;
      } else if (-fd === Errno.ENXIO) {
        // a FIFO opened for writing without a reader: the reader is gone already
        this.finish({ kind: 'closed' });
        return;
      }
      // otherwise (no /proc): blocking writes to the shared descriptor, as before
    }
    this.idle();
  }

  private put(bytes: Uint8Array): void {
    this.setup();
    if (this.ended || bytes.length === 0) return;
    if (this.queued === 0) {
      const n = this.send(bytes);
      if (n === bytes.length || this.ended) return;
      bytes = bytes.subarray(n);
    }
    // the caller may reuse its buffer once this returns (a PcapWriter does): keep a copy
    this.queue.push(bytes.slice());
    this.queued += bytes.length;
    this.watch(UV_WRITABLE);
  }

  /** One attempt (a full loop when blocking): bytes written; an error ends the output. */
  private send(bytes: Uint8Array): number {
    let done = 0;
    while (done < bytes.length) {
      const chunk = done ? bytes.subarray(done) : bytes;
      const r = this.mode === 'socket' ? native().sendto(this.wfd, chunk, MSG_DONTWAIT | MSG_NOSIGNAL, null) : native().write(this.wfd, chunk);
      if (r >= 0) {
        done += r;
        continue;
      }
      const errno = -r;
      if (errno === Errno.EINTR) continue;
      if (errno === Errno.EAGAIN) return done;
      if (errno === Errno.EPIPE || errno === Errno.ECONNRESET) this.finish({ kind: 'closed' });
      else this.finish({ kind: 'failed', error: new SyscallError('write', errno, 'write to standard output') });
      return done;
    }
    return done;
  }

  private flushQueue(): void {
    while (this.queue.length && !this.ended) {
      const head = this.queue[0]!;
      const n = this.send(head);
      this.queued -= n;
      if (n < head.length) {
        if (!this.ended) this.queue[0] = head.subarray(n);
        break;
      }
      this.queue.shift();
    }
    if (this.ended) return;
    if (this.queued === 0) {
      this.idle();
      for (const w of this.waiters.splice(0)) w();
    } else if (!this.watcher) this.watch(UV_WRITABLE);
  }

  /** Nothing queued: watch for the reader going away if asked to (pipes only), else nothing. */
  private idle(): void {
    // a socket's peer may shut down its own sending side and still read: only writes tell
    if (this.idleWatch && this.mode === 'pipe') this.watch(UV_DISCONNECT);
    else this.unwatch();
  }

  /** Watch for room (UV_WRITABLE) or, while idle, for the reader going away (UV_DISCONNECT). */
  private watch(events: number): void {
    if (this.ended) return;
    if (this.mode === 'blocking') {
      // a terminal someone left non-blocking (EAGAIN): try again shortly
      if (events === UV_WRITABLE) setTimeout(() => this.flushQueue(), 20);
      return;
    }
    if (this.watcher?.events === events) return;
    this.unwatch();
    const h = native().poll(this.wfd, events, (status) => {
      if (status < 0 && events === UV_DISCONNECT) this.finish({ kind: 'closed' }); // the pipe's error condition: no reader
      else this.flushQueue(); // a write tells what the condition is
    });
    if (typeof h !== 'number') {
      this.watcher = { handle: h, events };
      return;
    }
    // cannot watch the descriptor (something else in this process does): try again on a timer,
    // so that what is queued still goes out; while idle, writes report a reader gone
    if (events === UV_WRITABLE) setTimeout(() => this.flushQueue(), 20);
  }

  private unwatch(): void {
    if (!this.watcher) return;
    native().pollStop(this.watcher.handle);
    this.watcher = undefined;
  }

  private finish(e: OutputEnd): void {
    if (this.ended) return;
    this.ended = e;
    this.unwatch();
    this.queue.length = 0;
    this.queued = 0;
    if (this.wfd !== this.fd) native().close(this.wfd);
    for (const w of this.waiters.splice(0)) w();
    for (const l of this.listeners.splice(0)) l(e);
  }
}

let stdoutOutput: Output | undefined;

/** The process's standard output (fd 1), made on first use. */
export function stdout(): Output {
  return (stdoutOutput ??= new Output(1));
}

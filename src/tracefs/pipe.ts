// trace_pipe as an async iterator of parsed lines (bpf_trace_printk output, among others). The file
// is opened non-blocking and read when libuv reports it readable. Reading consumes: one reader at a
// time sees each line.
import { join } from 'node:path';
import { O_NONBLOCK, O_RDONLY, openFile, readFd } from '../sys/io.js';
import { Errno, SyscallError } from '../sys/errors.js';
import { closeFd, trackFd } from '../sys/fds.js';
import { PolledQueue } from '../sys/poll.js';
import { tracefsRoot } from './tracefs.js';

export interface TraceLine {
  comm: string;
  pid: number;
  /** thread group id, when the record-tgid option adds it */
  tgid?: number;
  cpu: number;
  /** irqs-off / need-resched / hardirq-softirq / preempt-depth flags, e.g. "d..31" */
  flags: string;
  /** seconds (the trace clock) */
  timestamp: number;
  /** the event, e.g. "bpf_trace_printk" */
  event: string;
  message: string;
  raw: string;
}

/** A line that did not parse: only its text. */
export interface RawTraceLine {
  raw: string;
}

// "  comm-with-dashes-1234  (  1234) [001] d..31  5123.456789: bpf_trace_printk: text"
const LINE_RE = /^\s*(.*?)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:(\S{4,6})\s+)?(\d+\.\d+):\s+([^:\s]+):\s?(.*)$/;

/** Parse one trace_pipe line; a RawTraceLine when it is not in the usual format. Pure. */
export function parseTraceLine(raw: string): TraceLine | RawTraceLine {
  const m = LINE_RE.exec(raw);
  if (!m) return { raw };
  const tgid = m[3] && /^\d+$/.test(m[3]) ? Number(m[3]) : undefined;
  return {
    comm: m[1]!,
    pid: Number(m[2]),
    ...(tgid !== undefined ? { tgid } : {}),
    cpu: Number(m[4]),
    flags: m[5] ?? '',
    timestamp: Number(m[6]),
    event: m[7]!,
    message: m[8]!,
    raw,
  };
}

export const isParsed = (l: TraceLine | RawTraceLine): l is TraceLine => 'pid' in l;


export interface TracePipeOptions {
  signal?: AbortSignal;
  /** trace_pipe of a tracefs instance (instances/NAME) instead of the global one */
  instance?: string;
}

/** Lines of trace_pipe as they arrive, until the signal aborts or the loop breaks. */
export function tracePipe(opts: TracePipeOptions = {}): AsyncIterableIterator<TraceLine | RawTraceLine> {
  const path = opts.instance ? join(tracefsRoot(), 'instances', opts.instance, 'trace_pipe') : join(tracefsRoot(), 'trace_pipe');
  const fd = trackFd(openFile(path, O_RDONLY | O_NONBLOCK), 'trace_pipe');
  const buf = new Uint8Array(64 * 1024);
  const decoder = new TextDecoder();
  let partial = '';
  return new PolledQueue<TraceLine | RawTraceLine>(
    [fd],
    (_i, push) => {
      for (;;) {
        const r = readFd(fd, buf);
        if (r === -Errno.EAGAIN || r === 0) break;
        if (r === -Errno.EINTR) continue;
        if (r < 0) throw new SyscallError('read', -r, `read ${path}`);
        const text = partial + decoder.decode(buf.subarray(0, r), { stream: true });
        const lines = text.split('\n');
        partial = lines.pop()!;
        for (const l of lines) if (l.length) push(parseTraceLine(l));
      }
    },
    () => closeFd(fd),
    { signal: opts.signal },
  );
}

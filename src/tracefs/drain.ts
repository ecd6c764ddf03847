// Discard what trace_pipe holds from before now, so a reader started afterwards sees only new lines
// (trace_pipe keeps lines nobody has read yet, possibly from earlier runs).
import { join } from 'node:path';
import { native } from '../sys/native.js';
import { tracefsRoot } from './tracefs.js';

const O_NONBLOCK = 0o4000;

/** Read and drop every line trace_pipe currently holds; returns the number of bytes dropped. */
export function drainTracePipe(): number {
  const n = native();
  const fd = n.open(join(tracefsRoot(), 'trace_pipe'), O_NONBLOCK);
  if (fd < 0) return 0;
  const buf = new Uint8Array(64 * 1024);
  let total = 0;
  try {
    for (;;) {
      const r = n.read(fd, buf);
      if (r <= 0) break;
      total += r;
    }
  } finally {
    n.close(fd);
  }
  return total;
}

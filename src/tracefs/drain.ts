// Discard what trace_pipe holds from before now, so a reader started afterwards sees only new lines
// (trace_pipe keeps lines nobody has read yet, possibly from earlier runs).
import { join } from 'node:path';
import { O_NONBLOCK, O_RDONLY, closeRaw, openFile, readFd } from '../sys/io.js';
import type { Fd } from '../sys/fds.js';
import { tracefsRoot } from './tracefs.js';


/** Read and drop every line trace_pipe currently holds; returns the number of bytes dropped. */
export function drainTracePipe(): number {
  let fd: Fd;
  try {
    fd = openFile(join(tracefsRoot(), 'trace_pipe'), O_RDONLY | O_NONBLOCK);
  } catch {
    return 0;
  }
  const buf = new Uint8Array(64 * 1024);
  let total = 0;
  try {
    for (;;) {
      const r = readFd(fd, buf);
      if (r <= 0) break;
      total += r;
    }
  } finally {
    closeRaw(fd);
  }
  return total;
}

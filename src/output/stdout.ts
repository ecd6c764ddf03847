// Output to stdout with write(2) straight away, as bpftrace and the libbpf-tools print: creating
// process.stdout loads Node's stream (and for a pipe, net) modules, a few milliseconds of a
// one-liner's start. When the fd cannot take the whole text at once (a non-blocking pipe that is
// full) or fails, the rest goes through process.stdout, and everything after it too, so the order
// of the output is kept and its errors (EPIPE) surface as they always did.
import { writeSync } from 'node:fs';

export function directStdout(fd = 1): (s: string) => void {
  let stream = false;
  return (s: string): void => {
    if (!stream) {
      const bytes = Buffer.from(s);
      let n = 0;
      try {
        n = writeSync(fd, bytes);
      } catch {
        n = 0;
      }
      if (n === bytes.length) return;
      stream = true;
      process.stdout.write(bytes.subarray(n));
      return;
    }
    process.stdout.write(s);
  };
}

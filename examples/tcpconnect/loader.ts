// The seed's loader.c, with tsbpf: open the object, load it, find the program, attach it, and print
// what it writes to trace_pipe until Ctrl+C. Run (after `npm run build`, as root):
//   node dist/examples/tcpconnect/loader.js [OBJECT]
// OBJECT defaults to tcpconnect.bpf.o (the tracepoint form every kernel has); the seed's kprobe form is
// examples/tcpconnect/tcpconnect_kprobe.bpf.o.
import { join, resolve } from 'node:path';
import { Collection } from '../../src/kernel/collection.js';
import { ensureTracefs } from '../../src/sys/mounts.js';
import { drainTracePipe } from '../../src/tracefs/drain.js';
import { isParsed, tracePipe } from '../../src/tracefs/pipe.js';
import { packageRoot } from '../../src/sys/native.js';

// The object sits next to this file's source, also when this runs compiled from dist/.
const object = process.argv[2] ? resolve(process.argv[2]) : join(packageRoot(), 'examples/tcpconnect/tcpconnect.bpf.o');

ensureTracefs();
using coll = Collection.load(object); // open + load: maps created, program verified and JIT-compiled
const prog = coll.program('tcp_connect'); // find the program by name
drainTracePipe(); // only lines from now on
coll.attach(prog.name); // attach where its SEC() says: tracepoint sock/inet_sock_set_state, or kprobe/tcp_v4_connect
process.stderr.write('eBPF program loaded and attached. Press Ctrl+C to stop\n');

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());
const seconds = Number(process.env.TSBPF_DURATION ?? 0);
if (seconds > 0) setTimeout(() => stop.abort(), seconds * 1000);

for await (const line of tracePipe({ signal: stop.signal })) {
  if (isParsed(line) && line.message.startsWith('PID ')) process.stdout.write(`${line.message}\n`);
}

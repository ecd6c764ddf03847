// tsbpf run OBJ.o: load, attach every program by its SEC(), print bpf_printk lines (trace_pipe) and
// ring/perf buffer records until Ctrl+C, SIGTERM, SIGHUP or --duration; --dump-maps prints every map before exiting.
import { Command } from 'commander';
import { Collection } from '../kernel/collection.js';
import { MapType } from '../uapi/bpf.js';
import { BtfKind } from '../btf/types.js';
import { ensureTracefs } from '../sys/mounts.js';
import { tracePipe, isParsed } from '../tracefs/pipe.js';
import { drainTracePipe } from '../tracefs/drain.js';
import { formatValue, out, toJson } from './format.js';
import { startRun } from '../command/lifecycle.js';
import { requirePrivileges, TRACING } from '../command/privileges.js';
import { stdout } from '../sys/stdout.js';

/** An event line: dropped (and counted as lost) while standard output is not read. */
const record = (line: string): void => void stdout().record(line + '\n');

interface RunOptions {
  duration?: string;
  json?: boolean;
  eventType?: string;
  dumpMaps?: boolean;
  verbose?: boolean;
  prog?: string[];
}

export function runCommand(): Command {
  return new Command('run')
    .description('load an object, attach every program by its SEC(), print bpf_printk lines and ring/perf buffer records')
    .argument('<object>', 'a BPF ELF object built by clang (or tsbpf compile)')
    .option('-d, --duration <seconds>', 'stop after this many seconds (default: until Ctrl+C)')
    .option('--json', 'one JSON object per line')
    .option('--event-type <type>', "BTF type of ring/perf buffer records (default: the object's `struct event`)")
    .option('--dump-maps', "print every map's contents before exiting")
    .option('--prog <name...>', 'load and attach only these programs')
    .option('-v, --verbose', 'details on failure (verifier log)')
    .action(async (object: string, o: RunOptions) => run(object, o));
}

async function run(object: string, o: RunOptions): Promise<void> {
  const duration = o.duration !== undefined ? Number(o.duration) : undefined;
  if (duration !== undefined && !(duration > 0)) throw new Error(`--duration: '${o.duration}' is not a positive number of seconds`);
  requirePrivileges('run', TRACING);
  ensureTracefs();
  const run = startRun({ duration, json: o.json });
  let coll: Collection | undefined;
  try {
    coll = Collection.load(object, { programs: o.prog });
    drainTracePipe();
    let attached = 0;
    for (const name of coll.programs.keys()) {
      if (coll.tryAttach(name)) attached++;
      else process.stderr.write(`tsbpf: program ${name} (SEC("${coll.programSpec(name).section}")) names no target to attach to; loaded only\n`);
    }
    process.stderr.write(`tsbpf: ${coll.programs.size} program(s) loaded, ${attached} attached. ${duration ? `Running for ${duration}s` : 'Press Ctrl+C to stop'}.\n`);
    await Promise.all([printTracePipe(run.signal, !!o.json), ...readBuffers(coll, o, run.signal)]);
    if (o.dumpMaps) dumpMaps(coll, !!o.json);
  } finally {
    coll?.close();
    run.end();
  }
}

async function printTracePipe(signal: AbortSignal, json: boolean): Promise<void> {
  for await (const line of tracePipe({ signal })) {
    if (!isParsed(line)) {
      record(json ? toJson({ type: 'trace', raw: line.raw }) : line.raw);
      continue;
    }
    if (json) record(toJson({ type: 'trace', comm: line.comm, pid: line.pid, cpu: line.cpu, timestamp: line.timestamp, message: line.message }));
    else record(line.message);
  }
}

/** The record type of the object's buffers: --event-type, else `struct event` if the object has one. */
function recordType(coll: Collection, o: RunOptions): string | undefined {
  if (o.eventType) return o.eventType;
  return coll.spec.btf?.findByName('event', BtfKind.STRUCT) ? 'struct event' : undefined;
}

function readBuffers(coll: Collection, o: RunOptions, signal: AbortSignal): Promise<void>[] {
  const type = recordType(coll, o);
  const tasks: Promise<void>[] = [];
  for (const spec of coll.spec.maps) {
    const print = (rec: unknown): void => record(o.json ? toJson({ type: 'record', map: spec.name, data: rec }) : `${spec.name}: ${formatValue(rec)}`);
    if (spec.type === MapType.RINGBUF) {
      const rb = coll.ringBuffer(spec.name, { type });
      tasks.push((async () => { for await (const rec of rb.events({ signal })) print(rec); })());
    } else if (spec.type === MapType.PERF_EVENT_ARRAY) {
      const pb = coll.perfBuffer(spec.name, { type });
      tasks.push((async () => { for await (const rec of pb.events({ signal })) print(rec.data); })());
    }
  }
  return tasks;
}

const UNDUMPABLE = new Set([MapType.RINGBUF, MapType.PERF_EVENT_ARRAY, MapType.PROG_ARRAY, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS, MapType.QUEUE, MapType.STACK, MapType.USER_RINGBUF]);

function dumpMaps(coll: Collection, json: boolean): void {
  for (const [name, map] of coll.maps) {
    if (UNDUMPABLE.has(map.type)) continue;
    const entries = [...(map.perCpu ? map.entriesPerCpu() : map.entries())];
    if (json) out(toJson({ type: 'map', name, entries: entries.map(([key, value]) => ({ key, value })) }));
    else {
      out(`map ${name}:`);
      for (const [k, v] of entries) out(`  ${formatValue(k)}: ${formatValue(v)}`);
    }
  }
}

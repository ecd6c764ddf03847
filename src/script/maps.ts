// The maps a script's programs use: one hash map per script map (`@name`; per-CPU for aggregations),
// and the runtime's own: the ring buffer events go through, the stack-trace map of kstack/ustack and
// the per-CPU scratch record join() builds. The names are what the programs' relocations use and
// what the kernel shows (`AT_name`, as bpftrace names them).
import { mapSpec } from '../object/compiled.js';
import type { MapSpec } from '../object/spec.js';
import { MapType } from '../uapi/bpf.js';
import { AGGREGATIONS } from './builtins/aggregations.js';
import { align8, sizeOf, type MapInfo } from './types.js';

export const EVENTS_MAP = 'events';
export const STACKS_MAP = 'stacks';
/** per-CPU scratch for records too big for the stack (join) */
export const SCRATCH_MAP = 'scratch';
export const JOIN_ARGS = 16;
export const JOIN_LEN = 1024;
export const JOIN_RECORD = 8 + JOIN_ARGS * JOIN_LEN;
export const RINGBUF_SIZE = 1 << 20;
export const MAP_ENTRIES = 4096;
/** frames a stack id stands for (PERF_MAX_STACK_DEPTH) */
export const STACK_DEPTH = 127;
// bpftrace's size: with fewer buckets, different stacks collide and bpf_get_stackid fails (EEXIST)
// for the later one, which then prints as an empty stack
const STACK_ENTRIES = 131072;

/** The BPF map of script map `@name`. */
export const mapName = (name: string): string => `AT_${name}`;

export interface MapLayout {
  keySize: number;
  valueSize: number;
  perCpu: boolean;
  /** hist/lhist: the bucket number is the last 8 bytes of the key */
  histKey: boolean;
}

/** Layout of a script map's key and value in bytes. */
export function mapLayout(m: MapInfo): MapLayout {
  const userKey = m.keys.reduce((n, k) => n + align8(sizeOf(k)), 0);
  const agg = m.value.kind === 'agg' ? AGGREGATIONS.get(m.value.agg)! : undefined;
  const histKey = agg?.bucketed ?? false;
  const keySize = Math.max(8, userKey + (histKey ? 8 : 0));
  if (m.value.kind === 'value') return { keySize, valueSize: align8(Math.max(8, sizeOf(m.value.type))), perCpu: false, histKey };
  return { keySize, valueSize: agg!.valueSize, perCpu: true, histKey };
}

/** The MapSpecs of a script: its own maps, and those of the runtime its programs refer to. */
export function scriptMaps(maps: Iterable<MapInfo>, used: ReadonlySet<string>): MapSpec[] {
  const out = [mapSpec({ name: EVENTS_MAP, type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: RINGBUF_SIZE })];
  if (used.has(STACKS_MAP)) out.push(mapSpec({ name: STACKS_MAP, type: MapType.STACK_TRACE, keySize: 4, valueSize: 8 * STACK_DEPTH, maxEntries: STACK_ENTRIES }));
  if (used.has(SCRATCH_MAP)) out.push(mapSpec({ name: SCRATCH_MAP, type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: JOIN_RECORD, maxEntries: 1 }));
  for (const info of maps) {
    const lay = mapLayout(info);
    out.push(mapSpec({ name: mapName(info.name), type: lay.perCpu ? MapType.PERCPU_HASH : MapType.HASH, keySize: lay.keySize, valueSize: lay.valueSize, maxEntries: MAP_ENTRIES }));
  }
  return out;
}

// Histogram maps of the latency tools (value `struct hist { u32 slots[32]; char comm[16]; }`), read
// into plain aggregations, and printed in the bcc or bpftrace layout.
import { formatLog2Hist, formatBpftraceHist, histTotal } from '../../output/hist.js';
import { numbers, str } from './decode.js';

export interface LatencyHist<K = number> {
  /** the map key: 0 for all, a PID/TID, a disk... (tool-specific) */
  key: K;
  /** task name for per-process / per-thread keys */
  comm?: string;
  unit: 'usecs' | 'msecs';
  /** log2 slots: slot i counts [2^i, 2^(i+1)) units, slot 0 also 0 */
  slots: number[];
  total: number;
}

interface HistMap {
  entries(): Iterable<[unknown, unknown]>;
  delete(key: any): boolean;
}

/** Every entry of an aggregation map; with `clear`, the entries are deleted after reading (interval mode). */
export function readEntries(map: HistMap, clear = false): [unknown, unknown][] {
  const entries = [...map.entries()];
  if (clear) for (const [k] of entries) map.delete(k);
  return entries;
}

/** Every histogram in the map; with `clear`, the entries are deleted after reading (interval mode). */
export function readHists<K>(map: HistMap, unit: 'usecs' | 'msecs', keyOf: (k: unknown) => K, clear = false): LatencyHist<K>[] {
  return readEntries(map, clear).map(([k, v]) => {
    const val = v as { slots?: unknown; comm?: unknown };
    const slots = numbers(val.slots);
    const h: LatencyHist<K> = { key: keyOf(k), unit, slots, total: histTotal(slots) };
    const comm = str(val.comm);
    if (comm) h.comm = comm;
    return h;
  });
}

export type HistLayout = 'bcc' | 'bpftrace';

/** One histogram with its label line, in the chosen layout. */
export function printHist(h: LatencyHist<unknown>, label: string | undefined, layout: HistLayout): string {
  if (layout === 'bpftrace') {
    const name = label ? `${h.unit}[${label}]` : h.unit;
    return formatBpftraceHist(name, h.slots);
  }
  return `${label ? `\n${label}\n` : ''}${formatLog2Hist(h.slots, h.unit)}`;
}

// The agent's own cost and state, as metrics: each kernel program's run count and run time
// (bpf_stats, while the agent holds the stats fd), events handled and lost, how full each hash map
// is, the series limit and how many label sets it folded, and which programs are up.
import { RunTimeStats } from '../kernel/stats.js';
import { MapType } from '../uapi/bpf.js';
import type { BpfMap } from '../maps/map.js';
import type { Family, SeriesLimiter, ValueSample } from './metrics.js';
import type { Source } from './source.js';

const HASHES = new Set([MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH]);

/** BPF_ENABLE_STATS for as long as the agent runs (run_time_ns/run_cnt cost two clock reads per run). */
export class BpfStats {
  private stats: RunTimeStats | undefined;
  readonly error: string | undefined;

  constructor(on: boolean) {
    if (!on) return;
    try {
      this.stats = RunTimeStats.enable();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  get enabled(): boolean {
    return this.stats !== undefined;
  }

  close(): void {
    this.stats?.close();
    this.stats = undefined;
  }
}

/** Walks of kernel hash maps, at most one per map every FILL_MS: a syscall per key adds up at scale. */
const FILL_MS = 10_000;
const fills = new WeakMap<BpfMap<any, any>, { n: number; at: number }>();

/** Entries in a hash map (walked key by key, the result kept FILL_MS). */
function entryCount(m: BpfMap<any, any>): number {
  const hit = fills.get(m);
  if (hit && Date.now() - hit.at < FILL_MS) return hit.n;
  let n = 0;
  for (let k = m.nextKey(null); k && n <= m.maxEntries; k = m.nextKey(k)) n++;
  fills.set(m, { n, at: Date.now() });
  return n;
}

export interface ProgramState {
  name: string;
  up: boolean;
  error?: string;
  /** kernel ids of its programs and maps (bpftool prog show id N) */
  programIds?: number[];
  mapIds?: number[];
}

export function healthFamilies(sources: Source[], states: ProgramState[], limiter: SeriesLimiter, stats: BpfStats): Family[] {
  const runs: ValueSample[] = [];
  const time: ValueSample[] = [];
  const entries: ValueSample[] = [];
  const capacity: ValueSample[] = [];
  const events: ValueSample[] = [];
  const lost: ValueSample[] = [];
  for (const s of sources) {
    events.push({ labels: { program: s.name }, value: s.events });
    lost.push({ labels: { program: s.name }, value: s.lost });
    const coll = s.collection();
    const maps: [string, BpfMap<any, any>, number | undefined][] = [...(coll ? [...coll.maps.entries()].map(([n, m]) => [n, m, undefined] as [string, BpfMap, undefined]) : []), ...s.ownMaps().map((m) => [m.name, m.map, m.entries] as [string, BpfMap, number])];
    if (coll) {
      for (const [name, p] of coll.programs) {
        if (p.closed) continue;
        const info = p.info();
        const labels = { program: s.name, bpf_program: name };
        runs.push({ labels, value: Number(info.runCnt) });
        time.push({ labels, value: Number(info.runTimeNs) / 1e9 });
      }
    }
    for (const [name, m, known] of maps) {
      if (!HASHES.has(m.type) || m.closed) continue;
      const labels = { program: s.name, map: name };
      entries.push({ labels, value: known ?? entryCount(m) });
      capacity.push({ labels, value: m.maxEntries });
    }
  }
  const folded: ValueSample[] = [...limiter.folded].map(([metric, set]) => ({ labels: { metric }, value: set.size }));
  return [
    { type: 'gauge', name: 'tsbpf_agent_program_up', help: '1 when the program is loaded and attached, 0 when it failed (see the log)', samples: states.map((p) => ({ labels: { program: p.name }, value: p.up ? 1 : 0 })) },
    { type: 'gauge', name: 'tsbpf_agent_bpf_stats_enabled', help: '1 while kernel BPF run statistics are on (run counts and times below are then counted)', samples: [{ labels: {}, value: stats.enabled ? 1 : 0 }] },
    { type: 'counter', name: 'tsbpf_agent_bpf_runs_total', help: 'runs of each kernel program (bpf_stats run_cnt)', samples: runs },
    { type: 'counter', name: 'tsbpf_agent_bpf_run_seconds_total', help: 'time spent in each kernel program (bpf_stats run_time_ns)', samples: time },
    { type: 'counter', name: 'tsbpf_agent_events_total', help: 'events read from the ring buffer', samples: events },
    { type: 'counter', name: 'tsbpf_agent_events_lost_total', help: 'events the kernel could not queue (ring buffer full)', samples: lost },
    { type: 'gauge', name: 'tsbpf_agent_map_entries', help: 'entries in each hash map (kernel maps counted at most every 10 s)', samples: entries },
    { type: 'gauge', name: 'tsbpf_agent_map_max_entries', help: 'capacity of each hash map', samples: capacity },
    { type: 'gauge', name: 'tsbpf_agent_series_limit', help: 'label sets kept per metric before the rest fold into one labelled "other"', samples: [{ labels: {}, value: limiter.limit }] },
    { type: 'gauge', name: 'tsbpf_agent_series_folded', help: 'distinct label sets folded into "other", per metric', samples: folded },
  ];
}

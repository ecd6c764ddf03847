// What every program the agent runs is to the rest of it: metric families at scrape time, the
// kernel objects behind them (for the health metrics), events seen and lost, and close.
import type { Collection } from '../kernel/collection.js';
import type { Identities } from '../tools/common/container-names.js';
import type { CgroupResolver } from '../tools/common/cgroup.js';
import type { Logger } from './log.js';
import type { Family, Labels, SeriesLimiter } from './metrics.js';

/** An event as exported over OTLP: what happened, when (CLOCK_REALTIME ns), and its attributes. */
export interface AgentEvent {
  program: string;
  /** tcp.connect, process.exec, tcp.session, sched.runq_wait */
  kind: string;
  timeNs: bigint;
  /** duration for spans (ns); 0 for point events */
  durationNs: bigint;
  attributes: Record<string, string | number>;
}

export interface SourceContext {
  /** this program's pin directory (exists); undefined: nothing pinned */
  pinDir: string | undefined;
  /** scope: only tasks in this cgroup and below */
  cgroup: string | undefined;
  maxSeries: number;
  limiter: SeriesLimiter;
  cgroups: CgroupResolver;
  identities: Identities;
  log: Logger;
  /** set when events of this program are exported */
  onEvents: ((events: AgentEvent[]) => void) | undefined;
  runqThresholdMs: number | undefined;
}

export interface Source {
  readonly name: string;
  families(): Family[];
  collection(): Collection | undefined;
  /** maps the agent made for this program (the ledger), with their entry count (known without a walk) */
  ownMaps(): { name: string; map: import('../maps/map.js').BpfMap; entries: number }[];
  readonly events: number;
  readonly lost: number;
  close(): void;
}

/** The container labels of a cgroup id ("" on the host): name (else short id), short id, pod, namespace. */
export function containerLabels(ctx: SourceContext, cgroup: bigint): Labels {
  const c = ctx.identities.of(cgroup);
  if (!c) return { container: '', container_id: '', pod: '', namespace: '' };
  return { container: c.name ?? c.shortId, container_id: c.shortId, pod: c.pod?.name ?? c.pod?.uid ?? '', namespace: c.pod?.namespace ?? '' };
}

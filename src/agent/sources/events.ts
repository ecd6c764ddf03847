// Event tools as metrics: each drained batch of events counted per label set (container, comm,
// port...) in a pinned ledger, and handed to the OTLP exporter when it is on. The tracer is the
// terminal tool's own (same hook, same ring reader), so the agent pays what the tool pays.
import { join } from 'node:path';
import { TcpConnectTracer, type TcpConnect } from '../../tools/tcpconnect/index.js';
import { ExecsnoopTracer, type Exec } from '../../tools/execsnoop/index.js';
import { TcplifeTracer, type TcpSession } from '../../tools/tcplife/index.js';
import type { Collection } from '../../kernel/collection.js';
import { EVENT_LABELS, type ProgramConfig, type ToolName } from '../config.js';
import { Ledger } from '../ledger.js';
import type { Family, Labels } from '../metrics.js';
import { containerLabels, type AgentEvent, type Source, type SourceContext } from '../source.js';

interface Tracer<E> {
  batches(signal?: AbortSignal): AsyncGenerator<E[]>;
  readonly lost: number;
  readonly collection: Collection;
  close(): void;
}

/** One event tool: its counters (metric, help, amount per event), its labels, its OTLP form. */
interface EventSpec<E extends { cgroup: bigint; ts: number }> {
  open(o: { cgroup?: string; options: Record<string, unknown> }): Promise<Tracer<E>>;
  counters: { metric: string; help: string; amount(e: E): number }[];
  /** the value of one of the tool's own labels (container labels come from the cgroup) */
  label(e: E, name: string): string;
  event(e: E): { kind: string; durationNs: bigint; attributes: Record<string, string | number> };
}

const CONNECT: EventSpec<TcpConnect> = {
  // no source port: the agent does not wait for it (one event per connect, at once)
  open: (o) => TcpConnectTracer.open({ cgroup: o.cgroup, ...(o.options as object), waitSourcePort: false }),
  counters: [{ metric: 'tsbpf_tcp_connects_total', help: 'TCP connects started, by the connecting task', amount: () => 1 }],
  label: (e, l) => (l === 'comm' ? e.comm : l === 'dport' ? String(e.dport) : l === 'daddr' ? e.daddr : l === 'af' ? String(e.af) : l === 'uid' ? String(e.uid) : ''),
  event: (e) => ({ kind: 'tcp.connect', durationNs: 0n, attributes: { 'process.pid': e.pid, 'process.command': e.comm, 'network.peer.address': e.daddr, 'network.peer.port': e.dport, 'network.type': `ipv${e.af}` } }),
};

const EXEC: EventSpec<Exec> = {
  open: (o) => ExecsnoopTracer.open({ cgroup: o.cgroup, ...(o.options as object), maxArgs: 8 }),
  counters: [{ metric: 'tsbpf_execs_total', help: 'execve() calls, by the new program name', amount: () => 1 }],
  label: (e, l) => (l === 'comm' ? e.comm : l === 'uid' ? String(e.uid) : l === 'failed' ? String(e.ret !== 0) : ''),
  event: (e) => ({ kind: 'process.exec', durationNs: 0n, attributes: { 'process.pid': e.pid, 'process.parent_pid': e.ppid, 'process.command': e.comm, 'process.command_line': e.args.join(' '), 'process.exit.code': e.ret } }),
};

const SESSION: EventSpec<TcpSession> = {
  open: (o) => TcplifeTracer.open({ cgroup: o.cgroup, ...(o.options as object) }),
  counters: [
    { metric: 'tsbpf_tcp_sessions_total', help: 'TCP sessions closed', amount: () => 1 },
    { metric: 'tsbpf_tcp_sent_bytes_total', help: 'bytes sent by closed TCP sessions', amount: (e) => e.txBytes },
    { metric: 'tsbpf_tcp_received_bytes_total', help: 'bytes received by closed TCP sessions', amount: (e) => e.rxBytes },
  ],
  label: (e, l) => (l === 'comm' ? e.comm : l === 'dport' ? String(e.dport) : l === 'daddr' ? e.daddr : l === 'af' ? String(e.af) : ''),
  event: (e) => ({ kind: 'tcp.session', durationNs: BigInt(Math.round(e.ms * 1e6)), attributes: { 'process.pid': e.pid, 'process.command': e.comm, 'network.peer.address': e.daddr, 'network.peer.port': e.dport, 'network.local.port': e.sport, 'tsbpf.tx_bytes': e.txBytes, 'tsbpf.rx_bytes': e.rxBytes } }),
};

export const EVENT_TOOLS: Partial<Record<ToolName, EventSpec<any>>> = { tcpconnect: CONNECT, execsnoop: EXEC, tcplife: SESSION };

/** Between a ledger key's metric and label values (the key is a C string in the map: no NUL). */
const SEP = '\u001f';

/** CLOCK_MONOTONIC µs (the programs' bpf_ktime_get_ns) to CLOCK_REALTIME ns. */
function realtimeOffsetNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
}

export class EventSource<E extends { cgroup: bigint; ts: number }> implements Source {
  events = 0;
  private readonly ledger: Ledger;
  private readonly labelNames: readonly string[];
  private readonly stop = new AbortController();
  private readonly loop: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly spec: EventSpec<E>,
    private readonly tracer: Tracer<E>,
    private readonly ctx: SourceContext,
    labels: readonly string[],
  ) {
    this.labelNames = labels;
    this.ledger = new Ledger(ctx.pinDir ? join(ctx.pinDir, 'ledger') : undefined, (ctx.maxSeries + 1) * spec.counters.length);
    this.loop = this.run().catch((err) => ctx.log.error('event loop ended', { program: name, err }));
  }

  static async open(p: Extract<ProgramConfig, { kind: 'tool' }>, ctx: SourceContext): Promise<EventSource<any>> {
    const spec = EVENT_TOOLS[p.tool]!;
    const tracer = await spec.open({ ...(ctx.cgroup ? { cgroup: ctx.cgroup } : {}), options: p.options });
    try {
      return new EventSource(p.name, spec, tracer, ctx, p.labels ?? EVENT_LABELS[p.tool]!.default);
    } catch (e) {
      tracer.close();
      throw e;
    }
  }

  /** Container labels per cgroup id; an unnamed container's are asked again after a while (its runtime may not have written its name yet). */
  private readonly containers = new Map<bigint, { labels: Labels; until: number }>();

  private containerOf(cgroup: bigint): Labels {
    const hit = this.containers.get(cgroup);
    if (hit && hit.until > performance.now()) return hit.labels;
    if (this.containers.size > 10_000) this.containers.clear();
    const labels = containerLabels(this.ctx, cgroup);
    const unnamed = labels.container !== '' && labels.container === labels.container_id;
    this.containers.set(cgroup, { labels, until: unnamed ? performance.now() + 2000 : Infinity });
    return labels;
  }

  /**
   * Per distinct label values: the ledger key of each counter, after the series limit. Built once
   * per label set, so an event costs its label values, one string and a map lookup.
   */
  private readonly slots = new Map<string, string[]>();

  private slot(key: string): string[] {
    if (this.slots.size > this.ctx.maxSeries * 4 + 1024) this.slots.clear(); // a port scan: forget, recompute
    const values = key.split(SEP);
    const labels: Labels = {};
    this.labelNames.forEach((l, i) => (labels[l] = values[i]!));
    const keys = this.spec.counters.map((c) => {
      const admitted = this.ctx.limiter.admit(`${this.name}/${c.metric}`, key, labels);
      return [c.metric, ...this.labelNames.map((l) => admitted[l])].join(SEP);
    });
    this.slots.set(key, keys);
    return keys;
  }

  private async run(): Promise<void> {
    const containerLabel = new Set(['container', 'container_id', 'pod', 'namespace']);
    const getters = this.labelNames.map((l) => (containerLabel.has(l) ? (e: E) => this.containerOf(e.cgroup)[l]! : (e: E) => this.spec.label(e, l)));
    const counters = this.spec.counters;
    let offset = realtimeOffsetNs();
    for await (const batch of this.tracer.batches(this.stop.signal)) {
      const out: AgentEvent[] | undefined = this.ctx.onEvents ? [] : undefined;
      for (const e of batch) {
        let key = '';
        for (const g of getters) key += g(e) + SEP;
        const keys = this.slots.get(key) ?? this.slot(key);
        for (let i = 0; i < counters.length; i++) {
          const amount = counters[i]!.amount(e);
          if (amount) this.ledger.add(keys[i]!, amount);
        }
        if (out) {
          const ev = this.spec.event(e);
          const c = this.containerOf(e.cgroup);
          if (c.container) Object.assign(ev.attributes, { 'container.name': c.container, 'container.id': c.container_id });
          if (c.pod) Object.assign(ev.attributes, { 'k8s.pod.name': c.pod, 'k8s.namespace.name': c.namespace });
          out.push({ program: this.name, timeNs: BigInt(e.ts) * 1000n + offset, ...ev });
        }
      }
      this.events += batch.length;
      this.ledger.flush();
      if (out?.length) this.ctx.onEvents!(out);
      // the clocks drift apart (NTP): re-read the offset now and then
      if (this.events % 1024 < batch.length) offset = realtimeOffsetNs();
    }
  }

  /** Sample objects kept between scrapes (labels decoded once per series; only values change). */
  private readonly samples = new Map<string, { metric: string; sample: { labels: Labels; value: number } }>();

  families(): Family[] {
    const byMetric = new Map<string, Family & { type: 'counter' }>();
    for (const c of this.spec.counters) byMetric.set(c.metric, { type: 'counter', name: c.metric, help: c.help, samples: [] });
    for (const [key, value] of this.ledger.entries()) {
      let s = this.samples.get(key);
      if (!s) {
        const [metric, ...values] = key.split(SEP);
        const labels: Labels = { program: this.name };
        this.labelNames.forEach((l, i) => (labels[l] = values[i] ?? ''));
        s = { metric: metric!, sample: { labels, value } };
        this.samples.set(key, s);
      }
      s.sample.value = value;
      // another shape's entry cannot be here: the pin directory is per config
      byMetric.get(s.metric)?.samples.push(s.sample);
    }
    return [...byMetric.values()];
  }

  collection(): Collection {
    return this.tracer.collection;
  }

  ownMaps(): { name: string; map: import('../../maps/map.js').BpfMap; entries: number }[] {
    return [{ name: 'ledger', map: this.ledger.kernelMap, entries: this.ledger.size }];
  }

  get lost(): number {
    return this.tracer.lost;
  }

  close(): void {
    this.stop.abort();
    this.tracer.close();
    this.ledger.close();
  }

  /** Resolves when the event loop has ended (after close). */
  ended(): Promise<void> {
    return this.loop;
  }
}

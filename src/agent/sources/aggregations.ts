// Tools that aggregate in the kernel (runqlat, biolatency, syscount): their maps are pinned in the
// program's pin directory and read at each scrape, so counts survive an agent restart and cost
// nothing per event in user space. The network tools (xdp-shield, tc-limit) count per verdict in
// maps of their own that hold their rules too: they pin (and remove) those themselves, so their
// counters start from zero when the agent starts.
import { Runqlat } from '../../tools/runqlat/index.js';
import { Biolatency } from '../../tools/biolatency/index.js';
import { Syscount } from '../../tools/syscount/index.js';
import { XdpShield, ACTIONS } from '../../tools/xdp-shield/index.js';
import { TcLimiter, type TcLimitOptions } from '../../tools/tc-limit/index.js';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Collection } from '../../kernel/collection.js';
import type { LatencyHist } from '../../tools/common/histmap.js';
import type { ProgramConfig, ToolName } from '../config.js';
import { alignBounds, log2Histogram, mergeSamples, type Family, type HistogramSample, type Labels, type ValueSample } from '../metrics.js';
import type { Source, SourceContext } from '../source.js';
import { RunqSlow } from './runqslow.js';

interface Aggregator {
  readonly collection: Collection;
  close(): void;
}

type ToolOpts = Record<string, unknown> & { cgroup?: string; pin?: string };

interface AggregationSpec<T extends Aggregator> {
  open(o: ToolOpts): Promise<T>;
  families(t: T, program: string, admit: (metric: string, labels: Labels) => Labels, options: Record<string, unknown>): Family[];
}

/** Histograms of a latency tool, one per key, labels from `labelsOf`, admitted under the series limit. */
function latencyFamily<K>(name: string, help: string, hists: LatencyHist<K>[], program: string, labelsOf: (h: LatencyHist<K>) => Labels, admit: (metric: string, labels: Labels) => Labels): Family {
  const samples: HistogramSample[] = hists.map((h) => log2Histogram(admit(name, { program, ...labelsOf(h) }), h.slots, h.unit === 'msecs' ? 1e-3 : 1e-6));
  return { type: 'histogram', name, help, samples: alignBounds(mergeSamples(samples)) };
}

const RUNQLAT: AggregationSpec<Runqlat> = {
  open: (o) => Runqlat.open(o),
  families: (t, program, admit) => [
    latencyFamily('tsbpf_runq_latency_seconds', 'time runnable tasks waited for a CPU', t.snapshot(), program, (h): Labels => (h.key ? { pid: String(h.key), comm: h.comm ?? '' } : {}), admit),
  ],
};

const BIOLATENCY: AggregationSpec<Biolatency> = {
  open: (o) => Biolatency.open(o),
  families: (t, program, admit) => [
    latencyFamily('tsbpf_block_io_latency_seconds', 'block I/O request latency', t.snapshot(), program, (h) => ({ ...(h.key.disk !== undefined ? { disk: h.key.disk } : {}), ...(h.key.flags !== undefined ? { flags: h.key.flags } : {}) }), admit),
  ],
};

const SYSCOUNT: AggregationSpec<Syscount> = {
  open: (o) => Syscount.open(o),
  families: (t, program, admit, options) => {
    const rows = t.snapshot();
    const perProcess = options.perProcess === true;
    const labelsOf = (r: (typeof rows)[number]): Labels => (perProcess ? { pid: String(r.key), comm: r.name } : { syscall: r.name });
    const counts: ValueSample[] = rows.map((r) => ({ labels: admit('tsbpf_syscalls_total', { program, ...labelsOf(r) }), value: r.count }));
    const out: Family[] = [{ type: 'counter', name: 'tsbpf_syscalls_total', help: 'system calls made', samples: mergeSamples(counts) }];
    if (rows.some((r) => r.totalNs > 0)) {
      const time = rows.map((r) => ({ labels: admit('tsbpf_syscall_seconds_total', { program, ...labelsOf(r) }), value: r.totalNs / 1e9 }));
      out.push({ type: 'counter', name: 'tsbpf_syscall_seconds_total', help: 'time spent in system calls', samples: mergeSamples(time) });
    }
    return out;
  },
};

/** Packets and bytes per verdict, as two counters. */
function verdictFamilies(prefix: string, help: string, program: string, label: string, counts: [string, { packets: number; bytes: number }][]): Family[] {
  return [
    { type: 'counter', name: `${prefix}_packets_total`, help: `packets ${help}`, samples: counts.map(([v, c]) => ({ labels: { program, [label]: v }, value: c.packets })) },
    { type: 'counter', name: `${prefix}_bytes_total`, help: `bytes ${help}`, samples: counts.map(([v, c]) => ({ labels: { program, [label]: v }, value: c.bytes })) },
  ];
}

/** A crashed agent's tool pins (the tool refuses to start over them): its counters are gone with it. */
function freshDir(pin: string | undefined, name: string): string | undefined {
  if (!pin) return undefined;
  const dir = join(pin, name);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  return dir;
}

const XDP_SHIELD: AggregationSpec<XdpShield> = {
  open: (o) => {
    const { iface, cgroup: _c, pin, ...rest } = o;
    const pinDir = freshDir(pin, 'xdp-shield');
    return XdpShield.open(iface as string, { ...(rest as object), ...(pinDir ? { pinDir } : {}) });
  },
  families: (t, program, admit) => {
    const actions = t.actions();
    const rules = t.rules();
    return [
      ...verdictFamilies('tsbpf_xdp', 'seen by xdp-shield, by what it did', program, 'action', ACTIONS.map((a) => [a, actions[a]])),
      { type: 'counter', name: 'tsbpf_xdp_rule_packets_total', help: 'packets matching each allow/block rule', samples: mergeSamples(rules.map((r) => ({ labels: admit('tsbpf_xdp_rule_packets_total', { program, kind: r.kind, cidr: r.cidr }), value: r.packets }))) },
    ];
  },
};

const TC_LIMIT: AggregationSpec<TcLimiter> = {
  open: (o) => {
    const { iface, cgroup: _c, pin: _p, ...rest } = o;
    return TcLimiter.open(iface as string, rest as unknown as TcLimitOptions);
  },
  families: (t, program) => verdictFamilies('tsbpf_tc_limit', 'seen by tc-limit, by verdict', program, 'verdict', Object.entries(t.stats())),
};

export const AGGREGATION_TOOLS: Partial<Record<ToolName, AggregationSpec<any>>> = { runqlat: RUNQLAT, biolatency: BIOLATENCY, syscount: SYSCOUNT, 'xdp-shield': XDP_SHIELD, 'tc-limit': TC_LIMIT };

export class AggregationSource implements Source {
  readonly lost = 0;
  /** runqlat with OTLP and a threshold: long waits as events too */
  private slow: RunqSlow | undefined;

  private constructor(
    readonly name: string,
    private readonly spec: AggregationSpec<Aggregator>,
    private readonly tool: Aggregator,
    private readonly ctx: SourceContext,
    private readonly options: Record<string, unknown>,
  ) {}

  static async open(p: Extract<ProgramConfig, { kind: 'tool' }>, ctx: SourceContext): Promise<AggregationSource> {
    const spec = AGGREGATION_TOOLS[p.tool]!;
    const tool = await spec.open({ ...p.options, ...(ctx.cgroup ? { cgroup: ctx.cgroup } : {}), ...(ctx.pinDir ? { pin: ctx.pinDir } : {}) });
    const s = new AggregationSource(p.name, spec, tool, ctx, p.options);
    if (p.tool === 'runqlat' && ctx.onEvents && ctx.runqThresholdMs !== undefined) {
      try {
        s.slow = await RunqSlow.start(p.name, ctx.runqThresholdMs, ctx, ctx.onEvents);
      } catch (e) {
        tool.close();
        throw e;
      }
    }
    return s;
  }

  get events(): number {
    return this.slow?.events ?? 0;
  }

  families(): Family[] {
    return this.spec.families(this.tool, this.name, (metric, labels) => {
      const { program: _p, ...rest } = labels;
      const keys = Object.keys(rest);
      if (!keys.length) return labels;
      const admitted = this.ctx.limiter.admit(`${this.name}/${metric}`, keys.map((k) => rest[k]).join('\0'), rest);
      return { program: this.name, ...admitted };
    }, this.options);
  }

  collection(): Collection {
    return this.tool.collection;
  }

  ownMaps(): [] {
    return [];
  }

  close(): void {
    this.slow?.close();
    this.tool.close();
  }
}

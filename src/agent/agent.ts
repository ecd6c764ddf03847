// The agent: the programs of a config running, their metrics gathered at each scrape, reloads that
// keep what did not change, and pins. Each program gets a directory under
// <pinPath>/<node>/<name>-<digest>: the digest covers the program's config (and its object's bytes),
// so a changed program starts new maps while an unchanged one — across a reload, a crash or an
// upgrade — finds its counts where it left them. A clean stop removes the node's directory.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBpffs } from '../sys/mounts.js';
import { CgroupResolver, cgroupIdOf } from '../tools/common/cgroup.js';
import { Identities } from '../tools/common/container-names.js';
import { WAKEUP_BATCH } from '../tools/common/tracer.js';
import { parseConfig, type AgentConfig, type ConfigOverrides, type ProgramConfig } from './config.js';
import { jsonLogger, type Logger } from './log.js';
import { SeriesLimiter, type Family, type Labels } from './metrics.js';
import { BpfStats, healthFamilies, type ProgramState } from './health.js';
import { processFamilies } from './exposition.js';
import { otlpExporter, type EventExporter } from './otlp.js';
import type { Source, SourceContext } from './source.js';
import { EVENT_TOOLS, EventSource } from './sources/events.js';
import { AggregationSource } from './sources/aggregations.js';
import { ObjectSource } from './sources/object.js';
import { ScriptSource } from './sources/script.js';

interface Running {
  config: ProgramConfig;
  key: string;
  source?: Source;
  error?: string;
  /** open again even if unchanged (its context changed: the OTLP exporter) */
  restart?: boolean;
}

function isEventProgram(p: ProgramConfig): boolean {
  return p.kind === 'tool' && p.tool in EVENT_TOOLS;
}

async function openSource(p: ProgramConfig, ctx: SourceContext): Promise<Source> {
  switch (p.kind) {
    case 'tool':
      return isEventProgram(p) ? EventSource.open(p, ctx) : AggregationSource.open(p, ctx);
    case 'object':
      return ObjectSource.open(p, ctx);
    case 'script':
      return ScriptSource.open(p, ctx);
  }
}

export interface AgentOptions {
  log?: Logger;
  /** kept over every reload of the file */
  overrides?: ConfigOverrides;
}

export class Agent {
  private running = new Map<string, Running>();
  private limiter: SeriesLimiter;
  private readonly cgroups = new CgroupResolver();
  private identities: Identities;
  private readonly stats: BpfStats;
  private exporter: EventExporter | undefined;
  private stopped = false;
  /** labels with the node's constant labels merged, per source labels object */
  private withConstants = { key: '', labels: new WeakMap<Labels, Labels>() };
  readonly log: Logger;
  private readonly overrides: ConfigOverrides;

  private constructor(
    public config: AgentConfig,
    o: AgentOptions,
  ) {
    this.log = o.log ?? jsonLogger(config.logLevel);
    this.overrides = o.overrides ?? {};
    this.limiter = new SeriesLimiter(config.maxSeries);
    this.identities = new Identities(this.cgroups, { hostRoot: config.hostRoot });
    this.stats = new BpfStats(config.stats);
    if (this.stats.error) this.log.warn('bpf_stats not enabled: program run counts and times will read 0', { err: this.stats.error });
  }

  static async start(file: string, o: AgentOptions = {}): Promise<Agent> {
    const config = parseConfig(readFileSync(file, 'utf8'), file, o.overrides);
    return Agent.fromConfig(config, o);
  }

  static async fromConfig(config: AgentConfig, o: AgentOptions = {}): Promise<Agent> {
    const a = new Agent(config, o);
    if (config.cgroup) cgroupIdOf(config.cgroup); // a scope that does not exist fails the start, not each program
    a.exporter = config.otlp ? otlpExporter(config.otlp, { 'host.name': config.node, ...config.labels }) : undefined;
    a.removeStalePins(config.programs.map((p) => a.keyOf(p, config)));
    await a.apply(config.programs);
    return a;
  }

  /** The node's pin root: every agent pin lives below it. */
  get pinRoot(): string {
    return join(this.config.pinPath, this.config.node);
  }

  /** What makes a program the same program: its config, the scope, and its object's bytes. */
  private keyOf(p: ProgramConfig, c: AgentConfig): string {
    const h = createHash('sha256').update(p.digest).update(`\0${c.cgroup ?? ''}\0${c.maxSeries}\0${c.hostRoot}`);
    if (p.kind === 'object' && existsSync(p.path)) h.update(readFileSync(p.path));
    return `${p.name}-${h.digest('hex').slice(0, 12)}`;
  }

  private pinDir(key: string): string {
    return join(this.pinRoot, key);
  }

  /** Pin directories of programs no longer configured (a crash, then a changed config). */
  private removeStalePins(keep: string[]): void {
    if (!existsSync(this.pinRoot)) return;
    for (const d of readdirSync(this.pinRoot)) {
      if (keep.includes(d)) continue;
      rmSync(join(this.pinRoot, d), { recursive: true, force: true });
      this.log.info('removed stale pins', { dir: join(this.pinRoot, d) });
    }
  }

  private context(p: ProgramConfig, key: string): SourceContext {
    const dir = this.pinDir(key);
    ensureBpffs();
    mkdirSync(dir, { recursive: true });
    const o = this.config.otlp;
    const exports = isEventProgram(p) || (p.kind === 'tool' && p.tool === 'runqlat' && o?.runqThresholdMs !== undefined);
    const exported = this.exporter && exports && (!o?.programs || o.programs.includes(p.name));
    return {
      pinDir: dir,
      cgroup: this.config.cgroup,
      maxSeries: this.config.maxSeries,
      limiter: this.limiter,
      cgroups: this.cgroups,
      identities: this.identities,
      log: this.log,
      onEvents: exported ? (events) => this.exporter!.export(events) : undefined,
      runqThresholdMs: o?.runqThresholdMs,
    };
  }

  /** Opens the programs not running yet; a program that fails is reported, the others run. */
  private async apply(programs: ProgramConfig[]): Promise<void> {
    const next = new Map<string, Running>();
    for (const p of programs) {
      const key = this.keyOf(p, this.config);
      const old = this.running.get(p.name);
      if (old && old.key === key && old.source && !old.restart) {
        next.set(p.name, { ...old, config: p });
        continue;
      }
      // the same key keeps its pins: a restart in place goes on counting
      if (old) this.closeProgram(old, old.key !== key);
      const r: Running = { config: p, key };
      try {
        r.source = await openSource(p, this.context(p, key));
        this.log.info('program started', { program: p.name, kind: p.kind, ...(p.kind === 'tool' ? { tool: p.tool } : {}), pins: this.pinDir(key) });
      } catch (e) {
        r.error = (e as Error).message;
        this.log.error('program failed', { program: p.name, line: p.line, err: r.error });
      }
      next.set(p.name, r);
    }
    for (const [name, r] of this.running) if (!next.has(name)) this.closeProgram(r, true);
    this.running = next;
  }

  private closeProgram(r: Running, removePins: boolean): void {
    try {
      r.source?.close();
    } finally {
      if (removePins) rmSync(this.pinDir(r.key), { recursive: true, force: true });
      this.limiter.forget(`${r.config.name}/`);
      this.log.info('program stopped', { program: r.config.name });
    }
  }

  /** SIGHUP: read the config again; unchanged programs keep running (and counting), the rest restart. */
  async reload(file = this.config.file): Promise<boolean> {
    let config: AgentConfig;
    try {
      config = parseConfig(readFileSync(file, 'utf8'), file, this.overrides);
    } catch (e) {
      this.log.error('reload refused: config invalid, the running one stays', { err: (e as Error).message });
      return false;
    }
    if (config.node !== this.config.node || config.pinPath !== this.config.pinPath) {
      // another pin root: everything moves there
      for (const r of this.running.values()) this.closeProgram(r, true);
      this.running.clear();
    }
    if (config.maxSeries !== this.config.maxSeries) this.limiter = new SeriesLimiter(config.maxSeries);
    if (config.hostRoot !== this.config.hostRoot) this.identities = new Identities(this.cgroups, { hostRoot: config.hostRoot });
    if (JSON.stringify(config.otlp) !== JSON.stringify(this.config.otlp)) {
      await this.exporter?.close();
      this.exporter = config.otlp ? otlpExporter(config.otlp, { 'host.name': config.node, ...config.labels }) : undefined;
      // event programs hold the exporter in their context: open them anew
      for (const r of this.running.values()) if (isEventProgram(r.config) || (r.config.kind === 'tool' && r.config.tool === 'runqlat')) r.restart = true;
    }
    this.log.level = config.logLevel;
    this.config = config;
    await this.apply(config.programs);
    this.log.info('config reloaded', { programs: config.programs.length });
    return true;
  }

  states(): ProgramState[] {
    return [...this.running.values()].map((r) => {
      const coll = r.source?.collection();
      const maps = [...(coll?.maps.values() ?? []), ...(r.source?.ownMaps().map((m) => m.map) ?? [])];
      return {
        name: r.config.name,
        up: !!r.source,
        ...(r.error ? { error: r.error } : {}),
        ...(coll ? { programIds: [...coll.programs.values()].map((p) => p.id) } : {}),
        ...(maps.length ? { mapIds: maps.map((m) => m.id) } : {}),
      };
    });
  }

  /** Every family: the programs' metrics (with the node's labels) and the agent's health. */
  families(): Family[] {
    const sources = [...this.running.values()].flatMap((r) => (r.source ? [r.source] : []));
    const out = new Map<string, Family>();
    for (const s of sources) {
      let fams: Family[];
      try {
        fams = s.families();
      } catch (e) {
        this.log.warn('reading metrics failed', { program: s.name, err: (e as Error).message });
        continue;
      }
      // two programs of one tool give one family, told apart by their `program` label
      for (const f of fams) {
        const prev = out.get(f.name);
        if (prev && prev.type === f.type) (prev.samples as unknown[]).push(...f.samples);
        else out.set(f.name, { ...f, samples: [...f.samples] } as Family);
      }
    }
    const constant = { node: this.config.node, ...this.config.labels };
    const constKey = JSON.stringify(constant);
    if (constKey !== this.withConstants.key) this.withConstants = { key: constKey, labels: new WeakMap() };
    const cache = this.withConstants.labels;
    const all = [...out.values(), ...healthFamilies(sources, this.states(), this.limiter, this.stats), ...processFamilies()];
    // the node's labels first; a source that keeps its samples between scrapes gets them merged once
    for (const f of all) {
      f.samples = (f.samples as { labels: Labels }[]).map((s) => {
        let merged = cache.get(s.labels);
        if (!merged) cache.set(s.labels, (merged = { ...constant, ...s.labels }));
        return { ...s, labels: merged };
      }) as never;
    }
    return all;
  }

  /** Stops every program. Pins are removed unless `keepPins` (a restart that should go on counting). */
  async stop(keepPins = false): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // events still in the rings are read (the tools drain every 100 ms) before the programs go
    await new Promise((r) => setTimeout(r, WAKEUP_BATCH.interval + 50));
    for (const r of this.running.values()) this.closeProgram(r, false);
    this.running.clear();
    this.stats.close();
    if (this.exporter) await this.exporter.close().catch((e) => this.log.warn('OTLP flush failed at stop', { err: (e as Error).message }));
    if (!keepPins) rmSync(this.pinRoot, { recursive: true, force: true });
    this.log.info(keepPins ? 'stopped, pins kept' : 'stopped, pins removed', { pins: this.pinRoot });
  }

  /** Flushes queued OTLP events (tests; a stop flushes too). */
  async flushEvents(): Promise<void> {
    await this.exporter?.flush();
  }
}

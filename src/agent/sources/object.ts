// A user's object (.bpf.o): loaded and attached by SEC(), its maps read at each scrape into the
// metrics its config describes (ebpf_exporter's shape: counters, gauges, histograms with labels
// decoded from BTF-typed keys). The maps the metrics read are pinned in the program's directory.
import { Collection } from '../../kernel/collection.js';
import type { BpfMap } from '../../maps/map.js';
import { big, numbers } from '../../tools/common/decode.js';
import type { MapMetricConfig, ProgramConfig } from '../config.js';
import { alignBounds, labelKey, linearHistogram, log2Histogram, mergeSamples, type Family, type HistogramSample, type Labels, type ValueSample } from '../metrics.js';
import type { Source, SourceContext } from '../source.js';
import { decodeLabel, member } from './decoders.js';

function toNumber(v: unknown): number {
  if (Array.isArray(v)) return v.reduce<number>((a, x) => a + toNumber(x), 0);
  return Number(big(v));
}

/** Every entry of a map, per-CPU values summed into one. */
function* entries(m: BpfMap<unknown, unknown>): IterableIterator<[unknown, unknown]> {
  if (m.perCpu) {
    for (const [k, vs] of m.entriesPerCpu()) yield [k, vs];
  } else yield* m.entries();
}

function valueOf(v: unknown, path: string | undefined): number {
  if (Array.isArray(v)) return v.reduce<number>((a, x) => a + valueOf(x, path), 0);
  return toNumber(path ? member(v, path) : v);
}

export class ObjectSource implements Source {
  readonly events = 0;
  readonly lost = 0;

  private constructor(
    readonly name: string,
    private readonly coll: Collection,
    private readonly metrics: MapMetricConfig[],
    private readonly ctx: SourceContext,
  ) {}

  static async open(p: Extract<ProgramConfig, { kind: 'object' }>, ctx: SourceContext): Promise<ObjectSource> {
    const maps = [...new Set(p.metrics.map((m) => m.map))];
    const coll = Collection.load(p.path, ctx.pinDir ? { pinPath: ctx.pinDir, pinMaps: maps } : {});
    try {
      for (const m of maps) coll.map(m); // a metric naming a map the object lacks fails here, at load
      coll.attach();
      return new ObjectSource(p.name, coll, p.metrics, ctx);
    } catch (e) {
      coll.close();
      throw e;
    }
  }

  families(): Family[] {
    return this.metrics.map((m) => this.family(m));
  }

  private labels(m: MapMetricConfig, key: unknown): Labels {
    const l: Labels = {};
    for (const d of m.labels) l[d.name] = decodeLabel(member(key, d.field), d.decoder, this.ctx);
    const admitted = m.labels.length ? this.ctx.limiter.admit(`${this.name}/${m.name}`, labelKey(l), l) : l;
    return { program: this.name, ...admitted };
  }

  private family(m: MapMetricConfig): Family {
    const map = this.coll.map(m.map) as BpfMap<unknown, unknown>;
    if (m.type !== 'histogram') {
      const samples: ValueSample[] = [];
      for (const [k, v] of entries(map)) samples.push({ labels: this.labels(m, k), value: valueOf(v, m.value) });
      return { type: m.type, name: m.name, help: m.help || `${m.type} from map ${m.map}`, samples: mergeSamples(samples) };
    }
    const b = m.bucket!;
    const hist = (labels: Labels, slots: number[]): HistogramSample =>
      b.type === 'log2' ? log2Histogram(labels, slots, b.unit) : linearHistogram(labels, slots, b.min, b.step, b.unit);
    const samples: HistogramSample[] = [];
    if (b.slots) {
      for (const [k, v] of entries(map)) {
        const vs = Array.isArray(v) && m.map && map.perCpu ? v : [v];
        const slots: number[] = [];
        for (const x of vs) numbers(member(x, b.slots)).forEach((c, i) => (slots[i] = (slots[i] ?? 0) + c));
        samples.push(hist(this.labels(m, k), slots));
      }
    } else {
      // ebpf_exporter's layout: the bucket index is a member of the key; the rest of the key labels it
      const groups = new Map<string, { labels: Labels; slots: number[] }>();
      for (const [k, v] of entries(map)) {
        const labels = this.labels(m, k);
        const g = groups.get(labelKey(labels)) ?? { labels, slots: [] };
        groups.set(labelKey(labels), g);
        const i = Number(big(member(k, b.field!)));
        if (i >= 0 && i < 4096) g.slots[i] = (g.slots[i] ?? 0) + valueOf(v, m.value);
      }
      for (const g of groups.values()) samples.push(hist(g.labels, Array.from(g.slots, (x) => x ?? 0)));
    }
    return { type: 'histogram', name: m.name, help: m.help || `histogram from map ${m.map}`, samples: alignBounds(mergeSamples(samples)) };
  }

  collection(): Collection {
    return this.coll;
  }

  ownMaps(): [] {
    return [];
  }

  close(): void {
    this.coll.close();
  }
}

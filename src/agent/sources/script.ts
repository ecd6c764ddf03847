// A tsbpf script (bpftrace's language) as a metrics source: `@name[key] = count()` becomes the counter
// tsbpf_script_<name>_total{key="..."}, sum() a counter, hist()/lhist() histograms, avg/min/max and
// plain values gauges. The script runs as `tsbpf trace` runs it; its printf output goes to the log.
import { compileScript } from '../../script/compile.js';
import { runCompiled } from '../../script/runtime.js';
import type { MapEntry, Value } from '../../script/output.js';
import type { MapInfo } from '../../script/types.js';
import type { ProgramConfig } from '../config.js';
import { alignBounds, labelKey, mergeSamples, type Family, type HistogramSample, type Labels, type ValueSample } from '../metrics.js';
import type { Source, SourceContext } from '../source.js';

type Reader = () => { info: MapInfo; entries: MapEntry[] }[];

const text = (v: Value): string => (Array.isArray(v) ? v.map(text).join(',') : String(v));

/** bpftrace's hist(): bucket 0 < 0, 1 = 0, 2 = 1, k >= 3 holds [2^(k-2), 2^(k-1)); values are integers. */
function histBounds(n: number): number[] {
  return Array.from({ length: n }, (_, k) => (k === 0 ? -1 : k === 1 ? 0 : 2 ** (k - 1) - 1));
}

/** lhist(min, max, step): bucket 0 < min, i in 1..n holds [min+(i-1)step, min+i*step), n+1 >= max. */
function lhistBounds(min: number, max: number, step: number): number[] {
  const n = Math.floor((max - min) / step);
  return Array.from({ length: n + 1 }, (_, i) => min + i * step - 1);
}

function histogram(labels: Labels, bounds: number[], buckets: bigint[]): HistogramSample {
  const counts = bounds.map((_, i) => Number(buckets[i] ?? 0n));
  const over = buckets.slice(bounds.length).reduce((a, b) => a + Number(b), 0);
  counts.push(over);
  // buckets hold no sum: each bucket's midpoint stands in (the last bucket's lower bound)
  let sum = 0;
  bounds.forEach((le, i) => (sum += counts[i]! * (i === 0 ? le : (bounds[i - 1]! + 1 + le) / 2)));
  sum += over * (bounds[bounds.length - 1]! + 1);
  return { labels, bounds, counts, sum };
}

export class ScriptSource implements Source {
  readonly events = 0;
  readonly lost = 0;
  private read: Reader | undefined;
  private readonly stop = new AbortController();

  private constructor(
    readonly name: string,
    private readonly ctx: SourceContext,
  ) {}

  static async open(p: Extract<ProgramConfig, { kind: 'script' }>, ctx: SourceContext): Promise<ScriptSource> {
    const s = new ScriptSource(p.name, ctx);
    const compiled = compileScript(p.source, { fileName: `${p.name}.bt` });
    let attached!: () => void;
    let failed!: (e: unknown) => void;
    const ready = new Promise<void>((res, rej) => ((attached = res), (failed = rej)));
    const run = runCompiled(compiled, {
      signal: s.stop.signal,
      write: (line) => (s.read ? ctx.log.debug('script output', { program: p.name, line: line.trimEnd() }) : undefined),
      onMaps: (read) => ((s.read = read), attached()),
    });
    run.then(
      () => failed(new Error(`script ${p.name} ended before it was attached (exit() in BEGIN?)`)),
      (e) => failed(e),
    );
    await ready;
    return s;
  }

  families(): Family[] {
    if (!this.read) return [];
    const out: Family[] = [];
    for (const { info, entries } of this.read()) {
      const base = `tsbpf_script_${info.name.replace(/^@/, '').replace(/[^a-zA-Z0-9_]/g, '_') || 'map'}`;
      const labelsOf = (e: MapEntry): Labels => {
        const l: Labels = {};
        if (e.keys.length === 1) l.key = text(e.keys[0]!);
        else e.keys.forEach((k, i) => (l[`key${i}`] = text(k)));
        const admitted = e.keys.length ? this.ctx.limiter.admit(`${this.name}/${base}`, labelKey(l), l) : l;
        return { program: this.name, ...admitted };
      };
      const v = info.value;
      if (v.kind === 'agg' && (v.agg === 'hist' || v.agg === 'lhist')) {
        const samples: HistogramSample[] = entries.map((e) => {
          const b = e.value.kind === 'hist' ? e.value.buckets : [];
          const bounds = v.agg === 'hist' ? histBounds(Math.max(b.length - 1, 1)) : lhistBounds(v.lhist!.min, v.lhist!.max, v.lhist!.step);
          return histogram(labelsOf(e), bounds, b);
        });
        out.push({ type: 'histogram', name: base, help: `hist() of ${info.name}`, samples: alignBounds(mergeSamples(samples)) });
        continue;
      }
      const counter = v.kind === 'agg' && (v.agg === 'count' || v.agg === 'sum');
      const samples: ValueSample[] = [];
      for (const e of entries) {
        const x = e.value;
        const value = x.kind === 'scalar' ? Number(x.value) : x.kind === 'avg' || x.kind === 'stats' ? (x.count ? Number(x.total / x.count) : 0) : x.kind === 'value' && typeof x.value === 'bigint' ? Number(x.value) : NaN;
        if (!Number.isNaN(value)) samples.push({ labels: labelsOf(e), value });
      }
      out.push({ type: counter ? 'counter' : 'gauge', name: counter ? `${base}_total` : base, help: `${v.kind === 'agg' ? `${v.agg}()` : 'values'} of ${info.name}`, samples: mergeSamples(samples) });
    }
    return out;
  }

  collection(): undefined {
    return undefined;
  }

  ownMaps(): [] {
    return [];
  }

  close(): void {
    this.read = undefined;
    this.stop.abort();
  }
}

// What the agent serves, before any format: metric families of samples with labels. Sources build
// them at scrape time from kernel maps and event counts; exposition.ts hands them to prom-client.
export type Labels = Record<string, string>;

export interface ValueSample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  /** upper bounds (le) of the finite buckets, ascending */
  bounds: readonly number[];
  /** count in each bucket, not cumulative: bounds.length + 1 entries, the last for +Inf */
  counts: readonly number[];
  sum: number;
}

export type Family =
  | { type: 'counter' | 'gauge'; name: string; help: string; samples: ValueSample[] }
  | { type: 'histogram'; name: string; help: string; samples: HistogramSample[] };

/**
 * A log2 histogram (slot i holds [2^i, 2^(i+1)) units, slot 0 also 0) as Prometheus buckets in base
 * units: le = 2^(i+1) * unit. Slots hold no sum: _sum is estimated from each slot's midpoint (as
 * ebpf_exporter estimates its exp2 histograms' sum), exact to within a factor of 1.5 per event.
 */
export function log2Histogram(labels: Labels, slots: readonly number[], unit: number): HistogramSample {
  let last = slots.length - 1;
  while (last > 0 && !slots[last]) last--;
  // at least the first few buckets, so every series of a family has the same bounds below its data
  const n = Math.max(last + 1, 1);
  const bounds: number[] = [];
  const counts: number[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const c = slots[i] ?? 0;
    bounds.push(2 ** (i + 1) * unit);
    counts.push(c);
    sum += c * (i === 0 ? 0.5 : 1.5 * 2 ** i) * unit;
  }
  counts.push(0);
  return { labels, bounds, counts, sum };
}

/** Linear buckets: slot i holds [min + i*step, min + (i+1)*step); the last slot also everything above. */
export function linearHistogram(labels: Labels, slots: readonly number[], min: number, step: number, unit: number): HistogramSample {
  const bounds: number[] = [];
  const counts: number[] = [];
  let sum = 0;
  for (let i = 0; i < slots.length - 1; i++) {
    bounds.push((min + (i + 1) * step) * unit);
    counts.push(slots[i] ?? 0);
    sum += (slots[i] ?? 0) * (min + (i + 0.5) * step) * unit;
  }
  const over = slots[slots.length - 1] ?? 0;
  counts.push(over);
  sum += over * (min + (slots.length - 0.5) * step) * unit;
  return { labels, bounds, counts, sum };
}

/** Every sample of a histogram family on the same bounds (the longest), as Prometheus expects. */
export function alignBounds(samples: HistogramSample[]): HistogramSample[] {
  let widest: readonly number[] = [];
  for (const s of samples) if (s.bounds.length > widest.length) widest = s.bounds;
  return samples.map((s) => {
    if (s.bounds.length === widest.length) return s;
    const counts = [...s.counts.slice(0, -1), ...new Array<number>(widest.length - s.bounds.length).fill(0), s.counts[s.counts.length - 1]!];
    return { ...s, bounds: widest, counts };
  });
}

export const OTHER = 'other';

/**
 * Bounded label sets per metric: the first `limit` label sets seen are admitted for the agent's life,
 * later ones are folded into one series whose labels all read "other". Admission by arrival, not by
 * size, keeps each series' counter monotonic (a top-N would move counts in and out of "other").
 */
export class SeriesLimiter {
  private readonly admitted = new Map<string, Set<string>>();
  /** distinct label sets folded into "other", per metric */
  readonly folded = new Map<string, Set<string>>();

  constructor(readonly limit: number) {}

  /** The labels to count under: these, or the "other" set when the metric is full. */
  admit(metric: string, key: string, labels: Labels): Labels {
    let set = this.admitted.get(metric);
    if (!set) this.admitted.set(metric, (set = new Set()));
    if (set.has(key)) return labels;
    if (set.size < this.limit) {
      set.add(key);
      return labels;
    }
    let f = this.folded.get(metric);
    if (!f) this.folded.set(metric, (f = new Set()));
    // remember a bounded number of keys: the count is a gauge of at most limit*10
    if (f.size < this.limit * 10) f.add(key);
    return Object.fromEntries(Object.keys(labels).map((k) => [k, OTHER]));
  }

  /** Forget a metric (its program was reloaded with another shape). */
  forget(prefix: string): void {
    for (const m of [...this.admitted.keys()]) if (m.startsWith(prefix)) this.admitted.delete(m), this.folded.delete(m);
  }
}

/** Sums samples that ended on the same labels (several folded into "other"). */
export function mergeSamples<S extends ValueSample | HistogramSample>(samples: S[]): S[] {
  const out = new Map<string, S>();
  for (const s of samples) {
    const k = labelKey(s.labels);
    const prev = out.get(k);
    if (!prev) {
      out.set(k, s);
      continue;
    }
    if ('value' in prev) (prev as ValueSample).value += (s as ValueSample).value;
    else {
      const [a, b] = alignBounds([prev as HistogramSample, s as HistogramSample]) as [HistogramSample, HistogramSample];
      out.set(k, { ...a, counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)), sum: a.sum + b.sum } as unknown as S);
    }
  }
  return [...out.values()];
}

export function labelKey(l: Labels): string {
  return Object.keys(l).map((k) => `${k}\u0001${l[k]}`).join('\u0002');
}

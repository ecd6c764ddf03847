// Metric families to the Prometheus text format or OpenMetrics, chosen by the scraper's Accept
// header as prom-client's own users do, and written by prom-client's Registry. The families are
// built anew at each scrape (they come from kernel maps), so each scrape registers snapshot
// metrics in a fresh registry (OpenMetrics renames counters in place: a registry is one format's).
import client from 'prom-client';
import type { Family } from './metrics.js';

const { Registry } = client;
// prom-client types each registry by its content type; the agent holds both kinds
type AnyRegistry = client.Registry<client.RegistryContentType>;
const newRegistry = (type: string): AnyRegistry => new (Registry as unknown as new (t: string) => AnyRegistry)(type);

export type Format = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Record<Format, string> = {
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/** OpenMetrics when the scraper asks for it (Prometheus does, with a q-value), else the text format. */
export function negotiate(accept: string | undefined): Format {
  return accept && /application\/openmetrics-text/.test(accept) ? 'openmetrics' : 'prometheus';
}

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric as prom-client's Registry formats it: a name, a type and values. */
function snapshot(f: Family, format: Format): { name: string; help: string; type: string; aggregator: 'sum'; get(): Promise<unknown>; reset(): void } {
  const values: Value[] = [];
  // OpenMetrics: the family is named without _total and its samples get it; text: the name as is
  const base = f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
  if (f.type === 'histogram') {
    for (const s of f.samples) {
      let cum = 0;
      s.bounds.forEach((le, i) => {
        cum += s.counts[i] ?? 0;
        values.push({ labels: { ...s.labels, le }, value: cum, metricName: `${f.name}_bucket` });
      });
      cum += s.counts[s.bounds.length] ?? 0;
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: cum, metricName: `${f.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${f.name}_sum` });
      values.push({ labels: s.labels, value: cum, metricName: `${f.name}_count` });
    }
  } else {
    // text: the family's name already ends in _total; OpenMetrics: prom-client appends it
    for (const s of f.samples) values.push(s);
  }
  const name = format === 'openmetrics' ? base : f.type === 'counter' ? `${base}_total` : f.name;
  const m = { name, help: f.help, type: f.type, aggregator: 'sum' as const, get: async () => ({ name, help: f.help, type: f.type, values, aggregator: 'sum' }), reset: () => {} };
  return m;
}

/** The agent's own cost: CPU time and memory of its process. */
export function processFamilies(): Family[] {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return [
    { type: 'counter', name: 'tsbpf_agent_process_cpu_seconds_total', help: 'CPU time of the agent process (user and system)', samples: [{ labels: {}, value: (cpu.user + cpu.system) / 1e6 }] },
    { type: 'gauge', name: 'tsbpf_agent_process_resident_memory_bytes', help: 'resident memory of the agent process', samples: [{ labels: {}, value: mem.rss }] },
    { type: 'gauge', name: 'tsbpf_agent_process_heap_used_bytes', help: 'JavaScript heap in use', samples: [{ labels: {}, value: mem.heapUsed }] },
  ];
}

/** Families in the format asked for, written by prom-client. */
export async function render(families: Family[], format: Format): Promise<string> {
  const reg = newRegistry(CONTENT_TYPES[format]);
  for (const f of families) reg.registerMetric(snapshot(f, format) as never);
  return reg.metrics();
}

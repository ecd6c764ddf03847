// Metric families as Prometheus and OpenMetrics text (prom-client writes them): histograms with
// cumulative buckets, _sum and _count; counters named as each format wants; bounded series folded
// into "other"; and promtool, Prometheus' own checker, accepts the text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { render, negotiate } from '../../src/agent/exposition.js';
import { log2Histogram, linearHistogram, SeriesLimiter, alignBounds, mergeSamples, type Family } from '../../src/agent/metrics.js';
import { needsCommand } from '../helpers/kernel.js';

const families = (): Family[] => [
  { type: 'counter', name: 'x_events_total', help: 'events', samples: [{ labels: { comm: 'a"b\\c' }, value: 3 }, { labels: { comm: 'd' }, value: 4 }] },
  { type: 'gauge', name: 'x_fill', help: 'fill', samples: [{ labels: {}, value: 0.5 }] },
  { type: 'histogram', name: 'x_latency_seconds', help: 'latency', samples: alignBounds([log2Histogram({ cpu: '0' }, [1, 0, 2], 1e-6), log2Histogram({ cpu: '1' }, [0, 0, 0, 0, 5], 1e-6)]) },
];

test('log2 slots become cumulative buckets at 2^(i+1) units, _count the total; linear at min+step*(i+1)', () => {
  const h = log2Histogram({}, [1, 0, 2, 0, 0], 1e-6);
  assert.deepEqual(h.bounds, [2e-6, 4e-6, 8e-6]);
  assert.deepEqual(h.counts, [1, 0, 2, 0]);
  assert.ok(Math.abs(h.sum - (0.5 + 2 * 6) * 1e-6) < 1e-12);
  const l = linearHistogram({}, [1, 2, 3], 10, 5, 1);
  assert.deepEqual(l.bounds, [15, 20]);
  assert.deepEqual(l.counts, [1, 2, 3]);
});

test('Prometheus text: counters end in _total, histogram buckets cumulative with +Inf, labels escaped', async () => {
  const text = await render(families(), 'prometheus');
  assert.match(text, /^# TYPE x_events_total counter$/m);
  assert.match(text, /^x_events_total\{comm="a\\"b\\\\c"\} 3$/m);
  assert.match(text, /^x_latency_seconds_bucket\{cpu="0",le="0.000002"\} 1$/m);
  assert.match(text, /^x_latency_seconds_bucket\{cpu="0",le="0.000008"\} 3$/m);
  assert.match(text, /^x_latency_seconds_bucket\{cpu="0",le="\+Inf"\} 3$/m);
  assert.match(text, /^x_latency_seconds_bucket\{cpu="1",le="0.000032"\} 5$/m);
  assert.match(text, /^x_latency_seconds_count\{cpu="1"\} 5$/m);
  // both series on the same bounds
  assert.equal(text.match(/x_latency_seconds_bucket\{cpu="0"/g)!.length, text.match(/x_latency_seconds_bucket\{cpu="1"/g)!.length);
});

test('OpenMetrics: the family is named without _total, samples with it, and the text ends with # EOF', async () => {
  const text = await render(families(), 'openmetrics');
  assert.match(text, /^# TYPE x_events counter$/m);
  assert.match(text, /^x_events_total\{comm="d"\} 4$/m);
  assert.ok(text.endsWith('# EOF\n'));
  // a second Prometheus render is not affected by the first (no shared, renamed metric objects)
  assert.match(await render(families(), 'prometheus'), /^# TYPE x_events_total counter$/m);
});

test('content negotiation: OpenMetrics when asked for, as Prometheus asks; text otherwise', () => {
  assert.equal(negotiate('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'), 'openmetrics');
  assert.equal(negotiate('text/plain'), 'prometheus');
  assert.equal(negotiate(undefined), 'prometheus');
});

test('series limit: the first N label sets stay, later ones fold into "other", counted', () => {
  const lim = new SeriesLimiter(2);
  assert.deepEqual(lim.admit('m', 'a', { k: 'a' }), { k: 'a' });
  assert.deepEqual(lim.admit('m', 'b', { k: 'b' }), { k: 'b' });
  assert.deepEqual(lim.admit('m', 'c', { k: 'c', j: 'x' }), { k: 'other', j: 'other' });
  assert.deepEqual(lim.admit('m', 'a', { k: 'a' }), { k: 'a' });
  lim.admit('m', 'd', { k: 'd' });
  assert.equal(lim.folded.get('m')!.size, 2);
  assert.deepEqual(lim.admit('other-metric', 'z', { k: 'z' }), { k: 'z' });
  const merged = mergeSamples([{ labels: { k: 'other' }, value: 1 }, { labels: { k: 'other' }, value: 2 }, { labels: { k: 'a' }, value: 5 }]);
  assert.deepEqual(merged, [{ labels: { k: 'other' }, value: 3 }, { labels: { k: 'a' }, value: 5 }]);
});

test('promtool check metrics (it reads the text format) accepts the output', async (t) => {
  if (!needsCommand(t, 'promtool')) return;
  const r = spawnSync('promtool', ['check', 'metrics'], { input: await render(families(), 'prometheus'), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

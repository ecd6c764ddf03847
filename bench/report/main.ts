// `npm run bench -- report`: bench/report.html and its figures (bench/figures/*.svg) from the
// results the benchmarks saved (bench/results/*.json): every headline ratio with its rounds' spread
// and goal, and the scaling curves measured here, each against its peer. It measures nothing
// itself: run the benchmarks first (on a quiet machine), then this.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { root } from '../report.js';
import { lineChart, short, type Series } from './chart.js';

interface CurvePoint {
  x: number;
  median: number;
  min?: number;
  max?: number;
  label?: string;
}
interface Curve {
  x: string;
  y: string;
  series: Record<string, CurvePoint[]>;
}
type Result = Record<string, any>;

const resultsDir = join(root, 'bench/results');
const figuresDir = join(root, 'bench/figures');
mkdirSync(figuresDir, { recursive: true });
// NAME.json is a benchmark's last accepted result, NAME.refused.json its last refused one (rounds that
// disagree by more than 15 %, scripts/bench.js): the newer of the two is shown, a refused one as such
const results = new Map<string, Result>();
for (const f of readdirSync(resultsDir).filter((f) => f.endsWith('.json')).sort()) {
  const name = f.replace(/(\.refused)?\.json$/, '');
  const r = JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as Result;
  const had = results.get(name);
  if (!had || String(r.date ?? '') > String(had.date ?? '')) results.set(name, r);
}

const esc = (s: string): string => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The leading comment of bench/NAME.ts: what the benchmark measures, in its own words. */
function description(name: string): string {
  const f = join(root, 'bench', `${name}.ts`);
  if (!existsSync(f)) return '';
  const lines: string[] = [];
  for (const l of readFileSync(f, 'utf8').split('\n')) {
    if (!l.startsWith('//')) break;
    lines.push(l.replace(/^\/\/ ?/, ''));
  }
  return lines.join(' ');
}

const toSeries = (c: Curve, scatter: (name: string) => boolean = () => false): Series[] =>
  Object.entries(c.series).map(([name, pts]) => ({ name, scatter: scatter(name), points: pts.map((p) => ({ x: p.x, y: p.median, min: p.min, max: p.max, label: p.label })) }));

interface Figure {
  file: string;
  svg: string;
  caption: string;
}
const figures: Figure[] = [];
const missing: string[] = [];
function figure(file: string, caption: string, make: () => string | undefined, needs: string): void {
  let svg: string | undefined;
  try {
    svg = make();
  } catch {
    svg = undefined;
  }
  if (!svg) {
    missing.push(`${caption} — run <code>npm run bench -- ${needs}</code>`);
    return;
  }
  writeFileSync(join(figuresDir, file), svg);
  if (results.get(needs)?.refused) caption += ' — from a refused run (its headline rounds disagree): read the error bars';
  figures.push({ file, svg, caption });
}

// ---- ring buffer: drain rate against record size; paced CPU against producers ----
const rb = results.get('ringbuf');
figure('ringbuf-size.svg', 'Ring buffer: draining a pre-filled ring, records per consumer CPU-second against record size (tsbpf, cilium/ebpf, libbpf)', () => {
  const c = rb?.curve as Curve | undefined;
  return c && lineChart(toSeries(c), { title: 'Ring buffer drain vs record size', xLabel: 'record bytes', yLabel: 'records per CPU-s', logX: true, logY: true });
}, 'ringbuf');
for (const size of ['32 B', '1 KiB']) {
  figure(`ringbuf-producers-${size.replace(' ', '')}.svg`, `Ring buffer at a paced 100k records/s, ${size} records: records per consumer CPU-second against producers`, () => {
    const conds = (rb?.conditions as { condition: string; figures: Record<string, { median: number; min: number; max: number }> }[] | undefined)?.filter((c) => c.condition.startsWith(`ring paced ${size},`));
    if (!conds?.length) return undefined;
    const who = Object.keys(conds[0]!.figures);
    const series: Series[] = who.map((w) => ({
      name: w === 'tsbpf-eager' ? 'tsbpf-eager (no coalescing)' : w,
      points: conds.map((c) => ({ x: Number(/, (\d+) producer/.exec(c.condition)![1]), y: c.figures[w]!.median, min: c.figures[w]!.min, max: c.figures[w]!.max })),
    }));
    return lineChart(series, { title: `Paced ring buffer, ${size} records`, xLabel: 'producers', yLabel: 'records per consumer CPU-s', logY: true });
  }, 'ringbuf');
}

// ---- maps: op time against entries ----
const map = results.get('map');
for (const [op, title] of [['lookup', 'lookup'], ['update', 'update'], ['batchLookup', 'batch lookup (per entry)'], ['batchUpdate', 'batch update (per entry)']] as const) {
  figure(`map-${op}.svg`, `Hash map ${title}: CPU ns against the number of entries`, () => {
    const c = map?.curve?.[op] as Curve | undefined;
    return c && lineChart(toSeries(c), { title: `Hash map ${title}`, xLabel: 'entries', yLabel: c.y, logX: true });
  }, 'map');
}

// ---- verifier: time against program size ----
figure('verifier-size.svg', "Verification time against program size: tsbpf's verifier and the kernel's, on the tools' programs (points) and generated ones up to 100k instructions (lines)", () => {
  const c = results.get('vm-verify')?.curve as Curve | undefined;
  return c && lineChart(toSeries(c, (n) => n.includes('tools')), { title: 'Verifier time vs program size', xLabel: 'instructions', yLabel: 'ms', logX: true, logY: true });
}, 'vm-verify');

// ---- capture: throughput against filter size ----
figure('capture-filter.svg', 'Capture: packets per CPU-second against the filter\'s size (tsbpf capture vs tcpdump, "host A or host B or ..." with 1 to 64 hosts)', () => {
  const c = results.get('capture-filter')?.curve as Curve | undefined;
  return c && lineChart(toSeries(c), { title: 'Capture throughput vs filter size', xLabel: 'filter instructions (tcpdump -d)', yLabel: 'packets per CPU-s', logX: true });
}, 'capture-filter');

// ---- tcpconnect: tracer CPU against connect rate ----
figure('tcpconnect-rate.svg', "tcpconnect: the tracer's CPU against the connect rate (tsbpf tcpconnect vs bpftrace on the same tracepoint)", () => {
  const c = results.get('tcpconnect-rate')?.curve as Curve | undefined;
  return c && lineChart(toSeries(c), { title: 'Tracing cost vs connect rate', xLabel: 'connects/s', yLabel: '% of one CPU', logX: true });
}, 'tcpconnect-rate');

// ---- the headline table ----
const rows = [...results.entries()].map(([name, r]) => {
  const s = r.ratioSpread as { min: number; median: number; max: number; spread: number } | undefined;
  // profile's goals are absolute (seconds, MB), not a ratio
  const goals = r.goals as Record<string, number> | undefined;
  const goal = r.target !== undefined ? `${r.better === 'lower' ? '≤' : '≥'} ${r.target}` : goals ? Object.entries(goals).map(([k, v]) => `${k} ≤ ${v}`).join(', ') : '';
  const goalsMet = r.goalsMet as Record<string, boolean> | undefined;
  const targetMet = r.targetMet ?? (goalsMet ? Object.values(goalsMet).every(Boolean) : undefined);
  const met = r.refused
    ? `<span class="refused">refused</span>${targetMet === undefined ? '' : ` (${targetMet ? 'would meet' : 'would miss'})`}`
    : targetMet === undefined ? '' : targetMet ? '<span class="met">met</span>' : '<span class="miss">missed</span>';
  const ratio = r.refused ? `<span class="refused">(${r.ratio})</span>` : `<b>${r.ratio}</b>`;
  return `<tr><td><a href="#${esc(name)}">${esc(name)}</a></td><td>${esc(short(r.ours))}</td><td>${esc(short(r.reference))}</td><td>${esc(r.unit)}</td>` +
    `<td>${esc(r.referenceName ?? '')}</td><td class="num">${ratio}</td><td class="num">${s ? `${s.min} – ${s.max} (${(s.spread * 100).toFixed(1)} %)` : '—'}</td>` +
    `<td>${goal}</td><td>${met}</td><td>${esc(String(r.date ?? '').slice(0, 10))}</td></tr>`;
});

const details = [...results.entries()].map(([name, r]) => `<section id="${esc(name)}"><h3>${esc(name)}${r.refused ? ' (refused: its rounds disagree)' : ''}</h3><p>${esc(description(name))}</p>` +
  `<details><summary>result JSON</summary><pre>${esc(JSON.stringify(r, null, 1).slice(0, 20000))}</pre></details></section>`);

const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tsbpf benchmarks</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
.met { color: #2a7a2a; font-weight: bold; } .miss { color: #b02a2a; font-weight: bold; } .refused { color: #888; }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 0; } figcaption { font-size: 12px; color: #444; max-width: 560px; }
pre { font-size: 11px; max-height: 300px; overflow: auto; background: #f6f6f6; padding: 6px; }
section p { font-size: 13px; }
</style></head><body>
<h1>tsbpf benchmarks</h1>
<p>Measured on this machine: Linux ${esc(release())}, ${cpus().length} × ${esc(cpus()[0]?.model ?? 'CPU')}, shared with other work (each benchmark records the
load average it started at: on a loaded machine more runs are refused). Every figure is a ratio against a reference measured in the same run; the
spread is that of the ratio over the benchmark's rounds (min – max, and (max − min) / median), and a benchmark refuses to report
a ratio whose rounds disagree by more than 15 %: such a run is shown greyed, as <span class="refused">refused</span>, with
whether its median would meet the goal — it is not a figure to quote. Error bars in the figures: min – max of the rounds.</p>
<h2>Headline figures</h2>
<table><tr><th>benchmark</th><th>tsbpf</th><th>reference</th><th>unit</th><th>reference measured</th><th>ratio</th><th>rounds (spread)</th><th>goal</th><th></th><th>date</th></tr>
${rows.join('\n')}
</table>
<h2>Scaling curves</h2>
<div class="figs">
${figures.map((f) => `<figure><img src="figures/${f.file}" alt="${esc(f.caption)}"><figcaption>${esc(f.caption)}</figcaption></figure>`).join('\n')}
</div>
${missing.length ? `<p>Not measured yet: ${missing.join('; ')}.</p>` : ''}
<h2>The benchmarks</h2>
${details.join('\n')}
</body></html>
`;
writeFileSync(join(root, 'bench/report.html'), html);
console.log(`bench/report.html: ${results.size} results, ${figures.length} figures (bench/figures/)${missing.length ? `; not measured yet: ${missing.length}` : ''}`);

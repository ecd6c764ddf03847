// Line charts as standalone SVG, for the benchmark report: series of (x, y) points with their
// spread as error bars (min..max of the rounds), linear or logarithmic axes with round-number
// ticks, a legend. No dependencies: the report is a file to open, not an app.

export interface Point {
  x: number;
  y: number;
  min?: number;
  max?: number;
  /** shown in the point's tooltip */
  label?: string;
}

export interface Series {
  name: string;
  points: Point[];
  /** points only, no line (measurements that are not a sequence, e.g. the tools' programs) */
  scatter?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

/** Fixed colours: tsbpf the same blue in every figure, its peers their own. */
const PALETTE: [RegExp, string][] = [
  [/^tsbpf-eager|^tsbpf \(eager/, '#7aa6d6'],
  [/^tsbpf \(generated|^tsbpf-iterator/, '#0b4f8a'],
  [/^tsbpf/, '#1f6fc5'],
  [/^cilium/, '#d9822b'],
  [/^libbpf/, '#3a9a4a'],
  [/^kernel \(generated/, '#7a1f1f'],
  [/^kernel/, '#c03a3a'],
  [/^tcpdump|^bpftrace/, '#8a5bb5'],
];
const OTHER = ['#777', '#b5a62a', '#2ab5a6'];

export function colourOf(name: string, i = 0): string {
  return PALETTE.find(([re]) => re.test(name))?.[1] ?? OTHER[i % OTHER.length]!;
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** "1.5 M", "20 k", "0.35" */
export function short(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)} G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)} M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)} k`;
  return `${+v.toPrecision(3)}`;
}

/** Ticks of a linear axis: 4-8 round numbers covering [lo, hi]. */
function linearTicks(lo: number, hi: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => span / s <= 7)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** Ticks of a log axis: powers of ten, with 2 and 5 between them when there are few decades. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const decades = Math.log10(hi / lo);
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of decades < 3 ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 560;
  const H = o.height ?? 340;
  const L = 72;
  const R = 16;
  const T = 36;
  const B = 64;
  const pw = W - L - R;
  const ph = H - T - B;
  const pts = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (!pts.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="8" y="30" font-family="sans-serif" font-size="13">${esc(o.title)}: no data</text></svg>`;
  const xs = pts.map((p) => p.x);
  const ys = pts.flatMap((p) => [p.y, p.min ?? p.y, p.max ?? p.y]).filter((v) => !o.logY || v > 0);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (o.logX) [x0, x1] = [x0 / 1.3, x1 * 1.3];
  else if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (o.logY) [y0, y1] = [y0 / 1.5, y1 * 1.5];
  else [y0, y1] = [Math.min(0, y0), y1 * 1.08 || 1];
  const sx = (v: number): number => L + (o.logX ? Math.log(v / x0) / Math.log(x1 / x0) : (v - x0) / (x1 - x0)) * pw;
  const sy = (v: number): number => T + ph - (o.logY ? Math.log(Math.max(v, y0) / y0) / Math.log(y1 / y0) : (v - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>`);
  // grid and ticks
  for (const t of o.logY ? logTicks(y0, y1) : linearTicks(y0, y1)) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${L}" x2="${L + pw}" y1="${y}" y2="${y}" stroke="#e4e4e4"/><text x="${L - 6}" y="${y}" dy="4" text-anchor="end" font-size="11">${short(t)}</text>`);
  }
  for (const t of o.logX ? logTicks(x0, x1) : linearTicks(x0, x1)) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${T}" y2="${T + ph}" stroke="#f0f0f0"/><text x="${x}" y="${T + ph + 16}" text-anchor="middle" font-size="11">${short(t)}</text>`);
  }
  out.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${L + pw / 2}" y="${H - 30}" text-anchor="middle" font-size="12">${esc(o.xLabel)}${o.logX ? ' (log)' : ''}</text>`);
  out.push(`<text transform="translate(14 ${T + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(o.yLabel)}${o.logY ? ' (log)' : ''}</text>`);
  // series
  series.forEach((s, i) => {
    const c = colourOf(s.name, i);
    const ps = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (!s.scatter && ps.length > 1) out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${ps.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of ps) {
      const x = sx(p.x).toFixed(1);
      if (p.min !== undefined && p.max !== undefined && p.max > p.min) {
        out.push(`<line x1="${x}" x2="${x}" y1="${sy(p.min).toFixed(1)}" y2="${sy(p.max).toFixed(1)}" stroke="${c}" stroke-width="1.5"/>`);
      }
      const tip = `${s.name}: ${short(p.y)} at ${short(p.x)}${p.min !== undefined ? ` (rounds ${short(p.min)}..${short(p.max!)})` : ''}${p.label ? ` — ${p.label}` : ''}`;
      out.push(`<circle cx="${x}" cy="${sy(p.y).toFixed(1)}" r="${s.scatter ? 3 : 3.5}" fill="${c}"><title>${esc(tip)}</title></circle>`);
    }
  });
  // legend, under the plot
  let lx = L;
  for (const [i, s] of series.entries()) {
    const c = colourOf(s.name, i);
    out.push(`<rect x="${lx}" y="${H - 16}" width="12" height="12" fill="${c}"/><text x="${lx + 16}" y="${H - 6}" font-size="11">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 6.2;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

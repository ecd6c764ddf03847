// Flame graphs drawn by tsbpf: folded stacks ("root;child;leaf count" lines) -> an SVG with one
// rect per frame, widths proportional to samples, root at the bottom. Interactive on its own, as
// flamegraph.pl's: each frame has a <title> (the browser's tooltip) and a small script shows the
// hovered frame, its samples and share in the details line, zooms on click ("Reset Zoom" or a click
// on the root undoes it), and "Search" (or Ctrl-F; `?s=REGEX` in the URL) highlights the frames whose
// names match a regular expression, with the share of samples they cover ("Matched: 12.3%");
// "Reset Search" clears it.
// Pure: strings in, string out.

export type Folded = Map<string, number>;

/** Parses folded stacks; lines without a trailing count are errors, blank lines are skipped. */
export function parseFolded(text: string): Folded {
  const out: Folded = new Map();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const m = /^(.*\S)\s+(\d+)$/.exec(line);
    if (!m) throw new Error(`folded stacks line ${i + 1}: expected "frame;frame;... count", got ${JSON.stringify(line.slice(0, 80))}`);
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  });
  return out;
}

/** Folded stacks as text, one stack per line, sorted (the format flamegraph.pl reads). */
export function foldedText(stacks: Folded): string {
  return [...stacks.entries()]
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([s, n]) => `${s} ${n}\n`)
    .join('');
}

/** foldedText in chunks of about 64 KiB handed to `sink` as they fill: no one string of the whole profile. */
export function streamFolded(stacks: Folded, sink: (chunk: string) => void): void {
  const keys = [...stacks.keys()].filter((k) => stacks.get(k)! > 0).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let chunk = '';
  for (const k of keys) {
    chunk += `${k} ${stacks.get(k)}\n`;
    if (chunk.length >= 65536) (sink(chunk), (chunk = ''));
  }
  if (chunk) sink(chunk);
}

interface Node {
  name: string;
  value: number;
  children: Map<string, Node>;
}

function buildTree(stacks: Folded): Node {
  const root: Node = { name: 'all', value: 0, children: new Map() };
  for (const [stack, n] of stacks) {
    if (n <= 0) continue;
    root.value += n;
    let node = root;
    for (const frame of stack.split(';')) {
      if (!frame) continue;
      let child = node.children.get(frame);
      if (!child) {
        child = { name: frame, value: 0, children: new Map() };
        node.children.set(frame, child);
      }
      child.value += n;
      node = child;
    }
  }
  return root;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Deterministic warm colour from the frame name; kernel frames ("_[k]") lean orange, JIT/unknown grey. */
function colour(name: string): string {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  const a = (h & 0xff) / 255;
  const b = ((h >>> 8) & 0xff) / 255;
  if (name.endsWith('_[k]')) return `rgb(${Math.round(220 + 35 * a)},${Math.round(120 + 60 * b)},40)`;
  if (name.startsWith('0x') || name.startsWith('[')) return `rgb(${Math.round(160 + 40 * a)},${Math.round(160 + 40 * a)},${Math.round(160 + 40 * a)})`;
  return `rgb(${Math.round(205 + 50 * a)},${Math.round(230 * b)},${Math.round(55 * ((a + b) / 2))})`;
}

export interface FlameGraphOptions {
  title?: string;
  width?: number;
  frameHeight?: number;
  /** what one count is: "samples" */
  countName?: string;
  /** frames narrower than this many pixels are left out */
  minWidth?: number;
}

export interface FrameSpan {
  name: string;
  x: number;
  w: number;
}

/**
 * The share (0..1) of the plot covered by frames whose name matches `re`, each sample counted once
 * however many of its frames match (nested matches overlap: their spans are merged), as
 * flamegraph.pl computes "Matched". Runs in the SVG's script too (its source is embedded).
 */
export function matchedShare(frames: readonly FrameSpan[], re: RegExp, plotX: number, plotWidth: number): number {
  const spans = frames.filter((f) => re.test(f.name)).map((f) => [f.x, f.x + f.w] as [number, number]);
  spans.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let end = plotX;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    covered += b - Math.max(a, end);
    end = b;
  }
  return plotWidth > 0 ? covered / plotWidth : 0;
}

const SCRIPT = `
var details, frames, unzoomBtn, searchBtn, matchedText, searching = null;
var matchedShare = ${matchedShare.toString()};
function init() {
  details = document.getElementById('details');
  unzoomBtn = document.getElementById('unzoom');
  searchBtn = document.getElementById('search');
  matchedText = document.getElementById('matched');
  frames = document.querySelectorAll('g.frame');
  frames.forEach(function (g) {
    g.addEventListener('mouseover', function () { details.textContent = g.getAttribute('data-info'); });
    g.addEventListener('mouseout', function () { details.textContent = ' '; });
    g.addEventListener('click', function () { zoom(g); });
  });
  unzoomBtn.addEventListener('click', function () { zoom(frames[0]); });
  searchBtn.addEventListener('click', function () { searching === null ? searchPrompt() : resetSearch(); });
  window.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); searchPrompt(); }
  });
  var s = /[?&]s=([^&]*)/.exec(location.search || '');
  if (s) search(decodeURIComponent(s[1]));
}
function searchPrompt() {
  var term = prompt('Search for (a regular expression):', searching || '');
  if (term) search(term);
}
function search(term) {
  var re;
  try { re = new RegExp(term); } catch (e) { return; }
  searching = term;
  var spans = [];
  frames.forEach(function (g) {
    var rect = g.querySelector('rect'), name = g.getAttribute('data-name');
    var hit = re.test(name);
    rect.setAttribute('fill', hit ? 'rgb(230,0,230)' : rect.getAttribute('data-fill'));
    spans.push({ name: name, x: +g.getAttribute('data-x'), w: +g.getAttribute('data-w') });
  });
  var full = +document.documentElement.getAttribute('data-plot-width');
  var share = matchedShare(spans, re, 10, full);
  matchedText.textContent = 'Matched: ' + (share * 100).toFixed(1) + '%';
  searchBtn.textContent = 'Reset Search';
}
function resetSearch() {
  searching = null;
  frames.forEach(function (g) { var r = g.querySelector('rect'); r.setAttribute('fill', r.getAttribute('data-fill')); });
  matchedText.textContent = ' ';
  searchBtn.textContent = 'Search';
}
function zoom(target) {
  unzoomBtn.style.opacity = target === frames[0] ? '0' : '1';
  var x0 = +target.getAttribute('data-x'), w0 = +target.getAttribute('data-w'), d0 = +target.getAttribute('data-depth');
  var full = +document.documentElement.getAttribute('data-plot-width'), pad = 10;
  frames.forEach(function (g) {
    var x = +g.getAttribute('data-x'), w = +g.getAttribute('data-w'), d = +g.getAttribute('data-depth');
    var inside = x >= x0 - 1e-6 && x + w <= x0 + w0 + 1e-6;
    var rect = g.querySelector('rect'), text = g.querySelector('text');
    if (d < d0 || !inside) {
      g.style.opacity = d < d0 ? '0.5' : '0';
      if (d < d0) { rect.setAttribute('x', pad); rect.setAttribute('width', full); fit(text, g, pad, full); }
      return;
    }
    g.style.opacity = '1';
    var nx = pad + (x - x0) / w0 * full, nw = w / w0 * full;
    rect.setAttribute('x', nx); rect.setAttribute('width', Math.max(nw - 0.5, 0));
    fit(text, g, nx, nw);
  });
}
function fit(text, g, x, w) {
  var name = g.getAttribute('data-name'), n = Math.floor((w - 6) / 7);
  text.setAttribute('x', x + 3);
  text.textContent = n < 3 ? '' : (name.length <= n ? name : name.slice(0, n - 2) + '..');
}
window.addEventListener('load', init);
`;

/** The flame graph of these stacks as a standalone SVG document. */
export function renderFlameGraph(stacks: Folded | string, opts: FlameGraphOptions = {}): string {
  const folded = typeof stacks === 'string' ? parseFolded(stacks) : stacks;
  const width = opts.width ?? 1200;
  const fh = opts.frameHeight ?? 16;
  const minWidth = opts.minWidth ?? 0.1;
  const countName = opts.countName ?? 'samples';
  const title = opts.title ?? 'Flame Graph';
  const pad = 10;
  const plotWidth = width - 2 * pad;
  const root = buildTree(folded);
  const total = root.value;

  let maxDepth = 0;
  const frames: { node: Node; depth: number; x: number; w: number }[] = [];
  const place = (node: Node, depth: number, x: number) => {
    const w = total > 0 ? (node.value / total) * plotWidth : plotWidth;
    if (w < minWidth) return;
    frames.push({ node, depth, x, w });
    maxDepth = Math.max(maxDepth, depth);
    let cx = x;
    const kids = [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const k of kids) {
      place(k, depth + 1, cx);
      cx += total > 0 ? (k.value / total) * plotWidth : 0;
    }
  };
  place(root, 0, pad);

  const top = 50;
  const height = top + (maxDepth + 1) * fh + 30;
  const out: string[] = [];
  out.push('<?xml version="1.0" standalone="no"?>');
  out.push(
    `<svg version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg" data-plot-width="${plotWidth}" data-total="${total}">`,
  );
  out.push(`<script type="text/ecmascript"><![CDATA[${SCRIPT}]]></script>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#f8f8f0"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-family="Verdana" font-size="17">${escapeXml(title)}</text>`);
  out.push(`<text id="details" x="${pad}" y="${height - 10}" font-family="Verdana" font-size="12"> </text>`);
  out.push(`<text id="unzoom" x="${pad}" y="24" font-family="Verdana" font-size="12" style="opacity:0;cursor:pointer">Reset Zoom</text>`);
  out.push(`<text id="search" x="${width - pad}" y="24" text-anchor="end" font-family="Verdana" font-size="12" style="cursor:pointer">Search</text>`);
  out.push(`<text id="matched" x="${width - pad}" y="${height - 10}" text-anchor="end" font-family="Verdana" font-size="12"> </text>`);
  for (const f of frames) {
    const y = top + (maxDepth - f.depth) * fh;
    const share = total > 0 ? (f.node.value / total) * 100 : 0;
    const info = `${f.node.name} (${f.node.value} ${countName}, ${share.toFixed(2)}%)`;
    const chars = Math.floor((f.w - 6) / 7);
    const label = chars < 3 ? '' : f.node.name.length <= chars ? f.node.name : `${f.node.name.slice(0, chars - 2)}..`;
    out.push(
      `<g class="frame" data-name="${escapeXml(f.node.name)}" data-info="${escapeXml(info)}" data-x="${f.x.toFixed(3)}" data-w="${f.w.toFixed(3)}" data-depth="${f.depth}">` +
        `<title>${escapeXml(info)}</title>` +
        `<rect x="${f.x.toFixed(2)}" y="${y}" width="${Math.max(f.w - 0.5, 0).toFixed(2)}" height="${fh - 1}" fill="${colour(f.node.name)}" data-fill="${colour(f.node.name)}" rx="2" ry="2"/>` +
        `<text x="${(f.x + 3).toFixed(2)}" y="${y + fh - 4}" font-family="Verdana" font-size="12">${escapeXml(label)}</text></g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

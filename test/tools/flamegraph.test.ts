import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFolded, foldedText, renderFlameGraph, escapeXml } from '../../src/tools/common/flamegraph.js';

const FOLDED = 'node;main;fib 60\nnode;main;gc 20\nnode;idle 20\nswapper;do_idle_[k] 100\n';

test('folded stacks round-trip and merge duplicates', () => {
  const f = parseFolded(FOLDED + 'node;idle 5\n\n');
  assert.equal(f.get('node;idle'), 25);
  assert.equal(foldedText(f), 'node;idle 25\nnode;main;fib 60\nnode;main;gc 20\nswapper;do_idle_[k] 100\n');
  assert.throws(() => parseFolded('a;b;c\n'), /line 1: expected/);
  assert.throws(() => parseFolded('ok 1\nbroken -3\n'), /line 2/);
});

test('the SVG has one frame per stack prefix with widths and shares from the counts', () => {
  const svg = renderFlameGraph(FOLDED, { title: 'CPU <test>', width: 1010 });
  assert.match(svg, /^<\?xml/);
  assert.match(svg, /CPU &lt;test&gt;/);
  const frames = [...svg.matchAll(/<g class="frame" data-name="([^"]*)" data-info="([^"]*)" data-x="([\d.]+)" data-w="([\d.]+)" data-depth="(\d+)">/g)];
  const byName = new Map(frames.map((m) => [m[1], { info: m[2]!, x: Number(m[3]), w: Number(m[4]), depth: Number(m[5]) }]));
  // all, node, main, fib, gc, idle, swapper, do_idle_[k]
  assert.equal(frames.length, 8);
  assert.equal(byName.get('all')!.w, 990);
  assert.equal(byName.get('node')!.w, 495);
  assert.equal(byName.get('fib')!.w, 297);
  assert.equal(byName.get('fib')!.depth, 3);
  assert.equal(byName.get('fib')!.info, 'fib (60 samples, 30.00%)');
  assert.equal(byName.get('do_idle_[k]')!.info, 'do_idle_[k] (100 samples, 50.00%)');
  // children sit inside their parent
  assert.ok(byName.get('gc')!.x >= byName.get('main')!.x);
  assert.ok(byName.get('gc')!.x + byName.get('gc')!.w <= byName.get('main')!.x + byName.get('main')!.w + 1e-6);
  // hover and tooltip machinery present
  assert.match(svg, /<title>fib \(60 samples, 30\.00%\)<\/title>/);
  assert.match(svg, /addEventListener\('mouseover'/);
  assert.match(svg, /id="details"/);
});

test('tiny frames are left out, empty input still renders a valid document', () => {
  const f = new Map([['a;b', 1_000_000], ['a;tiny', 1]]);
  const svg = renderFlameGraph(f, { width: 1000 });
  assert.doesNotMatch(svg, /data-name="tiny"/);
  const empty = renderFlameGraph(new Map());
  assert.match(empty, /<\/svg>\n$/);
  assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
});

test('search: matched frames are counted once however they nest; the SVG has Search and Reset Zoom', async () => {
  const { matchedShare } = await import('../../src/tools/common/flamegraph.js');
  const frames = [
    { name: 'all', x: 10, w: 100 },
    { name: 'main', x: 10, w: 60 },
    { name: 'fib', x: 10, w: 40 },
    { name: 'fib', x: 15, w: 20 }, // nested in the first fib: not counted twice
    { name: 'gc', x: 70, w: 20 },
    { name: 'fibonacci_table', x: 90, w: 10 },
  ];
  assert.equal(matchedShare(frames, /^fib$/, 10, 100), 0.4);
  assert.equal(matchedShare(frames, /fib/, 10, 100), 0.5);
  assert.equal(matchedShare(frames, /nothing/, 10, 100), 0);
  const svg = renderFlameGraph(FOLDED);
  assert.match(svg, /<text id="search"[^>]*>Search<\/text>/);
  assert.match(svg, /<text id="unzoom"[^>]*>Reset Zoom<\/text>/);
  assert.match(svg, /<text id="matched"/);
  // the script carries the same matchedShare, and every frame its own colour to return to
  assert.match(svg, /var matchedShare = function matchedShare\(frames, re, plotX, plotWidth\)/);
  const rects = [...svg.matchAll(/<rect x="[\d.]+" y="\d+" width="[\d.]+" height="\d+" fill="([^"]+)" data-fill="([^"]+)"/g)];
  assert.ok(rects.length >= 7 && rects.every((m) => m[1] === m[2]));
});

test('folded output streams in chunks that add up to foldedText', async () => {
  const { streamFolded } = await import('../../src/tools/common/flamegraph.js');
  const big = new Map(Array.from({ length: 5000 }, (_, i) => [`proc;frame_${i};leaf_${i % 7}`, i % 3] as [string, number]));
  const chunks: string[] = [];
  streamFolded(big, (c) => chunks.push(c));
  assert.ok(chunks.length > 1 && chunks.every((c) => c.length <= 65536 + 200));
  assert.equal(chunks.join(''), foldedText(big));
});

// Every BPF object committed in the repository (tools, examples, benchmarks) parses, with the
// program and map names libbpf gives them (bpftool gen skeleton is libbpf's own view).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseObject } from '../../src/object/load-spec.js';
import { objectName } from '../../src/object/names.js';
import { skeletonNames } from './build.js';
import { needsCommand } from '../helpers/kernel.js';

const ROOT = new URL(existsSync(new URL('../../../package.json', import.meta.url)) ? '../../../' : '../../', import.meta.url).pathname;

function objects(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.bpf.o')) out.push(p);
    }
  };
  for (const d of ['src/tools', 'examples', 'bench/objects']) walk(join(ROOT, d));
  return out;
}

test('committed objects parse with libbpf names and linked programs', (t) => {
  if (!needsCommand(t, 'bpftool')) return;
  const found = objects();
  assert.ok(found.length >= 5, `found ${found.length} objects under ${ROOT}`);
  for (const path of found) {
    const spec = parseObject(readFileSync(path), path);
    const skel = skeletonNames(path, objectName(path));
    assert.deepEqual(spec.programs.map((p) => p.name), skel.progs, path);
    assert.deepEqual(spec.maps.map((m) => m.name), skel.maps, path);
    for (const p of spec.programs) {
      assert.ok(p.instructions.length > 0 && p.attach.kind !== 'unknown', `${path}: ${p.name} (${p.section})`);
      for (const r of p.mapRefs) assert.ok(spec.maps.some((m) => m.name === r.map), `${path}: ${p.name} refers to ${r.map}`);
    }
  }
});

#!/usr/bin/env node
// Writes src/tools/<tool>/<tool>.gen.ts for every tool's committed kernel object: the types and typed
// loader `tsbpf gen types` makes (src/gen/objects.ts), importing tsbpf by relative path. Run after
// `npm run build` whenever a .bpf.o changes (scripts/build-bpf.js); test/gen/tools.test.ts fails
// while a generated file is stale.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { toolTypeFiles } = await import(join(root, 'dist/src/gen/tools.js'));
let changed = 0;
for (const f of toolTypeFiles(root, { readdirSync, readFileSync, existsSync })) {
  const old = existsSync(f.path) ? readFileSync(f.path, 'utf8') : undefined;
  if (old === f.text) continue;
  writeFileSync(f.path, f.text);
  changed++;
  console.log(`wrote ${f.path.slice(root.length)}`);
}
if (!changed) console.log('generated tool types are up to date');

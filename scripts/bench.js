// Runs one benchmark (dist/bench/NAME.js, built by `npm run bench`), shows its output, and saves its
// last line (one JSON object) to bench/results/NAME.json. `npm run bench -- NAME [ARGS]`;
// without NAME, lists the benchmarks. `npm run bench -- report` writes bench/report.html and its
// figures from the saved results (dist/bench/report/main.js). A benchmark that exits non-zero —
// one that refused a ratio whose rounds disagree (status 3) — saves it as NAME.refused.json instead.
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const dist = new URL('../dist/bench/', import.meta.url);
const names = readdirSync(dist).filter((f) => f.endsWith('.js') && f !== 'report.js').map((f) => f.slice(0, -3)).sort();
const [name, ...args] = process.argv.slice(2);
if (name === 'report') {
  const r = spawnSync(process.execPath, [new URL('report/main.js', dist).pathname, ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
if (!name || !names.includes(name)) {
  console.error(`${name ? `no benchmark '${name}'. ` : ''}usage: npm run bench -- NAME | report\nbenchmarks: ${names.join(', ')}`);
  process.exit(name ? 1 : 0);
}
const r = spawnSync(process.execPath, ['--expose-gc', new URL(`${name}.js`, dist).pathname, ...args], { stdio: ['inherit', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
process.stdout.write(r.stdout);
if (r.status !== 0 && r.status !== 3) process.exit(r.status ?? 1);
const last = r.stdout.trim().split('\n').pop();
let result;
try {
  result = JSON.parse(last);
} catch {
  console.error(`benchmark ${name}: its last line is not JSON`);
  process.exit(1);
}
const results = new URL('../bench/results/', import.meta.url);
mkdirSync(results, { recursive: true });
// a refused run (its rounds disagree) is kept beside the last accepted one, not over it: the report
// shows it as refused when it is the newer, so a noisy machine is visible instead of a stale figure
const file = r.status === 3 ? `${name}.refused.json` : `${name}.json`;
writeFileSync(new URL(file, results), JSON.stringify({ ...result, ...(r.status === 3 ? { refused: true } : {}), date: new Date().toISOString() }, null, 2) + '\n');
if (r.status === 3) {
  console.error(`benchmark ${name}: refused (rounds disagree): saved as bench/results/${file}, bench/results/${name}.json left as it was`);
  process.exit(3);
}

// Runs the test suite: every dist/test/**/*.test.js file through node's test runner, one file at a
// time (kernel tests share the machine's kernel state), then the kernel matrix (the kernel-dependent
// files inside Debian's 6.1 and 6.12 kernels under qemu, test/matrix/). `npm test -- PATTERN` runs
// only the files whose path contains PATTERN, on this machine.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const sources = new URL('../test/', import.meta.url).pathname;
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    // a test whose source was deleted leaves its compiled file behind (tsc does not remove outputs)
    else if (name.endsWith('.test.js') && existsSync(join(sources, relative(root, p)).replace(/\.js$/, '.ts'))) files.push(p);
  }
})(root);
const filters = process.argv.slice(2);
const chosen = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (!chosen.length) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// TSBPF_TEST_TAP=FILE also writes a TAP report (the kernel matrix reads its guests' results from it)
const reporters = process.env.TSBPF_TEST_TAP
  ? ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${process.env.TSBPF_TEST_TAP}`]
  : [];
// TSBPF_TEST_TIMEOUT=MS fails a test that runs longer (the matrix's guests: one hung test is named,
// instead of the whole guest timing out)
const timeout = process.env.TSBPF_TEST_TIMEOUT ? [`--test-timeout=${process.env.TSBPF_TEST_TIMEOUT}`] : [];
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--enable-source-maps', ...timeout, ...reporters, ...chosen], { stdio: 'inherit' });
if (filters.length) process.exit(r.status ?? 1);
const matrix = spawnSync(process.execPath, [new URL('../dist/test/matrix/main.js', import.meta.url).pathname, '--quiet'], { stdio: 'inherit' });
process.exit(r.status || matrix.status || 0);

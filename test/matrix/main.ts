// npm run test:kernels -- [--kernel 6.1,6.12] [--cmd 'shell command'] [--timeout S] [--stall S] [--report FILE] [FILTER...]
//
// Boots each Debian kernel of the matrix under qemu and runs, inside it, the test files that differ by
// kernel (or the files whose path contains a FILTER, or one shell command). Packages are fetched into
// a cache outside the repository when missing. Exit status: 0 only if every guest ran every test.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runGuest, type GuestResult } from './guest.js';
import { cacheDir, KERNELS, MatrixSetupError, prepareKernel, type PreparedKernel } from './packages.js';
import { MATRIX_TESTS } from './selection.js';
import { parseTap, type TapSummary } from './tap.js';
import { updateCompat } from '../script/compat-doc.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');

interface KernelReport {
  kernel: string;
  package: string;
  release: string;
  ok: boolean;
  rc?: number;
  timedOut: boolean;
  bootMs?: number;
  totalMs?: number;
  tests?: TapSummary;
  error?: string;
  /** the console's last lines, when the kernel failed */
  tail?: string[];
  /** the console's last lines of a first boot that went silent (the second one is the result) */
  stalledBefore?: string[];
}

function usage(): never {
  process.stderr.write(`usage: npm run test:kernels -- [--kernel ${KERNELS.map((k) => k.name).join(',')}] [--cmd 'COMMAND'] [--timeout S] [--stall S] [--report FILE] [--quiet] [FILTER...]\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        kernel: { type: 'string' },
        cmd: { type: 'string' },
        timeout: { type: 'string' },
        stall: { type: 'string' },
        report: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    usage();
  }
  const { values, positionals } = parsed;
  if (values.help) usage();
  const names = values.kernel ? values.kernel.split(',') : KERNELS.map((k) => k.name);
  const specs = names.map((n) => KERNELS.find((k) => k.name === n) ?? (process.stderr.write(`unknown kernel ${n}\n`), usage()));
  const timeout = Number(values.timeout ?? 1800);
  const stall = Number(values.stall ?? 600);
  const filters = positionals.length ? positionals : MATRIX_TESTS;
  const tap = '/matrix/out/results.tap';
  const command = values.cmd ?? `node scripts/test.js ${filters.map((f) => `'${f}'`).join(' ')}`;
  // a test that hangs fails by name after 5 minutes (the slowest take 30 s under emulation)
  const env: Record<string, string> = { TSBPF_TEST_TAP: tap, TSBPF_TEST_TIMEOUT: '300000' };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && (k === 'CI' || k.startsWith('TSBPF_'))) env[k] = v;
  if (values.cmd) {
    delete env.TSBPF_TEST_TAP;
    delete env.TSBPF_TEST_TIMEOUT;
  }

  // the guests run a copy of the checkout: the host's files stay free to change (and rebuild) while
  // a long matrix runs, and every guest of a run sees the same build
  const snapshot = join(cacheDir(), `checkout-${process.pid}`);
  removeOrphanedCheckouts();
  rmSync(snapshot, { recursive: true, force: true });
  execFileSync('cp', ['-a', '--reflink=auto', ROOT, snapshot]);
  rmSync(join(snapshot, '.git'), { recursive: true, force: true });
  process.on('exit', () => rmSync(snapshot, { recursive: true, force: true }));

  const reports: KernelReport[] = [];
  for (const spec of specs) {
    let k: PreparedKernel;
    try {
      k = prepareKernel(spec);
    } catch (e) {
      if (!(e instanceof MatrixSetupError)) throw e;
      process.stderr.write(`matrix: ${e.message}\n`);
      reports.push({ kernel: spec.name, package: '', release: '', ok: false, timedOut: false, error: e.message });
      continue;
    }
    process.stderr.write(`matrix: ${spec.name}: booting ${k.release}: ${command}\n`);
    // the console goes to dist/matrix/<kernel>.console.log as it comes (follow it with tail -f)
    const logs = join(ROOT, 'dist/matrix');
    mkdirSync(logs, { recursive: true });
    const consoleLog = join(logs, `${spec.name}.console.log`);
    writeFileSync(consoleLog, '');
    let r: GuestResult | undefined;
    let stalledBefore: string[] | undefined;
    try {
      // an emulated guest that goes silent gets one more boot: the first one's tasks are printed
      // either way, so a hang stays visible, and a second one fails the kernel
      for (let boot = 1; boot <= 2 && (!r || r.stalled); boot++) {
        if (r) {
          stalledBefore = r.console.trimEnd().split('\n').slice(-40);
          process.stderr.write(`matrix: ${spec.name}: no output for ${stall} s; booting again (the tasks it showed are in the summary)\n`);
        }
        r = await runGuest(k, {
          command, cwd: snapshot, env, timeout, stall,
          onLine: (l) => {
            appendFileSync(consoleLog, `${l}\n`);
            if (!values.quiet) process.stdout.write(`[${spec.name}] ${l}\n`);
          },
        });
      }
    } catch (e) {
      if (!(e instanceof MatrixSetupError)) throw e;
      process.stderr.write(`matrix: ${e.message}\n`);
      reports.push({ kernel: spec.name, package: k.pkg, release: k.release, ok: false, timedOut: false, error: e.message });
      continue;
    }
    if (!r) throw new Error('unreachable: no guest ran');
    // the compatibility table's results of this kernel (TSBPF_UPDATE_DOCS=1 runs of script/compat)
    const compat = r.files.get(`bpftrace-compat-${spec.name}.json`);
    if (compat) updateCompat(join(ROOT, 'docs'), spec.name, JSON.parse(compat));
    if (r.files.has('results.tap')) writeFileSync(join(logs, `${spec.name}.tap`), r.files.get('results.tap')!);
    const tests = values.cmd ? undefined : parseTap(r.files.get('results.tap') ?? '');
    const ok = r.rc === 0 && !r.timedOut && (!tests || (tests.fail === 0 && tests.tests > 0));
    const why = r.stalled ? `no output for ${stall} s: the command was killed (the tasks are in the console)`
      : r.timedOut ? `timed out after ${timeout} s`
      : r.rc === undefined ? (r.failure ?? `the guest stopped before the command ended (see ${consoleLog})`) : undefined;
    reports.push({ kernel: spec.name, package: k.pkg, release: k.release, ok, rc: r.rc, timedOut: r.timedOut, bootMs: r.bootMs, totalMs: r.totalMs, tests, error: why,
      tail: ok ? undefined : r.console.trimEnd().split('\n').slice(-40), stalledBefore });
  }

  process.stdout.write('\nkernel matrix:\n');
  for (const r of reports) {
    const t = r.tests ? ` tests ${r.tests.tests}: ${r.tests.pass} pass, ${r.tests.fail} fail, ${r.tests.skipped} skipped` : '';
    process.stdout.write(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.kernel.padEnd(5)} ${r.release.padEnd(24)} boot ${((r.bootMs ?? 0) / 1000).toFixed(1)} s, total ${((r.totalMs ?? 0) / 1000).toFixed(0)} s;${t}${r.error ? ` — ${r.error}` : ''}\n`);
    for (const f of r.tests?.failures ?? []) process.stdout.write(`         not ok: ${f}\n`);
    // CI keeps only what is printed: the console's end says where a failed guest was
    if (r.stalledBefore) process.stdout.write(`         a first boot went silent for ${stall} s; its console's last lines:\n${r.stalledBefore.map((l) => `         | ${l}\n`).join('')}`);
    if (r.tail) process.stdout.write(`         the console's last lines:\n${r.tail.map((l) => `         | ${l}\n`).join('')}`);
  }
  process.stdout.write(`  (consoles and TAP reports in ${join(ROOT, 'dist/matrix')}/)\n`);
  if (values.report) writeFileSync(values.report, JSON.stringify(reports, null, 2) + '\n');
  return reports.every((r) => r.ok) ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`matrix: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

/** Copies of the checkout left by runs that were killed (SIGKILL skips the 'exit' handler): their process is gone. */
function removeOrphanedCheckouts(): void {
  for (const name of readdirSync(cacheDir())) {
    const pid = Number(/^checkout-(\d+)$/.exec(name)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(cacheDir(), name), { recursive: true, force: true });
    }
  }
}

// trace-startup: wall time of `tsbpf trace` against `bpftrace` for
//   1. `BEGIN { exit() }`: start to exit;
//   2. the seed's one-liner: start to the first event (connects are made every 10 ms from the start),
//      then SIGINT to exit.
// Runs alternate between the two tools so that machine load hits both alike; medians are reported.
// Last line: the shared result shape (bench/report.ts): ours/reference = wall time of `BEGIN { exit() }`,
// with the seed's first-event time, exit time and peak memory as details.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { report } from './report.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// the command as a user runs it: bin/tsbpf picks the trace command's bundle (scripts/bundle-cli.js)
const TSBPF = [process.execPath, join(ROOT, 'bin', 'tsbpf'), 'trace'];
const SEED = 'tracepoint:sock:inet_sock_set_state /args->newstate == 2/ { printf("PID %d -> %s:%d\\n", pid, ntop(args->daddr), args->dport) }';
const RUNS = Number(process.env.RUNS ?? 7);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function beginExit(cmd: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; maxRssKb: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...cmd], { encoding: 'utf8', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const rss = Number(r.stderr.trim().split('\n').pop());
  return { ms, maxRssKb: rss };
}

async function firstEvent(cmd: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ firstMs: number; exitMs: number }> {
  const t0 = process.hrtime.bigint();
  const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], env });
  const load = spawn('/bin/bash', ['-c', 'while :; do (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null; sleep 0.01; done'], { stdio: 'ignore' });
  let buf = '';
  const firstMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd.join(' ')}: no event in 20 s`)), 20000);
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (/PID \d+ -> 127\.0\.0\.1:9/.test(buf)) {
        clearTimeout(timer);
        resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    });
  });
  load.kill();
  const t1 = process.hrtime.bigint();
  p.kill('SIGINT');
  await new Promise((r) => p.on('exit', r));
  return { firstMs, exitMs: Number(process.hrtime.bigint() - t1) / 1e6 };
}

async function main(): Promise<void> {
  const bt = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
  const hasBpftrace = !bt.error;
  const r = { tsbpf: { begin: [] as number[], rss: [] as number[], first: [] as number[], exit: [] as number[] }, bpftrace: { begin: [] as number[], rss: [] as number[], first: [] as number[], exit: [] as number[] } };
  // A cold start first (an empty cache directory, so no V8 code cache for the CLI bundle: a fresh
  // install's first run), reported apart; the runs measured after it start as a user's every later
  // run does, with the cache the first one wrote.
  process.env.TSBPF_CACHE_DIR = mkdtempSync(join(tmpdir(), 'tsbpf-bench-cache-'));
  const cold = beginExit([...TSBPF, 'BEGIN { exit() }']).ms;
  for (let i = 0; i < RUNS; i++) {
    const a = beginExit([...TSBPF, 'BEGIN { exit() }']);
    r.tsbpf.begin.push(a.ms);
    r.tsbpf.rss.push(a.maxRssKb);
    if (hasBpftrace) {
      const b = beginExit(['bpftrace', '-e', 'BEGIN { exit() }']);
      r.bpftrace.begin.push(b.ms);
      r.bpftrace.rss.push(b.maxRssKb);
    }
  }
  for (let i = 0; i < Math.max(3, Math.floor(RUNS / 2)); i++) {
    const a = await firstEvent([...TSBPF, SEED]);
    r.tsbpf.first.push(a.firstMs);
    r.tsbpf.exit.push(a.exitMs);
    if (hasBpftrace) {
      const b = await firstEvent(['bpftrace', '-e', SEED]);
      r.bpftrace.first.push(b.firstMs);
      r.bpftrace.exit.push(b.exitMs);
    }
  }
  const results = {
    begin_exit_ms: { tsbpf: median(r.tsbpf.begin), bpftrace: hasBpftrace ? median(r.bpftrace.begin) : null },
    seed_first_event_ms: { tsbpf: median(r.tsbpf.first), bpftrace: hasBpftrace ? median(r.bpftrace.first) : null },
    seed_exit_ms: { tsbpf: median(r.tsbpf.exit), bpftrace: hasBpftrace ? median(r.bpftrace.exit) : null },
    max_rss_kb: { tsbpf: median(r.tsbpf.rss), bpftrace: hasBpftrace ? median(r.bpftrace.rss) : null },
  };
  const ratio = (k: keyof typeof results): number | null => {
    const x = results[k];
    return x.bpftrace ? Math.round((x.tsbpf / x.bpftrace) * 1000) / 1000 : null;
  };
  const ratios = { begin_exit: ratio('begin_exit_ms'), seed_first_event: ratio('seed_first_event_ms'), memory: ratio('max_rss_kb') };
  const bare = median(Array.from({ length: 3 }, () => beginExit([process.execPath, '-e', '0']).ms));
  // Where NODE_EXTRA_CA_CERTS is set (this machine's sandbox sets it for npm), Node 20 builds its CA
  // store at every start before any JavaScript runs. The headline figures keep the environment as it
  // is; tsbpf without the variable is measured too, as what a shell without it gets.
  let withoutCaCerts: { begin_exit_ms: number; seed_first_event_ms: number; node_bare_ms: number } | undefined;
  if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const begin = Array.from({ length: RUNS }, () => beginExit([...TSBPF, 'BEGIN { exit() }'], env).ms);
    const first: number[] = [];
    for (let i = 0; i < Math.max(3, Math.floor(RUNS / 2)); i++) first.push((await firstEvent([...TSBPF, SEED], env)).firstMs);
    withoutCaCerts = { begin_exit_ms: median(begin), seed_first_event_ms: median(first), node_bare_ms: median(Array.from({ length: 3 }, () => beginExit([process.execPath, '-e', '0'], env).ms)) };
  }
  for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(22)} tsbpf ${v.tsbpf.toFixed(1).padStart(8)}   bpftrace ${v.bpftrace === null ? '     n/a' : v.bpftrace.toFixed(1).padStart(8)}`);
  console.log(`node itself (node -e 0): ${bare.toFixed(1)} ms; tsbpf BEGIN { exit() } cold (no code cache yet): ${cold.toFixed(1)} ms`);
  if (withoutCaCerts) console.log(`tsbpf without NODE_EXTRA_CA_CERTS: BEGIN { exit() } ${withoutCaCerts.begin_exit_ms.toFixed(1)} ms, seed first event ${withoutCaCerts.seed_first_event_ms.toFixed(1)} ms (node -e 0: ${withoutCaCerts.node_bare_ms.toFixed(1)} ms)`);
  // Node 20 loads the CA store at start when NODE_EXTRA_CA_CERTS is set (~45 ms of CPU here): worth knowing when reading node_bare_ms
  const caCerts = process.env.NODE_EXTRA_CA_CERTS !== undefined;
  if (!hasBpftrace) throw new Error('bpftrace is not installed: nothing to compare with');
  report({
    name: 'trace-startup', ours: results.begin_exit_ms.tsbpf, reference: results.begin_exit_ms.bpftrace!, unit: 'ms', better: 'lower',
    referenceName: 'bpftrace 0.17', target: 0.25, runs: RUNS, ratios, results, node_bare_ms: bare, begin_exit_cold_ms: cold, node_extra_ca_certs_set: caCerts,
    tsbpf_without_node_extra_ca_certs: withoutCaCerts,
    targets: { begin_exit: 0.25, seed_first_event: 0.5, memory: 1 },
    targetsMet: { begin_exit: (ratios.begin_exit ?? 9) <= 0.25, seed_first_event: (ratios.seed_first_event ?? 9) <= 0.5, memory: (ratios.memory ?? 9) <= 1 },
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// execsnoop-vs-libbpf-tools: the same exec storm (a C loop of fork + execve /bin/true) traced by
// `tsbpf execsnoop` (bin/tsbpf, as a user runs it) and by Debian's libbpf-tools execsnoop; events
// each saw from the storm and the CPU time (user + system) the tracer process spent while the storm
// ran. Start-up is reported apart: the CPU until the tracer's first line (loaded, attached, header
// printed), and until the storm starts (plus a 1.5 s settle, and whatever other processes exec'd
// meanwhile on a shared machine); a cold first start apart from those.
// Target: the same events, CPU <= 1.5x. Runs alternate; medians.
import { spawn } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execstorm } from '../test/tools/connloop.js';
import { report, root } from './report.js';

const N = Number(process.env.EXECS ?? 5000);
const RUNS = Number(process.env.RUNS ?? 3);
const LIBBPF = '/usr/sbin/execsnoop';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

// The tsbpf side: the command as a user runs it (bin/tsbpf runs the execsnoop command's bundle).
const TSBPF = [join(root, 'bin/tsbpf'), 'execsnoop'];

interface Run {
  events: number;
  /** CPU of the tracer while the storm ran (and its output drained) */
  cpu: number;
  /** CPU the tracer spent starting (loading, attaching): until its first line of output */
  startup: number;
  /** CPU until the storm started (start-up, the 1.5 s settle, and any other process's execs meanwhile) */
  settled: number;
}

async function traced(cmd: string, args: string[], ppidColumn: (line: string) => number | undefined, env = process.env): Promise<Run> {
  const tracer = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  let ready: number | undefined;
  tracer.stdout!.on('data', (d: Buffer) => {
    ready ??= cpuSeconds(tracer.pid!);
    out += d.toString();
  });
  const closed = new Promise<void>((res) => tracer.on('close', () => res()));
  for (let i = 0; i < 200 && !out; i++) await sleep(25);
  // let start-up settle (JIT, the garbage of loading) before measuring
  await sleep(1500);
  const before = cpuSeconds(tracer.pid!);
  const storm = spawn(execstorm(), [String(N)], { stdio: ['pipe', 'ignore', 'inherit'] });
  const stormDone = new Promise<void>((res) => storm.on('close', () => res()));
  storm.stdin!.write('g');
  await stormDone;
  await sleep(500);
  const cpu = cpuSeconds(tracer.pid!) - before;
  tracer.kill('SIGINT');
  await closed;
  const events = out.split('\n').filter((l) => ppidColumn(l) === storm.pid).length;
  return { events, cpu, startup: ready ?? before, settled: before };
}

/** CPU until the first line of output (start-up alone, no storm). */
async function startupOnly(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const tracer = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const closed = new Promise<void>((res) => tracer.on('close', () => res()));
  const cpu = await new Promise<number>((res) => tracer.stdout!.once('data', () => res(cpuSeconds(tracer.pid!))));
  tracer.kill('SIGINT');
  await closed;
  return cpu;
}

async function main(): Promise<void> {
  if (!existsSync(LIBBPF)) throw new Error(`${LIBBPF} not found (apt-get install libbpf-tools)`);
  // "%-16s %-6d %-6d %3d args": PPID is the third column in both
  const ppid = (l: string) => {
    const m = /^.{16} +(\d+) +(\d+) +-?\d+ /.exec(l);
    return m ? Number(m[2]) : undefined;
  };
  // A cold start first, reported apart: an empty cache directory (no V8 code cache for the CLI, no CO-RE)
  // (a fresh install's first run). The measured runs then start as every later run does.
  const coreCache = mkdtempSync(join(tmpdir(), 'tsbpf-bench-core-'));
  const cold = await traced(process.execPath, TSBPF, ppid, { ...process.env, TSBPF_CACHE_DIR: coreCache });
  rmSync(coreCache, { recursive: true, force: true });
  const ours: Run[] = [];
  const theirs: Run[] = [];
  for (let r = 0; r < RUNS; r++) {
    theirs.push(await traced(LIBBPF, [], ppid));
    ours.push(await traced(process.execPath, TSBPF, ppid));
  }
  // Where NODE_EXTRA_CA_CERTS is set (this machine's sandbox sets it for npm), Node 20 builds its CA
  // store at every start; tsbpf's start-up without it is measured too, reported apart.
  let startupOursWithoutNodeExtraCaCerts: number | undefined;
  if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const xs: number[] = [];
    for (let r = 0; r < RUNS; r++) xs.push(await startupOnly(process.execPath, TSBPF, env));
    startupOursWithoutNodeExtraCaCerts = median(xs);
  }
  report({
    name: 'execsnoop-vs-libbpf-tools',
    ours: median(ours.map((r) => r.cpu)),
    reference: median(theirs.map((r) => r.cpu)),
    unit: 'CPU s',
    better: 'lower',
    referenceName: 'libbpf-tools execsnoop (Debian 0.26)',
    target: 1.5,
    execs: N,
    runs: RUNS,
    startupOurs: median(ours.map((r) => r.startup)),
    startupOursCold: cold.startup,
    startupOursSettled: median(ours.map((r) => r.settled)),
    // Node 20 loads the CA store at start when NODE_EXTRA_CA_CERTS is set (~45 ms of CPU here)
    nodeExtraCaCertsSet: process.env.NODE_EXTRA_CA_CERTS !== undefined,
    startupOursWithoutNodeExtraCaCerts,
    startupLibbpfTools: median(theirs.map((r) => r.startup)),
    startupLibbpfToolsSettled: median(theirs.map((r) => r.settled)),
    cpuOurs: ours.map((r) => r.cpu),
    cpuLibbpfTools: theirs.map((r) => r.cpu),
    eventsOurs: ours.map((r) => r.events),
    eventsLibbpfTools: theirs.map((r) => r.events),
    sameEvents: ours.every((r, i) => r.events === theirs[i]!.events && r.events === N),
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

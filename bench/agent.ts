// agent: the CPU `tsbpf agent` spends per 10,000 events (tcpconnect + execsnoop + runqlat loaded,
// scraped every second), against the same programs' consumers run as the terminal tools
// (`tsbpf tcpconnect`, `tsbpf execsnoop`, `tsbpf runqlat`, output read and dropped), over the same
// workload in a cgroup both are scoped to: a C connect loop and a C exec storm. Then the agent's
// RSS, and /metrics at 10,000 series (connects to 10,000 distinct ports counted by port): scrape
// time and bytes, beside prom-client's own Counter holding as many series (the library's native
// path, in this process). Targets: CPU ratio <= 1.2; scrape <= 50 ms. Runs alternate; medians.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import client from 'prom-client';
import { connloop, execstorm } from '../test/tools/connloop.js';
import { cgroup2Root } from '../src/tools/common/cgroup.js';
import { report, root, median } from './report.js';

const CONNECTS = Number(process.env.CONNECTS ?? 30000);
const EXECS = Number(process.env.EXECS ?? 3000);
const RUNS = Number(process.env.RUNS ?? 3);
const SERIES = Number(process.env.SERIES ?? 10000);
const BIN = join(root, 'bin/tsbpf');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const cg = join(cgroup2Root(), `tsbpf-bench-agent-${process.pid}`);
const rel = cg.slice(cgroup2Root().length);

/** Spawns a process and moves it into the bench cgroup before it does anything (it waits for a byte). */
function inCgroup(cmd: string, args: string[]): ChildProcess {
  const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'inherit'] });
  writeFileSync(join(cg, 'cgroup.procs'), String(p.pid));
  return p;
}

const done = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null ? r() : p.on('close', () => r())));

/** The workload: CONNECTS connects and EXECS execs at once, from the cgroup. Returns the events made. */
async function workload(port: number): Promise<number> {
  // connloop connects at once: a shell moves into the cgroup, waits for the go byte, then execs it
  const conn = inCgroup('sh', ['-c', `read x; exec ${connloop()} connect ${port} ${CONNECTS} benchconn >/dev/null`]);
  const storm = inCgroup(execstorm(), [String(EXECS)]);
  conn.stdin!.end('g\n');
  storm.stdin!.end('g');
  await Promise.all([done(conn), done(storm)]);
  // the connects, the execs, and the shell's exec of connloop
  return CONNECTS + EXECS + 1;
}

async function measure(procs: ChildProcess[], port: number, scrape?: number): Promise<{ cpu: number; events: number; seconds: number }> {
  await sleep(1500); // start-up settled
  const before = procs.map((p) => cpuSeconds(p.pid!));
  const t0 = performance.now();
  let scraping = true;
  const scraper = (async () => {
    while (scrape && scraping) {
      await fetch(`http://127.0.0.1:${scrape}/metrics`).then((r) => r.text());
      await sleep(1000);
    }
  })();
  const events = await workload(port);
  await sleep(500); // the last batch drained
  scraping = false;
  await scraper;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = procs.reduce((a, p, i) => a + cpuSeconds(p.pid!) - before[i]!, 0);
  return { cpu, events, seconds };
}

function drainStdout(p: ChildProcess): void {
  p.stdout?.on('data', () => {});
}

async function waitListening(agent: ChildProcess): Promise<number> {
  let err = '';
  agent.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 400; i++) {
    const m = /"msg":"listening","address":"[^"]*:(\d+)"/.exec(err);
    if (m) return Number(m[1]);
    if (agent.exitCode !== null) break;
    await sleep(25);
  }
  throw new Error(`agent did not start: ${err}`);
}

function agentConfig(dir: string, programs: string, maxSeries = 1000): string {
  const file = join(dir, `agent-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `listen: 127.0.0.1:0\nnode: bench\ncgroup: ${rel}\npinPath: /sys/fs/bpf/tsbpf-bench-${process.pid}\nmaxSeries: ${maxSeries}\nprograms:\n${programs}`);
  return file;
}

async function stop(ps: ChildProcess[]): Promise<void> {
  for (const p of ps) if (p.exitCode === null) p.kill('SIGINT');
  await Promise.all(ps.map(done));
}

async function runAgent(dir: string, port: number): Promise<{ cpu: number; events: number; seconds: number; rss: number; counted: number; lost: number }> {
  const file = agentConfig(dir, '  - name: connects\n    tool: tcpconnect\n  - name: execs\n    tool: execsnoop\n  - name: runq\n    tool: runqlat\n');
  const agent = spawn(BIN, ['agent', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const http = await waitListening(agent);
  const m = await measure([agent], port, http);
  const rss = rssBytes(agent.pid!);
  const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
  const counted = /^tsbpf_tcp_connects_total\{[^}]*comm="benchconn"[^}]*\} (\d+)$/m.exec(text);
  if (!counted || Number(counted[1]) < CONNECTS * 0.99) throw new Error(`agent counted ${counted?.[1]} of ${CONNECTS} connects`);
  const lost = [...text.matchAll(/^tsbpf_agent_events_lost_total\{[^}]*\} (\d+)$/gm)].reduce((a, x) => a + Number(x[1]), 0);
  await stop([agent]);
  return { ...m, rss, counted: Number(counted[1]), lost };
}

async function runTools(port: number): Promise<{ cpu: number; events: number; seconds: number }> {
  const tools = ['tcpconnect', 'execsnoop', 'runqlat'].map((t) => spawn(BIN, [t, '--cgroup', rel], { stdio: ['ignore', 'pipe', 'ignore'] }));
  tools.forEach(drainStdout);
  const m = await measure(tools, port);
  await stop(tools);
  return m;
}

/** /metrics at SERIES series: connects to as many distinct (closed) ports, counted by port. */
async function scrapeAtScale(dir: string): Promise<{ ms: number; bytes: number; series: number }> {
  const file = agentConfig(dir, '  - name: ports\n    tool: tcpconnect\n    labels: [dport]\n', SERIES + 10);
  const agent = spawn(BIN, ['agent', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const http = await waitListening(agent);
  const py = inCgroup('python3', ['-c', `import socket,sys\nsys.stdin.read(1)\nfor p in range(20000, ${20000 + SERIES}):\n  s=socket.socket()\n  try: s.connect(('127.0.0.1', p))\n  except OSError: pass\n  s.close()\n`]);
  py.stdin!.end('g');
  await done(py);
  let text = '';
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    if ((text.match(/^tsbpf_tcp_connects_total\{/gm) ?? []).length >= SERIES) break;
  }
  const series = (text.match(/^tsbpf_tcp_connects_total\{/gm) ?? []).length;
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    times.push(performance.now() - t0);
  }
  await stop([agent]);
  return { ms: median(times), bytes: Buffer.byteLength(text), series };
}

/** prom-client's own Counter with SERIES label sets, rendered by its registry (in this process). */
async function promClientNative(): Promise<number> {
  const reg = new client.Registry();
  const c = new client.Counter({ name: 'ref_connects_total', help: 'reference', labelNames: ['node', 'program', 'dport'], registers: [reg] });
  for (let i = 0; i < SERIES; i++) c.inc({ node: 'bench', program: 'ports', dport: String(20000 + i) }, i + 1);
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    await reg.metrics();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function main(): Promise<void> {
  mkdirSync(cg, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-agent-'));
  const portFile = join(dir, 'port');
  const server = spawn(connloop(), ['serve', portFile], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 200 && !existsSync(portFile); i++) await sleep(10);
    await sleep(50);
    const port = Number(readFileSync(portFile, 'utf8').trim());
    const ours: Awaited<ReturnType<typeof runAgent>>[] = [];
    const theirs: { cpu: number; events: number; seconds: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      theirs.push(await runTools(port));
      ours.push(await runAgent(dir, port));
    }
    const per10k = (x: { cpu: number; events: number }) => (x.cpu / x.events) * 10_000;
    const scrape = await scrapeAtScale(dir);
    const native = await promClientNative();
    report({
      name: 'agent',
      ours: median(ours.map(per10k)),
      reference: median(theirs.map(per10k)),
      unit: 'CPU s per 10k events',
      better: 'lower',
      referenceName: 'tsbpf tcpconnect + execsnoop + runqlat (terminal tools)',
      target: 1.2,
      connects: CONNECTS,
      execs: EXECS,
      runs: RUNS,
      eventsPerSecondAgent: ours.map((x) => Math.round(x.events / x.seconds)),
      cpuAgent: ours.map((x) => x.cpu),
      cpuTools: theirs.map((x) => x.cpu),
      rssAgentBytes: median(ours.map((x) => x.rss)),
      connectsCountedAgent: ours.map((x) => x.counted),
      eventsLostAgent: ours.map((x) => x.lost),
      scrapeSeries: scrape.series,
      scrapeMs: Math.round(scrape.ms * 10) / 10,
      scrapeBytes: scrape.bytes,
      scrapeTargetMs: 50,
      scrapeTargetMet: scrape.ms <= 50 && scrape.series >= SERIES,
      promClientNativeMs: Math.round(native * 10) / 10,
    });
  } finally {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    rmSync(`/sys/fs/bpf/tsbpf-bench-${process.pid}`, { recursive: true, force: true });
    await sleep(200);
    try {
      rmdirSync(cg);
    } catch {
      spawnSync('sleep', ['1']);
      rmdirSync(cg);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

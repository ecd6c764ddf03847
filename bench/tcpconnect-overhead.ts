// tcpconnect-overhead: connects per second of a tight C connect loop (connect, getsockname, RST
// close to 127.0.0.1) with tcpconnect attached and consuming its events, divided by the same loop
// without it. Target: >= 0.9.
//
// Fairness: the same loop binary and count in every run; runs alternate, and the order flips every
// round (without-with, with-without, ...) so a drift in the machine's load favours neither side.
// The machine is shared and its load swings within seconds, so each traced run is compared with the
// untraced run of its own round, next to it in time: the figure is the round whose ratio is the
// median (its two rates are `ours` and `reference`); the medians of each side are reported too. The tracer is the library (TcpConnectTracer, -P PORT
// without the source port, as `tsbpf tcpconnect -P PORT` opens it) consuming every event in this
// process. Each round also runs the real CLI (`tsbpf tcpconnect -P PORT`, printing to a file) as
// a second figure, and the tracers' CPU time per event (process.cpuUsage, /proc/PID/stat: less
// noisy than rates on a shared machine; /proc counts in 10 ms ticks).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, openSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connloop } from '../test/tools/connloop.js';
import { TcpConnectTracer } from '../src/tools/tcpconnect/index.js';
import { report, root } from './report.js';

const N = Number(process.env.CONNECTS ?? 40000);
const RUNS = Number(process.env.RUNS ?? 7);
const CLI = process.env.CLI !== '0';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One connect loop in its own process; resolves to connects per second. */
function loop(bin: string, port: number): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(bin, ['connect', String(port), String(N), 'bench-conn'], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('close', (code) => (code === 0 ? res(N / (Number(process.hrtime.bigint() - t0) / 1e9)) : rej(new Error(`connloop exited ${code}`))));
  });
}

/** The loop under the library tracer: rate, events, lost, and this process's CPU µs per event. */
async function traced(bin: string, port: number): Promise<{ rate: number; events: number; lost: number; cpuPerEvent: number; hook: string }> {
  const tracer = await TcpConnectTracer.open({ ports: [port], waitSourcePort: false });
  try {
    const ac = new AbortController();
    let events = 0;
    const cpu0 = process.cpuUsage();
    const consume = (async () => {
      for await (const _ of tracer.events(ac.signal)) events++;
    })();
    const rate = await loop(bin, port);
    // the last records wait for the drain timer at most
    for (let i = 0; i < 100 && events + tracer.lost < N; i++) await sleep(10);
    const cpu = process.cpuUsage(cpu0);
    ac.abort();
    await consume;
    return { rate, events, lost: tracer.lost, cpuPerEvent: (cpu.user + cpu.system) / Math.max(events, 1), hook: tracer.hookName };
  } finally {
    tracer.close();
  }
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The loop under `tsbpf tcpconnect -P PORT` (output to a file): rate, lines printed, the CLI's CPU µs per line. */
async function tracedByCli(bin: string, port: number, dir: string): Promise<{ rate: number; lines: number; cpuPerEvent: number }> {
  const out = join(dir, 'cli.out');
  const fd = openSync(out, 'w');
  const cli = spawn(process.execPath, [join(root, 'bin/tsbpf'), 'tcpconnect', '-P', String(port)], { stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  const exited = new Promise<number | null>((r) => cli.on('close', r));
  try {
    // the header is printed once the programs are attached
    for (let i = 0; i < 1000 && statSync(out).size === 0; i++) await sleep(10);
    if (statSync(out).size === 0) throw new Error('tsbpf tcpconnect did not start');
    const cpu0 = cpuSeconds(cli.pid!);
    const rate = await loop(bin, port);
    await sleep(300);
    const cpu = cpuSeconds(cli.pid!) - cpu0;
    cli.kill('SIGINT');
    const code = await exited;
    if (code !== 0 && code !== 130) throw new Error(`tsbpf tcpconnect exited ${code}`); // 130: stopped by SIGINT
    const lines = readFileSync(out, 'utf8').split('\n').length - 2;
    return { rate, lines, cpuPerEvent: (cpu * 1e6) / Math.max(lines, 1) };
  } finally {
    cli.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const bin = connloop();
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-tc-'));
  const server = spawn(bin, ['serve', join(dir, 'port')], { stdio: 'ignore' });
  try {
    let port = 0;
    for (let i = 0; i < 100 && !port; i++, await sleep(20)) port = existsSync(join(dir, 'port')) ? Number(readFileSync(join(dir, 'port'), 'utf8')) : 0;
    const without: number[] = [];
    const withTracer: number[] = [];
    const withCli: number[] = [];
    const cpuPerEvent: number[] = [];
    const cliCpuPerEvent: number[] = [];
    let events = 0;
    let lost = 0;
    let cliLines = 0;
    let hook = '';
    for (let r = 0; r < RUNS; r++) {
      const steps: (() => Promise<void>)[] = [
        async () => void without.push(await loop(bin, port)),
        async () => {
          const t = await traced(bin, port);
          withTracer.push(t.rate);
          cpuPerEvent.push(t.cpuPerEvent);
          events += t.events;
          lost += t.lost;
          hook = t.hook;
        },
      ];
      if (CLI) {
        steps.push(async () => {
          const c = await tracedByCli(bin, port, dir);
          withCli.push(c.rate);
          cliCpuPerEvent.push(c.cpuPerEvent);
          cliLines += c.lines;
        });
      }
      if (r % 2) steps.reverse();
      for (const s of steps) await s();
    }
    const ratios = withTracer.map((w, i) => w / without[i]!);
    const mid = ratios.indexOf(median(ratios));
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    report({
      name: 'tcpconnect-overhead',
      ours: Math.round(withTracer[mid]!),
      reference: Math.round(without[mid]!),
      unit: 'connects/s',
      better: 'higher',
      referenceName: 'no tracer',
      target: 0.9,
      hook,
      connectsPerRun: N,
      runs: RUNS,
      eventsSeen: events,
      lost,
      tracerCpuUsPerEvent: Math.round(median(cpuPerEvent) * 100) / 100,
      ratios: ratios.map(round3),
      ratioOfMedians: round3(median(withTracer) / median(without)),
      withTracer: withTracer.map(Math.round),
      without: without.map(Math.round),
      ...(CLI
        ? {
            cliRatio: round3(median(withCli.map((c, i) => c / without[i]!))),
            withCli: withCli.map(Math.round),
            cliEventsPrinted: cliLines,
            cliCpuUsPerEvent: Math.round(median(cliCpuPerEvent) * 100) / 100,
          }
        : {}),
    });
  } finally {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
    spawnSync('true');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

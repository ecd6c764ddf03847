// tcpconnect-rate: what tracing connects costs as their rate grows — the CPU the tracer process
// uses (% of one CPU) while a paced source (bench/c/ticker.c) connects to a closed local port at
// 200 to 20,000 connects/s, `tsbpf tcpconnect -P PORT` (bin/tsbpf, printing every connect to a
// file) against its peer here, bpftrace's one-liner on the same tracepoint printing the same
// (libbpf-tools' tcpconnect attaches kprobes, which this kernel does not have). Each point: the
// tracer started and settled (1 s), then SECONDS of the rate; the tools alternate; the median of
// ROUNDS. The ratio (for the spread check) is tsbpf / bpftrace at the highest rate, per round.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildC, report, root } from './report.js';
import { median, spread, waitQuiet } from './lib/rounds.js';

const SECONDS = Number(process.env.SECONDS ?? 4);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PORT = 9;
const RATES = [200, 1000, 5000, 20000];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ticker = buildC('ticker');

const cpuTicks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};

const tools = {
  tsbpf: [process.execPath, join(root, 'bin/tsbpf'), 'tcpconnect', '-P', String(PORT)],
  bpftrace: ['bpftrace', '-e', `tracepoint:sock:inet_sock_set_state /args->newstate == 2 && args->dport == ${PORT}/ { printf("%d %s %s %d\\n", pid, comm, ntop(args->daddr), args->dport); }`],
};
type Tool = keyof typeof tools;

/** % of a CPU the tracer used while connects ran at `rate`/s for SECONDS, and the lines it printed. */
async function point(tool: Tool, rate: number, dir: string): Promise<{ cpu: number; lines: number }> {
  const out = join(dir, `${tool}.out`);
  const fd = openSync(out, 'w');
  const [cmd, ...args] = tools[tool];
  const p = spawn(cmd!, args, { stdio: ['ignore', fd, 'ignore'] });
  closeSync(fd);
  const exited = new Promise((r) => p.on('close', r));
  try {
    for (let i = 0; i < 500 && statSync(out).size === 0; i++) await sleep(20);
    await sleep(1000);
    const ms = rate >= 1000 ? 1 : Math.round(1000 / rate);
    const per = rate >= 1000 ? rate / 1000 : 1;
    const c0 = cpuTicks(p.pid!);
    const t0 = performance.now();
    const t = spawn(ticker, ['connect', String(ms), String(PORT), String(per)], { stdio: 'ignore' });
    await sleep(SECONDS * 1000);
    t.kill();
    await sleep(200);
    const cpu = ((cpuTicks(p.pid!) - c0) / 100 / ((performance.now() - t0) / 1000)) * 100;
    return { cpu, lines: readFileSync(out, 'utf8').split('\n').filter((l) => / 9$| 9 /.test(l)).length };
  } finally {
    p.kill('SIGINT');
    await Promise.race([exited, sleep(5000)]);
    p.kill('SIGKILL');
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-tcr-'));
try {
  const load = await waitQuiet();
  const cpu: Record<Tool, number[][]> = { tsbpf: RATES.map(() => []), bpftrace: RATES.map(() => []) };
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < RATES.length; i++) {
      const row: string[] = [];
      for (const tool of (r + i) % 2 ? (['bpftrace', 'tsbpf'] as const) : (['tsbpf', 'bpftrace'] as const)) {
        const pt = await point(tool, RATES[i]!, dir);
        cpu[tool][i]!.push(pt.cpu);
        row.push(`${tool} ${pt.cpu.toFixed(1)} % (${pt.lines} lines)`);
      }
      console.log(`round ${r + 1}/${ROUNDS}, ${RATES[i]} connects/s: ${row.join(', ')}`);
    }
  }
  const top = RATES.length - 1;
  report({
    name: 'tcpconnect-rate',
    ours: Math.round(median(cpu.tsbpf[top]!) * 10) / 10,
    reference: Math.round(median(cpu.bpftrace[top]!) * 10) / 10,
    unit: `% of a CPU at ${RATES[top]} connects/s`,
    better: 'lower',
    referenceName: 'bpftrace 0.17, the same tracepoint and output',
    roundRatios: cpu.tsbpf[top]!.map((x, k) => x / Math.max(cpu.bpftrace[top]![k]!, 0.1)),
    rounds: ROUNDS,
    seconds: SECONDS,
    loadAverageAtStart: load,
    curve: {
      x: 'connects per second',
      y: "tracer's CPU (% of one CPU)",
      series: Object.fromEntries((Object.keys(tools) as Tool[]).map((t) => [t, RATES.map((rate, i) => ({ x: rate, ...spread(cpu[t][i]!) }))])),
    },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

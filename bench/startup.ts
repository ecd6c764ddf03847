// startup: launch-to-first-event of `tsbpf execsnoop` and `tsbpf tcpconnect` (bin/tsbpf, as a user
// runs them) against Debian's libbpf-tools execsnoop and tcpconnect (goal ≤ 1×): the clock starts
// when the tracer is spawned, an event source (bench/c/ticker.c) started at the same moment makes
// an event every TICK_MS ms (an exec of /bin/true with a marker argument; a connect to a closed
// local port), and the clock stops at the first line of the tracer's output that shows one. Runs
// alternate between the tools (the order flipping each round); medians of RUNS (default 5) runs; the
// ratio is the geometric mean over the tools of tsbpf / libbpf-tools, per round, refused when the
// rounds disagree by more than 15 %. tsbpf's CO-RE and code caches are warm (one run first). A peer
// that cannot run on this kernel (libbpf-tools tcpconnect attaches kprobes, which a kernel without
// CONFIG_KPROBES lacks) is reported as such, and tsbpf's figure for that tool stands alone.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildC, report, root } from './report.js';
import { geomean, median, spread, waitQuiet } from './lib/rounds.js';

const RUNS = Number(process.env.RUNS ?? 5);
const TICK_MS = Number(process.env.TICK_MS ?? 2);
const TSBPF = join(root, 'bin/tsbpf');
// libbpf-tools print with C stdio, fully buffered into a pipe: line-buffered, as on a terminal
// (tsbpf writes each batch of lines as it has them)
const STDBUF = ['stdbuf', '-oL'];

interface Tool {
  name: string;
  ours: string[];
  theirs: string[];
  ticker: string[];
  /** does this output line show an event of the ticker (its PID given)? */
  seen: (line: string, ticker: number) => boolean;
}

const tools: Tool[] = [
  // "PCOMM PID PPID ...": an exec of the ticker's child (its arguments are not always readable at exec)
  { name: 'execsnoop', ours: [process.execPath, TSBPF, 'execsnoop'], theirs: [...STDBUF, '/usr/sbin/execsnoop'], ticker: ['exec', String(TICK_MS)], seen: (l, t) => new RegExp(`^true +\\d+ +${t} `).test(l) },
  // "PID COMM ...": a connect of the ticker
  { name: 'tcpconnect', ours: [process.execPath, TSBPF, 'tcpconnect'], theirs: [...STDBUF, '/usr/sbin/tcpconnect'], ticker: ['connect', String(TICK_MS), '9'], seen: (l, t) => new RegExp(`^${t} +tsbpf-tick `).test(l) },
];

const tickerBin = buildC('ticker');

/** ms from spawning `cmd` to its first output line that shows a ticker event. */
async function firstEvent(cmd: string[], tool: Tool): Promise<number> {
  const t0 = process.hrtime.bigint();
  const tracer = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const ticker = spawn(tickerBin, tool.ticker, { stdio: 'ignore' });
  let err = '';
  const exited = new Promise((r) => tracer.on('close', r));
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cmd.join(' ')}: no event in 30 s`)), 30_000);
      tracer.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      tracer.on('close', (code) => reject(new Error(`${cmd.join(' ')} exited (${code}) before an event: ${err.trim().split('\n').pop()}`)));
      let buf = '';
      tracer.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        if (lines.some((l) => tool.seen(l, ticker.pid!))) {
          clearTimeout(timer);
          resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      });
    });
  } finally {
    ticker.kill();
    tracer.kill('SIGINT');
    await exited;
  }
}

const load = await waitQuiet();
const results: Record<string, { tsbpf: number[]; libbpf: number[] }> = {};
/** tools whose libbpf-tools peer cannot run here, and why (libbpf-tools tcpconnect needs kprobes) */
const unavailable: Record<string, string> = {};
for (const tool of tools) {
  await firstEvent(tool.ours, tool); // the code cache and CO-RE cache, as a user's second start finds them
  results[tool.name] = { tsbpf: [], libbpf: [] };
  try {
    await firstEvent(tool.theirs, tool);
  } catch (e) {
    unavailable[tool.name] = (e as Error).message;
    console.log(`${tool.name}: the reference cannot run here — ${unavailable[tool.name]}`);
  }
}
const compared = tools.filter((t) => !unavailable[t.name]);
for (let r = 0; r < RUNS; r++) {
  for (const tool of tools) {
    const order = r % 2 ? (['libbpf', 'tsbpf'] as const) : (['tsbpf', 'libbpf'] as const);
    for (const who of order) {
      if (who === 'libbpf' && unavailable[tool.name]) continue;
      results[tool.name]![who].push(await firstEvent(who === 'tsbpf' ? tool.ours : tool.theirs, tool));
    }
    console.log(`round ${r + 1}/${RUNS} ${tool.name}: tsbpf ${results[tool.name]!.tsbpf.at(-1)!.toFixed(0)} ms, libbpf-tools ${results[tool.name]!.libbpf.at(-1)?.toFixed(0) ?? '-'} ms`);
  }
}
const roundRatios = Array.from({ length: RUNS }, (_, r) => geomean(compared.map((t) => results[t.name]!.tsbpf[r]! / results[t.name]!.libbpf[r]!)));
const ms = (xs: number[]) => (xs.length ? Math.round(median(xs) * 10) / 10 : null);
report({
  name: 'startup',
  ours: Math.round(geomean(compared.map((t) => median(results[t.name]!.tsbpf))) * 10) / 10,
  reference: Math.round(geomean(compared.map((t) => median(results[t.name]!.libbpf))) * 10) / 10,
  unit: `ms to the first event (geomean of ${compared.map((t) => t.name).join(' and ')})`,
  better: 'lower',
  referenceName: 'libbpf-tools execsnoop and tcpconnect (Debian)',
  target: 1,
  roundRatios,
  runs: RUNS,
  tickMs: TICK_MS,
  loadAverageAtStart: load,
  nodeExtraCaCertsSet: process.env.NODE_EXTRA_CA_CERTS !== undefined,
  unavailable,
  tools: Object.fromEntries(tools.map((t) => [t.name, {
    tsbpfMs: ms(results[t.name]!.tsbpf),
    libbpfToolsMs: ms(results[t.name]!.libbpf),
    ratio: unavailable[t.name] ? null : Math.round((median(results[t.name]!.tsbpf) / median(results[t.name]!.libbpf)) * 1000) / 1000,
    tsbpf: spread(results[t.name]!.tsbpf),
    libbpfTools: unavailable[t.name] ? null : spread(results[t.name]!.libbpf),
  }])),
});

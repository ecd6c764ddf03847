// tcpconnect-overhead: connects per second of a tight C connect loop (connect, getsockname, RST
// close to 127.0.0.1) with `tsbpf tcpconnect` attached and consuming its events, divided by the
// same loop without it. Runs alternate; medians. Target: >= 0.9.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connloop } from '../test/tools/connloop.js';
import { TcpConnectTracer } from '../src/tools/tcpconnect/index.js';
import { report } from './report.js';

const N = Number(process.env.CONNECTS ?? 30000);
const RUNS = Number(process.env.RUNS ?? 3);
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

async function main(): Promise<void> {
  const bin = connloop();
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-tc-'));
  const server = spawn(bin, ['serve', join(dir, 'port')], { stdio: 'ignore' });
  try {
    let port = 0;
    for (let i = 0; i < 100 && !port; i++, await sleep(20)) port = existsSync(join(dir, 'port')) ? Number(readFileSync(join(dir, 'port'), 'utf8')) : 0;
    const without: number[] = [];
    const withTracer: number[] = [];
    let events = 0;
    let lost = 0;
    for (let r = 0; r < RUNS; r++) {
      without.push(await loop(bin, port));
      // as `tsbpf tcpconnect -P PORT` runs: the default columns have no source port
      const tracer = await TcpConnectTracer.open({ ports: [port], waitSourcePort: false });
      const ac = new AbortController();
      const consume = (async () => {
        for await (const _ of tracer.events(ac.signal)) events++;
      })();
      withTracer.push(await loop(bin, port));
      await sleep(200);
      ac.abort();
      await consume;
      lost += tracer.lost;
      tracer.close();
    }
    const ours = median(withTracer);
    const reference = median(without);
    report({
      name: 'tcpconnect-overhead',
      ours: Math.round(ours),
      reference: Math.round(reference),
      unit: 'connects/s',
      better: 'higher',
      referenceName: 'no tracer',
      target: 0.9,
      hook: 'tracepoint sock/inet_sock_set_state',
      connectsPerRun: N,
      runs: RUNS,
      eventsSeen: events,
      lost,
      withTracer: withTracer.map(Math.round),
      without: without.map(Math.round),
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

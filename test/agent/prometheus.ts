// A real Prometheus (Debian's package) for tests: scraping the targets of a file_sd file every
// second, from a temporary data directory, on a free loopback port; queried through its HTTP API.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Prometheus {
  url: string;
  proc: ChildProcess;
  /** replaces the file_sd targets (Prometheus re-reads the file) */
  setTargets(groups: { targets: string[]; labels?: Record<string, string> }[]): void;
  /** an instant query's vector: labels and value per series */
  query(q: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  close(): Promise<void>;
}

export async function startPrometheus(interval = '1s'): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-prometheus-'));
  const sd = join(dir, 'targets.json');
  const setTargets: Prometheus['setTargets'] = (groups) => {
    // written whole, then renamed: Prometheus never reads half a file
    writeFileSync(`${sd}.tmp`, JSON.stringify(groups));
    renameSync(`${sd}.tmp`, sd);
  };
  setTargets([]);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: ${interval}\n  scrape_timeout: ${interval}\n  evaluation_interval: ${interval}\n` +
      `scrape_configs:\n  - job_name: tsbpf\n    file_sd_configs:\n      - files: ['${sd}']\n        refresh_interval: 1s\n`,
  );
  const port = await freePort();
  const proc = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (proc.exitCode !== null || i > 200) throw new Error(`prometheus did not start: ${log}`);
    await sleep(100);
  }
  return {
    url,
    proc,
    setTargets,
    async query(q) {
      const r = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
      if (r.status !== 'success') throw new Error(`query ${q}: ${r.error}`);
      return r.data.result.map((x) => ({ metric: x.metric, value: Number(x.value[1]) }));
    },
    async close() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

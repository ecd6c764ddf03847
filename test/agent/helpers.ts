// What the agent's kernel tests share: the agent as a process (bin/tsbpf agent, as it is deployed),
// its /metrics read back into numbers, and workloads that move themselves into a cgroup (and run in
// a network namespace) before they connect and exec.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const BIN = new URL('../../../bin/tsbpf', import.meta.url).pathname;

export interface AgentProcess {
  proc: ChildProcess;
  port: number;
  /** the JSON log lines so far */
  logs: any[];
  metrics(accept?: string): Promise<string>;
  health(): Promise<{ status: number; body: any }>;
  /** waits for a log line with this msg (after `from` lines) */
  waitLog(msg: string, from?: number, ms?: number): Promise<any>;
  /** sends the signal and waits for the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The programs most tests run: connects by container and comm, execs with the default labels. */
export const CONNECTS_AND_EXECS = `programs:
  - name: connects
    tool: tcpconnect
    labels: [container, container_id, comm]
  - name: execs
    tool: execsnoop
`;

export function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-agent-'));
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, text);
  return file;
}

export async function startAgent(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<AgentProcess> {
  const proc = spawn(BIN, ['agent', '--config', configFile], { stdio: ['ignore', 'inherit', 'pipe'], env: { ...process.env, ...env } });
  const logs: any[] = [];
  let buf = '';
  proc.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: 'non-json', line });
      }
    }
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const waitLog = async (msg: string, from = 0, ms = 20_000): Promise<any> => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = logs.slice(from).find((l) => l.msg === msg);
      if (hit) return hit;
      if (proc.exitCode !== null || Date.now() > end) throw new Error(`agent: no '${msg}' log line (exit ${proc.exitCode}); logs: ${JSON.stringify(logs)}`);
      await sleep(25);
    }
  };
  const listening = await waitLog('listening');
  const port = Number(String(listening.address).split(':').pop());
  const get = async (path: string, accept?: string) => fetch(`http://127.0.0.1:${port}${path}`, accept ? { headers: { accept } } : {});
  return {
    proc,
    port,
    logs,
    metrics: async (accept) => (await get('/metrics', accept)).text(),
    health: async () => {
      const r = await get('/healthz');
      return { status: r.status, body: await r.json() };
    },
    waitLog,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** The value of one sample in exposition text: `name` with exactly these labels among its own (subset match). */
export function values(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[k!] = v!;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) out.push(Number(m[3]));
  }
  return out;
}

export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

export interface Workload {
  /** cgroup v2 directory the workload moves itself into first */
  cgroup: string;
  /** run inside this network namespace (of `ip netns add`) */
  netns?: string;
  /** connects to a listener of its own on 127.0.0.1 */
  connects: number;
  /** programs exec'd, in order (argv lists) */
  execs: string[][];
}

const PY = `
import os, socket, subprocess, sys, json
w = json.loads(sys.argv[1])
with open(w['cgroup'] + '/cgroup.procs', 'w') as f:
    f.write(str(os.getpid()))
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(128)
port = srv.getsockname()[1]
for _ in range(w['connects']):
    c = socket.create_connection(('127.0.0.1', port))
    a, _ = srv.accept()
    c.close()
    a.close()
for argv in w['execs']:
    subprocess.run(argv, stdout=subprocess.DEVNULL)
print(port)
`;

/** Runs a workload to its end; returns the listener's port (the connects' dport). */
export function runWorkload(w: Workload): number {
  const argv = ['python3', '-c', PY, JSON.stringify(w)];
  // nsenter, not `ip netns exec`: that one mounts a new /sys, without the cgroup2 mount
  const r = w.netns ? spawnSync('nsenter', [`--net=/run/netns/${w.netns}`, ...argv], { encoding: 'utf8' }) : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`workload failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** Polls `f` until it returns true (or throws the last failure after `ms`). */
export async function eventually(f: () => Promise<boolean> | boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Removes a cgroup directory and every cgroup below it, deepest first, waiting for tasks still
 * exiting (rmdir says EBUSY until the last one is gone).
 */
export async function removeCgroupTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const dirs: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    dirs.push(d);
  };
  walk(dir);
  for (const d of dirs) {
    for (let i = 0; existsSync(d); i++) {
      try {
        rmdirSync(d);
      } catch (e) {
        if (i >= 30) throw e;
        await sleep(100);
      }
    }
  }
}

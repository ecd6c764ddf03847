// Workloads for the tools' kernel tests: child processes with known PIDs and names that connect,
// exec, open, write; listeners; and the checks that what a tracer loaded is gone after close.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import assert from 'node:assert/strict';
import { loadedProgramIds } from '../helpers/kernel.js';

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** lets the child start its work (it waits for this after setting its name) */
  go(): void;
  /** stdout, parsed as JSON, when the child exits */
  result: Promise<any>;
}

/**
 * A node child running `body` (an async function body with `name`, `args` in scope) after it set
 * its comm to `name` and read "go" on stdin. Its stdout must be one JSON value.
 */
export function startChild(name: string, body: string, args: unknown, opts: { uid?: number; gid?: number } = {}): Promise<Child> {
  const script = `
process.title = ${JSON.stringify(name)};
const args = JSON.parse(process.argv[1]);
process.stdin.once('data', async () => {
  const out = await (async () => { ${body} })();
  process.stdout.write(JSON.stringify(out ?? null));
  process.exit(0);
});
process.stdout.write('ready\\n');
`;
  const proc = spawn(process.execPath, ['-e', script, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'], ...opts });
  let out = '';
  return new Promise((resolve, reject) => {
    let ready = false;
    const result = new Promise<any>((res, rej) => {
      proc.on('exit', (code) => {
        if (code !== 0) return rej(new Error(`child ${name} exited ${code}`));
        try {
          res(JSON.parse(out.slice(out.indexOf('\n') + 1)));
        } catch (e) {
          rej(e);
        }
      });
    });
    proc.on('error', reject);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!ready && out.includes('ready\n')) {
        ready = true;
        resolve({ proc, pid: proc.pid!, go: () => proc.stdin!.write('go\n'), result });
      }
    });
  });
}

/** Body for startChild: connect to each of args.targets ({host, port}) args.rounds times, sequentially. */
export const CONNECT_BODY = `
const net = require('net');
const out = [];
for (let r = 0; r < (args.rounds ?? 1); r++) for (const t of args.targets) {
  await new Promise((res) => {
    const s = net.connect({ host: t.host, port: t.port });
    s.on('connect', () => { out.push({ ok: true, host: t.host, port: t.port, lport: s.localPort }); s.destroy(); res(); });
    s.on('error', (e) => { out.push({ ok: false, host: t.host, port: t.port, err: e.code }); res(); });
  });
}
return out;
`;

export async function listen(host: string): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((s) => s.on('error', () => {}).end());
  await new Promise<void>((res, rej) => server.once('error', rej).listen(0, host, () => res()));
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** A port nothing listens on (bound then released), so connects to it are refused. */
export async function closedPort(host: string): Promise<number> {
  const { server, port } = await listen(host);
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

/** Items of an async iterable until `done` returns true for the list, or the timeout. */
export async function collectUntil<T>(it: AsyncIterable<T>, done: (items: T[]) => boolean, ms: number, ac: AbortController): Promise<T[]> {
  const items: T[] = [];
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    for await (const x of it) {
      items.push(x);
      if (done(items)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return items;
}

export function loadedMapIds(): number[] {
  const out = execFileSync('bpftool', ['map', 'list', '--json'], { encoding: 'utf8' });
  return (JSON.parse(out) as { id: number }[]).map((m) => m.id);
}

/**
 * The programs and maps a tracer loaded are no longer in the kernel. The kernel frees them after the
 * last reference goes (RCU, a workqueue), so they may linger for a moment: poll for up to 3 s.
 */
export async function assertReleased(ids: { programs: number[]; maps: number[] }): Promise<void> {
  assert.ok(ids.programs.length > 0, 'tracer had programs');
  let left: string[] = [];
  for (let i = 0; i < 60; i++) {
    const progs = new Set(loadedProgramIds());
    const maps = new Set(loadedMapIds());
    left = [...ids.programs.filter((id) => progs.has(id)).map((id) => `program ${id}`), ...ids.maps.filter((id) => maps.has(id)).map((id) => `map ${id}`)];
    if (!left.length) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`still in the kernel after close: ${left.join(', ')}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A compiled helper started with comm NAME, waiting for a byte on stdin before it works. */
export function startBinary(bin: string, args: string[]): { proc: ChildProcess; pid: number; go: () => void; exited: Promise<number> } {
  const proc = spawn(bin, args, { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<number>((res) => proc.on('close', (code) => res(code ?? -1)));
  return { proc, pid: proc.pid!, go: () => proc.stdin!.write('g'), exited };
}

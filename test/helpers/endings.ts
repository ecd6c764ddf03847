// Ending a command the ways users end tools — Ctrl+C on a terminal, `timeout -s INT`, `| head -1`,
// `kill -HUP`, `kill -KILL`, stdout on /dev/full, stdout on a pipe nobody reads — and checking what
// it printed and that it left nothing in the kernel. Each ending starts `bin/tsbpf` as a user
// would (through a shell, a pseudo-terminal, `timeout`), and the leak check looks for programs
// named like the command's that appeared during the run and are still loaded with no process
// holding them: what an attachment (netlink, tc) or a pin keeps alive.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { listPrograms, programIds } from '../../src/sys/info.js';
import { CLI } from '../net-tools/topology.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from the ending's action (signal, reader gone) to the process's exit */
  ms: number;
}

/** What a command must show, and how to tell it is attached. */
export interface Expect {
  /** printed on stdout when it stops on a signal (the summary it owes) */
  summary: RegExp;
  /** text (stdout or stderr) saying it runs; default: it holds a BPF program, then 500 ms */
  ready?: RegExp;
  /** `ready` is printed on stderr (so it shows while stdout is stalled) */
  readyOnStderr?: boolean;
  /** kernel names of its programs */
  names: RegExp;
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** The shell command line running `tsbpf args`. */
export const cmdline = (args: string[]): string => [process.execPath, ...CLI, ...args].map(shq).join(' ');

/** Highest program id now: programs above it appeared later. */
export function kernelMark(): number {
  return Math.max(0, ...programIds());
}

/** Program ids some process holds an fd of. */
function heldPrograms(): Set<number> {
  const held = new Set<number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== 'anon_inode:bpf-prog') continue;
        const m = /^prog_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
        if (m) held.add(Number(m[1]));
      } catch {
        // closed meanwhile
      }
    }
  }
  return held;
}

/** Programs loaded after `mark`, named like `names`, that no process holds (kept by the kernel). */
export function leftPrograms(mark: number, names: RegExp): string[] {
  const fresh = listPrograms().filter((p) => p.id > mark && names.test(p.name));
  if (!fresh.length) return [];
  const held = heldPrograms();
  return fresh.filter((p) => !held.has(p.id)).map((p) => `${p.id} ${p.name}`);
}

/** Waits (the kernel frees a dead process's objects a moment later) until nothing is left; else the list. */
export async function leftAfter(mark: number, names: RegExp, ms = 4000): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const left = leftPrograms(mark, names);
    if (!left.length || Date.now() > end) return left;
    await sleep(100);
  }
}

/** True if process `pid` holds a BPF program fd. */
function holdsProgram(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:bpf-prog';
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

interface Started {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(file: string, args: string[], stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): Started {
  const child = spawn(file, args, { stdio });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  return { child, out: () => out, err: () => err, closed };
}

/** Resolves once the command runs (its ready text, or a program fd + 500 ms); rejects if it exits first or takes too long. */
async function ready(s: Started, e: Expect, pid = s.child.pid!, ms = 30_000): Promise<void> {
  let exited = false;
  void s.closed.then(() => (exited = true));
  const end = Date.now() + ms;
  for (;;) {
    if (exited) throw new Error(`exited before it was ready:\n${s.out()}\n${s.err()}`);
    if (e.ready ? e.ready.test(s.out() + s.err()) : holdsProgram(pid)) break;
    if (Date.now() > end) throw new Error(`not ready after ${ms} ms:\n${s.out()}\n${s.err()}`);
    await sleep(50);
  }
  await sleep(e.ready ? 200 : 500);
}

async function ended(s: Started, from: number, timeoutMs = 30_000): Promise<Ended> {
  const t = setTimeout(() => s.child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await s.closed;
  clearTimeout(t);
  return { code, signal, stdout: s.out(), stderr: s.err(), ms: Date.now() - from };
}

/** Ctrl+C typed on a terminal: `script` gives the command a pseudo-terminal, ^C is written to it. */
export async function ptyCtrlC(args: string[], e: Expect): Promise<Ended> {
  const s = start('script', ['-qfec', `exec ${cmdline(args)}`, '/dev/null'], ['pipe', 'pipe', 'pipe']);
  await ready(s, { ...e, ready: e.ready ?? /./ }, s.child.pid!);
  if (!e.ready) await sleep(1000); // a header is printed once attached; the first line is enough
  const from = Date.now();
  s.child.stdin!.write('\x03');
  const r = await ended(s, from);
  return { ...r, stdout: r.stdout.replace(/\r\n/g, '\n') };
}

/** `timeout --preserve-status -s INT SECONDS tsbpf …` (the exit status is the command's). */
export async function timeoutInt(args: string[], seconds = 4): Promise<Ended> {
  const s = start('timeout', ['--preserve-status', '-s', 'INT', String(seconds), process.execPath, ...CLI, ...args]);
  return ended(s, Date.now() + seconds * 1000);
}

/** A signal sent once the command runs (`kill -HUP PID`, `kill -KILL PID`). */
export async function killWith(sig: NodeJS.Signals, args: string[], e: Expect): Promise<Ended & { pid: number }> {
  const s = start(process.execPath, [...CLI, ...args]);
  await ready(s, e);
  const from = Date.now();
  s.child.kill(sig);
  return { ...(await ended(s, from)), pid: s.child.pid! };
}

/** `tsbpf …` run to its end (it must end by itself). */
export async function runToEnd(args: string[]): Promise<Ended> {
  return ended(start(process.execPath, [...CLI, ...args]), Date.now());
}

/** `tsbpf … | head -1` in bash; `status` is tsbpf's exit status (PIPESTATUS). */
export async function headOne(args: string[]): Promise<Ended & { status: number }> {
  const s = start('bash', ['-c', `${cmdline(args)} | head -1; echo "status=\${PIPESTATUS[0]}" >&2`]);
  const r = await ended(s, Date.now());
  const status = Number(/status=(\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { ...r, stderr: r.stderr.replace(/status=\d+\n$/, ''), status };
}

/** stdout on /dev/full. */
export async function devFull(args: string[]): Promise<Ended> {
  const fd = openSync('/dev/full', 'w');
  try {
    const s = start(process.execPath, [...CLI, ...args], ['ignore', fd, 'pipe']);
    return await ended(s, Date.now());
  } finally {
    closeSync(fd);
  }
}

/**
 * stdout on a pipe that is full and nobody reads: `beforeStop` once it runs, then SIGINT,
 * `whileStalled` while it cannot write (its programs must be gone by then), then the pipe is read
 * to the end.
 */
export async function stalledPipe(
  args: string[],
  e: Expect,
  whileStalled: (pid: number) => Promise<void>,
  beforeStop: (pid: number) => Promise<void> = async () => {},
): Promise<Ended> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-stall-'));
  const fifo = join(dir, 'out');
  execFileSync('mkfifo', [fifo]);
  const rfd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const wfd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    // fill it: the command's first write already finds no room
    const junk = Buffer.alloc(4096, 0x23);
    for (;;) {
      try {
        writeSync(wfd, junk);
      } catch {
        break;
      }
    }
    const s = start(process.execPath, [...CLI, ...args], ['ignore', wfd, 'pipe']);
    closeSync(wfd);
    // what it prints on stdout waits in the pipe: by its stderr, or by its programs
    await ready(s, e.readyOnStderr ? e : { ...e, ready: undefined });
    await beforeStop(s.child.pid!);
    const from = Date.now();
    s.child.kill('SIGINT');
    await whileStalled(s.child.pid!);
    // now read: junk first, then what the command owed
    let text = '';
    const buf = Buffer.alloc(1 << 16);
    let done = false;
    void s.closed.then(() => (done = true));
    for (const end = Date.now() + 30_000; Date.now() < end; ) {
      let n = 0;
      try {
        n = readSync(rfd, buf);
      } catch {
        n = -1; // EAGAIN: nothing yet
      }
      if (n > 0) text += buf.subarray(0, n).toString();
      else if (n === 0 && done) break;
      else await sleep(20);
    }
    const r = await ended(s, from);
    return { ...r, stdout: text.replace(/^#+/, '') };
  } finally {
    closeSync(rfd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether `pid` still runs. */
export function running(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Runs `jobs` with at most `n` at once; resolves with their results in order. */
export async function pool<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

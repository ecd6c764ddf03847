// One life cycle for every command: how a run of a tool, a script or a capture ends, in one place.
//
// A command that runs until told to stop does its work inside a Run. SIGINT, SIGTERM and SIGHUP,
// its --duration, and the end of its standard output all abort the Run's signal: the command then
// prints what it owes (histograms, counts, folded stacks), releases what it holds and returns, and
// the process exits 0 — as libbpf-tools do. A Run keeps the event loop alive until then (signal
// listeners alone do not), so a command without --duration runs until it is told to stop.
//
// A second signal while a Run winds down, or a signal outside any Run, ends the process at once
// with 128 + the signal's number, after the exit-time cleanups (src/sys/cleanup.ts) undid what does
// not die with a file descriptor (netlink attachments, qdiscs, pins).
//
// SIGUSR1 is taken too, always: Node starts its inspector (a debugger on 127.0.0.1:9229 that runs
// any code sent to it) on SIGUSR1 when nobody listens — in a root process, a back door. A Run may
// give SIGUSR1 a meaning (`trace` prints its maps, as bpftrace does); otherwise it is ignored.
//
// The end of standard output (src/sys/stdout.ts) decides the exit status: a reader gone (| head)
// exits quietly with 141 (128 + SIGPIPE, what the shell reports for a writer killed by SIGPIPE);
// a failed write (/dev/full) prints one line and exits 1.
import { runCleanups } from '../sys/cleanup.js';
import { stdout, type Output, type OutputEnd } from '../sys/stdout.js';
import { describeErrno } from '../sys/errors.js';

export type StopReason = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'duration' | 'output closed' | 'output failed' | 'stopped';

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNALS;

/** Exit status of a writer whose reader went away (the shell's 128 + SIGPIPE). */
export const EXIT_OUTPUT_CLOSED = 141;

export interface RunOptions {
  /** stop after this many seconds */
  duration?: number;
  /** lost output records are also reported as JSON lines on standard output */
  json?: boolean;
}

export class Run {
  private readonly ac = new AbortController();
  private readonly keepAlive: NodeJS.Timeout;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly lostTimer: NodeJS.Timeout;
  private reported = 0;
  private ended = false;
  /** what SIGUSR1 does while this Run is on (default: nothing) */
  onUsr1: (() => void) | undefined;
  /** what SIGHUP does while this Run is on, for a daemon that reloads on it (default: stop) */
  onHup: (() => void) | undefined;
  /** why it stopped */
  reason: StopReason | undefined;

  constructor(
    private readonly out: Output | undefined,
    private readonly o: RunOptions,
  ) {
    // signal listeners do not keep Node's event loop alive: this does, until the Run ends
    this.keepAlive = setInterval(() => {}, 1 << 30);
    this.timer = o.duration !== undefined ? setTimeout(() => this.stop('duration'), o.duration * 1000) : undefined;
    this.lostTimer = setInterval(() => this.reportLost(), 1000).unref();
    out?.watchReader(true);
  }

  /** Aborted when the command should stop (signal, duration, output ended, stop()). */
  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** Stop (once): the command's loops end and it prints what it owes. */
  stop(reason: StopReason = 'stopped'): void {
    if (this.ac.signal.aborted) return;
    this.reason = reason;
    this.ac.abort();
  }

  /** Resolves when the Run is stopped. */
  stopped(): Promise<void> {
    const s = this.ac.signal;
    return new Promise((res) => (s.aborted ? res() : s.addEventListener('abort', () => res(), { once: true })));
  }

  /** The command is done: timers go, lost output is reported a last time. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.keepAlive);
    clearTimeout(this.timer);
    clearInterval(this.lostTimer);
    this.out?.watchReader(false);
    this.reportLost();
    if (current === this) current = undefined;
    releaseSignals();
  }

  [Symbol.dispose](): void {
    this.end();
  }

  /** Records standard output dropped since the last report, on stderr (and as a JSON line with json). */
  private reportLost(): void {
    const out = this.out;
    if (!out || out.lost <= this.reported || out.ended) return;
    const d = out.lost - this.reported;
    this.reported = out.lost;
    process.stderr.write(`Lost ${d} records: standard output is not read fast enough (${out.lost} in total)\n`);
    if (this.o.json) out.write(`${JSON.stringify({ type: 'lost', cause: 'output', lost: d, total: out.lost })}\n`);
  }
}

let current: Run | undefined;
/** handlers held for the CLI's whole life (holdSignals), or only while a Run is on */
let held = false;
let installed = false;
let outputWatched = false;
let exitStatus: number | undefined;

/**
 * Start a Run: the stop signal of a command. One at a time per process. `output` is where the
 * command writes (its end stops the Run; records it dropped are reported); standard output unless
 * told otherwise. Nothing is done to it until the command writes there.
 */
export function startRun(o: RunOptions = {}, output: Output = stdout()): Run {
  if (current && !current.signal.aborted) throw new Error('a command is already running in this process');
  installSignals();
  const run = new Run(output, o);
  current = run;
  if (output) watchOutput(output);
  if (output?.ended) run.stop(output.ended.kind === 'closed' ? 'output closed' : 'output failed');
  return run;
}

/** The Run in progress, if any. */
export function currentRun(): Run | undefined {
  return current;
}

/**
 * The CLI owns the process: signals are handled for its whole life (a signal while loading exits at
 * once, with cleanups), SIGUSR1 never reaches the inspector, and the end of standard output is
 * watched. Called first thing by launch().
 */
export function holdSignals(): void {
  held = true;
  installSignals();
  watchOutput(stdout());
  // Node 20 has no --disable-sigusr1: a SIGUSR1 in the first milliseconds, before bin/tsbpf's first
  // line took it, reached Node's own handler. Close an inspector opened then (off the start-up path).
  setImmediate(() => void closeEarlyInspector());
}

async function closeEarlyInspector(): Promise<void> {
  // (one asked for, `node --inspect` by a developer, stays)
  if ([...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--inspect'))) return;
  const inspector = await import('node:inspector');
  if (inspector.url() !== undefined) inspector.close();
}

/** The exit status the life cycle decided (output closed or failed), or undefined. */
export function decidedExitStatus(): number | undefined {
  return exitStatus;
}

function watchOutput(out: Output): void {
  if (outputWatched) return;
  outputWatched = true;
  out.onEnd((e: OutputEnd) => {
    if (e.kind === 'closed') {
      exitStatus ??= EXIT_OUTPUT_CLOSED;
    } else {
      exitStatus = 1;
      const [name, message] = describeErrno(e.error.errno);
      process.stderr.write(`tsbpf: cannot write to standard output: ${message} (${name})\n`);
    }
    current?.stop(e.kind === 'closed' ? 'output closed' : 'output failed');
  });
}

function onSignal(sig: StopSignal): void {
  if (current && !current.signal.aborted) {
    current.stop(sig);
    return;
  }
  // nothing to wind down, or asked twice: go now, undoing what would outlive the process
  runCleanups();
  process.exit(128 + SIGNALS[sig]);
}

const handlers = {
  SIGINT: () => onSignal('SIGINT'),
  SIGTERM: () => onSignal('SIGTERM'),
  SIGHUP: () => (current && !current.signal.aborted && current.onHup ? current.onHup() : onSignal('SIGHUP')),
  SIGUSR1: () => current?.onUsr1?.(),
};

function installSignals(): void {
  if (installed) return;
  installed = true;
  for (const [sig, h] of Object.entries(handlers)) process.on(sig, h);
}

function releaseSignals(): void {
  if (held || !installed) return;
  installed = false;
  for (const [sig, h] of Object.entries(handlers)) process.off(sig, h);
}

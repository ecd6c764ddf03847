// The run loop every tool's command shares: check privileges, open the tool inside a Run of the
// process's life cycle (src/command/lifecycle.ts: Ctrl+C, SIGTERM, SIGHUP, --duration or the end of
// standard output stop it), say the hook with -v, close the tool and flush at the end; the event
// tools also report lost events and print a header, then a row or a JSON line per event.
import { toJson } from '../../output/json.js';
import { startRun } from '../../command/lifecycle.js';
import { requirePrivileges, TRACING, type Capability } from '../../command/privileges.js';
import { stdoutWriter, LostReporter, CgroupNames, io, type Writer } from './cli.js';

/** The options commonOptions() adds, as commander passes them. */
export interface ToolCliOptions {
  cgroup?: string;
  json?: boolean;
  verbose?: boolean;
  duration?: number;
}

export interface EventCliOptions extends ToolCliOptions {
  showCgroup?: boolean;
}

export interface ToolRun {
  /** aborted by Ctrl+C, SIGTERM, SIGHUP, --duration or the end of standard output */
  signal: AbortSignal;
  write: Writer;
}

export interface EventRun extends ToolRun {
  /** cgroup paths and containers, with --show-cgroup or --json */
  names: CgroupNames | undefined;
}

/**
 * Checks privileges (one line naming what is missing, before anything loads), opens the tool
 * (given the stop signal), runs `body` until it returns, and cleans up however it ends.
 */
export async function runTool<T extends { readonly hookName?: string; close(): void }>(
  name: string,
  o: ToolCliOptions,
  open: (signal: AbortSignal) => Promise<T>,
  body: (tool: T, run: ToolRun) => Promise<void>,
  needs: readonly Capability[] = TRACING,
): Promise<void> {
  requirePrivileges(name, needs);
  const run = startRun({ duration: o.duration, json: o.json });
  const write = stdoutWriter();
  try {
    const tool = await open(run.signal);
    try {
      if (o.verbose && tool.hookName) io.err(`${name}: hook ${tool.hookName}\n`);
      await body(tool, { signal: run.signal, write });
    } finally {
      tool.close();
      write.flush();
    }
  } finally {
    run.end();
  }
}

/** runTool for the event tools: lost events reported while it runs, cgroup names when asked for. */
export async function runEventTool<T extends { readonly hookName: string; readonly lost: number; close(): void }>(
  name: string,
  o: EventCliOptions,
  open: (signal: AbortSignal) => Promise<T>,
  body: (tracer: T, run: EventRun) => Promise<void>,
): Promise<void> {
  await runTool(name, o, open, async (tracer, run) => {
    const lost = new LostReporter(() => tracer.lost, run.write, !!o.json);
    try {
      await body(tracer, { ...run, names: o.showCgroup || o.json ? new CgroupNames() : undefined });
    } finally {
      lost.stop();
    }
  });
}

export interface EventLines<E> {
  /** printed first, not with --json */
  header: string;
  /** one event as a text line; `startTs` is the first event's ts (relative timestamp columns) */
  row(e: E, startTs: number, cgroup: string | undefined): string;
  /** user-space filters (-n, -l), after the kernel's; default every event */
  keep?(e: E): boolean;
  /** the event's JSON fields, before its cgroup path and container; default the event as it is */
  json?(e: E): object;
}

/**
 * Prints the header (text only), then each event as a row, or as a JSON line with its cgroup path
 * and container. Events come in batches (a tracer's batches()): one await per drain of the ring.
 */
export async function printEvents<E extends { ts: number; cgroup: bigint }>(batches: AsyncIterable<readonly E[]>, o: EventCliOptions, run: EventRun, lines: EventLines<E>): Promise<void> {
  if (!o.json) run.write(lines.header);
  let startTs: number | undefined;
  for await (const batch of batches) {
    for (const e of batch) {
      startTs ??= e.ts;
      if (lines.keep && !lines.keep(e)) continue;
      if (o.json) run.write.record(toJson({ ...(lines.json ? lines.json(e) : e), ...run.names!.describe(e.cgroup) }) + '\n');
      else run.write.record(lines.row(e, startTs, o.showCgroup ? run.names!.column(e.cgroup) : undefined));
    }
  }
}

/** Resolves when the signal aborts (at once if it has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((res) => (signal.aborted ? res() : signal.addEventListener('abort', () => res(), { once: true })));
}

// Undo actions for what does not die with an fd (tracefs kprobe_events entries, PROG_ATTACH to a
// cgroup, legacy netlink attachments, pins): run on normal exit, SIGINT, SIGTERM, SIGHUP and
// uncaught exceptions, after which the process exits with the usual code. Handlers are installed
// only while something is registered, so a process with nothing to undo keeps Node's default
// behaviour. Where another listener takes the signal (the CLI's life cycle, src/command/lifecycle.ts,
// or a program's own handler), it decides when to exit, and the 'exit' listener undoes then.

type Action = () => void;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const actions = new Map<number, { what: string; run: Action }>();
let nextId = 1;
let installed = false;

/** Run every registered action (newest first), once each. Errors are reported, not thrown. */
export function runCleanups(): void {
  const list = [...actions.entries()].reverse();
  actions.clear();
  for (const [, a] of list) {
    try {
      a.run();
    } catch (e) {
      process.stderr.write(`tsbpf: cleanup "${a.what}" failed: ${(e as Error).message}\n`);
    }
  }
  uninstall();
}

const onExit = (): void => runCleanups();
const onSignal = (signal: NodeJS.Signals): void => {
  // Someone else handles this signal too (a tool printing its summary on Ctrl-C): leave the exit to
  // them; the 'exit' listener still runs the cleanups when they call process.exit(). (This
  // listener runs first, so a once() listener, which removes itself before it runs, still counts.)
  if (process.listenerCount(signal) > 1) return;
  runCleanups();
  // The conventional status of a process killed by a signal: 128 + signal number.
  const num = signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1;
  process.exit(128 + num);
};
const onUncaught = (err: unknown): void => {
  // Another handler decided what an uncaught exception means (it may keep running): don't exit.
  if (process.listenerCount('uncaughtException') > 1) return;
  runCleanups();
  process.stderr.write(`${err instanceof Error ? (err.stack ?? String(err)) : String(err)}\n`);
  process.exit(1);
};

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  for (const sig of SIGNALS) process.prependListener(sig, onSignal);
  process.on('uncaughtException', onUncaught);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  for (const sig of SIGNALS) process.off(sig, onSignal);
  process.off('uncaughtException', onUncaught);
}

/**
 * Register an undo action. Returns a function that runs it now and unregisters it (call it when the
 * resource is released normally); calling it twice is harmless.
 */
export function onCleanup(what: string, run: Action): () => void {
  const id = nextId++;
  actions.set(id, { what, run });
  install();
  return () => {
    const a = actions.get(id);
    if (!a) return;
    actions.delete(id);
    if (actions.size === 0) uninstall();
    a.run();
  };
}

/** Descriptions of the pending actions (for diagnostics and tests). */
export function pendingCleanups(): string[] {
  return [...actions.values()].map((a) => a.what);
}

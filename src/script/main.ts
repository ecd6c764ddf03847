// A standalone entry for `tsbpf trace` (what the benchmark runs): only the trace command's modules load.
import { traceCommand } from './cli.js';

const cmd = traceCommand();
cmd.exitOverride();
cmd.parseAsync(process.argv.slice(2), { from: 'user' }).then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    const err = e as Error & { exitCode?: number; code?: string };
    if (err?.code?.startsWith?.('commander.')) process.exit(err.exitCode ?? 2);
    process.stderr.write(`${err?.message ?? String(e)}\n`);
    process.exit(1);
  },
);

// One clear line on stderr for any failure; details (verifier log, errno, stack) only with --verbose.
import { CommanderError } from 'commander';

export function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const e = err as Error & { hint?: string; log?: string; details?: string };
  const line = e?.message ?? String(err);
  // a script's syntax or type error reads as bpftrace prints it: `stdin:1:9-12: ERROR: …`, the line, the underline
  if (e?.name === 'ScriptError') {
    process.stderr.write(`${line}\n`);
    return 1;
  }
  process.stderr.write(`tsbpf: ${line}${e?.hint && !line.includes(e.hint) ? ` (${e.hint})` : ''}\n`);
  if (verbose) {
    if (e?.log) process.stderr.write(`\nverifier log:\n${e.log}\n`);
    if (e?.details) process.stderr.write(`${e.details}\n`);
    if (e?.stack) process.stderr.write(`${e.stack}\n`);
  } else if (e?.log) {
    process.stderr.write('tsbpf: run with --verbose for the verifier log\n');
  }
  return 1;
}

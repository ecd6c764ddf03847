// Errors that point into the script, printed as bpftrace prints them:
//   stdin:1:9-12: ERROR: Unknown function: foo
//   BEGIN { foo() }
//           ~~~
import type { Pos } from './ast.js';

export class ScriptError extends Error {
  constructor(
    /** the bare message, without location */
    readonly reason: string,
    readonly pos: Pos,
    /** the whole script text, to quote the line */
    readonly source: string,
    /** `stdin` for -e scripts, else the file name */
    readonly fileName = 'stdin',
  ) {
    super(formatDiagnostic(reason, pos, source, fileName));
    this.name = 'ScriptError';
  }
  get line(): number {
    return this.pos.line;
  }
  get column(): number {
    return this.pos.col;
  }
}

/** `file:line:col-endcol: ERROR: reason`, the source line and a `~` underline (a `^` for empty spans). */
export function formatDiagnostic(reason: string, pos: Pos, source: string, fileName = 'stdin', level: 'ERROR' | 'WARNING' = 'ERROR'): string {
  const ls = pos.start > 0 ? source.lastIndexOf('\n', pos.start - 1) + 1 : 0;
  let le = source.indexOf('\n', ls);
  if (le < 0) le = source.length;
  const text = source.slice(ls, le);
  const width = Math.max(1, Math.min(pos.end, le) - pos.start);
  const endCol = pos.col + width;
  const pad = text.slice(0, pos.col - 1).replace(/[^\t]/g, ' ');
  return `${fileName}:${pos.line}:${pos.col}-${endCol}: ${level}: ${reason}\n${text}\n${pad}${'~'.repeat(width)}`;
}

/**
 * bpftrace 0.17 exits 255 (its -1) when setting up fails after the script was understood: a script
 * file it cannot open, a -c program it cannot start, a probe it cannot attach. Syntax and type
 * errors, usage errors and "no probes" exit 1.
 */
export const EXIT_SETUP_FAILED = 255;

/** An error the trace command reports with this exit status (not the CLI's 1); `shown`: already printed, as bpftrace prints it. */
export function withExitStatus<E extends Error>(e: E, status: number, shown = false): E {
  Object.assign(e, { exitStatus: status, shown });
  return e;
}

export function exitStatusOf(e: unknown): number | undefined {
  const s = (e as { exitStatus?: unknown } | undefined)?.exitStatus;
  return typeof s === 'number' ? s : undefined;
}

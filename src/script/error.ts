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

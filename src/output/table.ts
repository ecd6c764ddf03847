// Column formatting for the tools' terminal output: printf's %-Ns / %Ns / %-N.Ns in TypeScript,
// so headers and rows line up exactly as libbpf-tools prints them.

export type Align = 'left' | 'right';

/** printf("%-*s") (left) or printf("%*s") (right): pad to width, never cut. */
export function pad(value: string | number | bigint, width: number, align: Align = 'left'): string {
  const s = String(value);
  if (s.length >= width) return s;
  const fill = ' '.repeat(width - s.length);
  return align === 'left' ? s + fill : fill + s;
}

/** printf("%-W.Ps"): cut to precision, then pad to width. */
export function padCut(value: string, width: number, precision = width): string {
  return pad(value.slice(0, precision), width, 'left');
}

/** printf("%.Nf"). */
export function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

export interface Column<R> {
  header: string;
  width: number;
  align?: Align;
  /** Characters kept (printf precision); default: whole value. */
  precision?: number;
  value: (row: R) => string | number | bigint;
}

/** A table of fixed-width columns separated by one space; the last column is not padded. */
export class Table<R> {
  constructor(readonly columns: Column<R>[]) {}

  private line(cells: string[]): string {
    return cells
      .map((c, i) => {
        const col = this.columns[i]!;
        const cut = col.precision !== undefined ? c.slice(0, col.precision) : c;
        return i === cells.length - 1 && (col.align ?? 'left') === 'left' ? cut : pad(cut, col.width, col.align);
      })
      .join(' ');
  }

  header(): string {
    return this.line(this.columns.map((c) => c.header));
  }

  row(r: R): string {
    return this.line(this.columns.map((c) => String(c.value(r))));
  }
}

/** A NUL-terminated C string from a char array (bytes or the decoder's string), without the NUL tail. */
export function cString(v: string | Uint8Array): string {
  if (typeof v === 'string') {
    const i = v.indexOf('\0');
    return i >= 0 ? v.slice(0, i) : v;
  }
  const end = v.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? v.subarray(0, end) : v);
}

/** Local wall-clock time as HH:MM:SS, as the tools' -T column shows it. */
export function clockTime(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

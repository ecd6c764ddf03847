// Histograms as text, in the two layouts people know: bcc/libbpf-tools (`usecs : count distribution`
// with 40 '*') and bpftrace (`[4, 8)   3 |@@@@   |` with 52 '@'). Pure: counts in, string out.
//
// Log2 slots follow the kernel programs' log2: slot i holds [2^i, 2^(i+1)), slot 0 holds 0 and 1.

export type Count = number | bigint;

function num(c: Count): number {
  return typeof c === 'bigint' ? Number(c) : c;
}

/** The slot a value falls in (floor(log2(v)), 0 for 0 and 1), as the kernel programs compute it. */
export function log2Slot(v: number | bigint): number {
  let x = typeof v === 'bigint' ? v : BigInt(Math.max(0, Math.floor(v)));
  let r = 0;
  while (x > 1n) {
    x >>= 1n;
    r++;
  }
  return r;
}

/** Sum of all counts. */
export function histTotal(slots: readonly Count[]): number {
  return slots.reduce<number>((a, c) => a + num(c), 0);
}

function padLeft(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

function padRight(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

/** bcc's bar: stars in proportion to the largest count, padded to width, '+' past the maximum. */
function stars(val: number, max: number, width: number): string {
  const n = max > 0 ? Math.floor((Math.min(val, max) * width) / max) : 0;
  return '*'.repeat(n) + ' '.repeat(width - n) + (val > max ? '+' : '');
}

/**
 * A log2 histogram exactly as libbpf-tools' print_log2_hist (and bcc's print_log2_hist) prints it:
 * rows up to the last non-empty slot, wider columns past 2^32. Empty string when all counts are 0.
 */
export function formatLog2Hist(slots: readonly Count[], unit: string): string {
  const vals = slots.map(num);
  let idxMax = -1;
  let valMax = 0;
  vals.forEach((v, i) => {
    if (v > 0) idxMax = i;
    if (v > valMax) valMax = v;
  });
  if (idxMax < 0) return '';
  const narrow = idxMax <= 32;
  const starsWidth = narrow ? 40 : 20;
  const width = narrow ? 10 : 20;
  const lines = [`${' '.repeat(narrow ? 5 : 15)}${padRight(unit, narrow ? 19 : 29)} : count    distribution`];
  for (let i = 0; i <= idxMax; i++) {
    let low = (1n << BigInt(i + 1)) >> 1n;
    const high = (1n << BigInt(i + 1)) - 1n;
    if (low === high) low -= 1n;
    const v = vals[i] ?? 0;
    lines.push(
      `${padLeft(String(low), width)} -> ${padRight(String(high), width)} : ${padRight(String(v), 8)} |${stars(v, valMax, starsWidth)}|`,
    );
  }
  return lines.join('\n') + '\n';
}

/** A linear histogram as libbpf-tools' print_linear_hist prints it (only non-empty rows). */
export function formatLinearHist(slots: readonly Count[], base: number, step: number, unit: string): string {
  const vals = slots.map(num);
  let idxMin = -1;
  let idxMax = -1;
  let valMax = 0;
  vals.forEach((v, i) => {
    if (v > 0) {
      idxMax = i;
      if (idxMin < 0) idxMin = i;
    }
    if (v > valMax) valMax = v;
  });
  if (idxMax < 0) return '';
  const lines = [`     ${padRight(unit, 13)} : count     distribution`];
  for (let i = idxMin; i <= idxMax; i++) {
    const v = vals[i] ?? 0;
    if (!v) continue;
    lines.push(`        ${padRight(String(base + i * step), 10)} : ${padRight(String(v), 8)} |${stars(v, valMax, 40)}|`);
  }
  return lines.join('\n') + '\n';
}

/** One bpftrace row: label in 16 columns, count right-aligned in 8, then the '@' bar in 52. */
function bpftraceRow(label: string, v: number, max: number): string {
  const bar = max > 0 ? Math.floor((v / max) * 52) : 0;
  return `${padRight(label, 16)}${padLeft(String(v), 8)} |${padRight('@'.repeat(bar), 52)}|`;
}

/** bpftrace's power-of-two label: 1, 2, 4 ... 512, 1K, 2K ... 1M ... */
export function bpftracePow2Label(power: number): string {
  const suffixes = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  const decade = Math.floor(power / 10);
  return `${2 ** (power - 10 * decade)}${suffixes[decade] ?? ''}`;
}

function bpftraceRows(rows: [string, number][]): string {
  const nonEmpty = rows.map(([, v], i) => (v > 0 ? i : -1)).filter((i) => i >= 0);
  if (!nonEmpty.length) return '';
  const first = nonEmpty[0]!;
  const last = nonEmpty[nonEmpty.length - 1]!;
  const max = Math.max(...rows.map(([, v]) => v));
  return rows
    .slice(first, last + 1)
    .map(([label, v]) => bpftraceRow(label, v, max) + '\n')
    .join('');
}

/**
 * bpftrace's hist() layout from bpftrace's own buckets: index 0 negative values, 1 the value 0,
 * 2 the value 1, k >= 3 the range [2^(k-2), 2^(k-1)). Rows from the first to the last non-empty.
 */
export function formatBpftraceBuckets(name: string, buckets: readonly Count[]): string {
  const rows: [string, number][] = buckets.map((c, i) => {
    const v = num(c);
    if (i === 0) return ['(..., 0)', v];
    if (i === 1) return ['[0]', v];
    if (i === 2) return ['[1]', v];
    return [`[${bpftracePow2Label(i - 2)}, ${bpftracePow2Label(i - 1)})`, v];
  });
  const body = bpftraceRows(rows);
  return bpftraceMap(name, body);
}

/**
 * bpftrace's layout for the tools' log2 slots: slot i >= 1 is bpftrace's [2^i, 2^(i+1)) row; slot 0
 * (values 0 and 1, which the kernel programs do not tell apart) prints as "[0, 2)".
 */
export function formatBpftraceHist(name: string, slots: readonly Count[]): string {
  const rows: [string, number][] = slots.map((c, i) => [
    i === 0 ? '[0, 2)' : `[${bpftracePow2Label(i)}, ${bpftracePow2Label(i + 1)})`,
    num(c),
  ]);
  return bpftraceMap(name, bpftraceRows(rows));
}

/** A map as bpftrace prints it at exit: "@name: " (with its trailing space), the rows, a blank line. */
function bpftraceMap(name: string, rows: string): string {
  return `@${name.replace(/^@/, '')}: \n${rows}\n`;
}

function lhistLabel(n: number, step: number): string {
  if (step % 1024 !== 0 || n === 0) return String(n);
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}M`;
  if (n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}

/**
 * bpftrace's lhist(min, max, step) layout. buckets[0] counts values below min, buckets[n+1] values
 * at or above max, buckets[i] the range [min+(i-1)*step, min+i*step).
 */
export function formatBpftraceLinear(name: string, buckets: readonly Count[], min: number, max: number, step: number): string {
  const n = Math.floor((max - min) / step);
  const rows: [string, number][] = buckets.slice(0, n + 2).map((c, i) => {
    const v = num(c);
    if (i === 0) return [`(..., ${lhistLabel(min, step)})`, v];
    if (i === n + 1) return [`[${lhistLabel(max, step)}, ...)`, v];
    return [`[${lhistLabel((i - 1) * step + min, step)}, ${lhistLabel(i * step + min, step)})`, v];
  });
  return bpftraceMap(name, bpftraceRows(rows));
}

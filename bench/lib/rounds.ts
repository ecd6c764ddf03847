// Rounds of a measurement and their spread. A ratio is only worth reporting when its rounds agree:
// on a shared machine one disturbed round can move a median, so a benchmark hands its per-round
// ratios to report() (as `roundRatios`), which refuses the result when they spread by more than
// MAX_SPREAD of their median — rerun on a quieter machine instead of committing it.

/** (max - min) / median above which a ratio is refused (issue 17). */
export const MAX_SPREAD = 0.15;

export interface Spread {
  min: number;
  median: number;
  max: number;
  /** (max - min) / median */
  spread: number;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

const sig = (x: number): number => (x === 0 ? 0 : Number(x.toPrecision(4)));

export function spread(xs: readonly number[]): Spread {
  if (!xs.length) throw new RangeError('spread of no rounds');
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  const m = median(xs);
  return { min: sig(min), median: sig(m), max: sig(max), spread: m ? Math.round(((max - min) / Math.abs(m)) * 1000) / 1000 : 0 };
}

export const geomean = (xs: readonly number[]): number => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

/** Per-round ratios of paired rounds (ours[i] / reference[i]): rounds are interleaved, so each pair saw the same load. */
export const pairRatios = (ours: readonly number[], reference: readonly number[]): number[] => ours.map((x, i) => x / reference[i]!);

/**
 * Wait until the machine is quiet enough to measure (1-minute load average below `below`), at most
 * `maxSeconds`; returns the load average it started at. QUIET=0 skips the wait.
 */
export async function waitQuiet(below = Number(process.env.QUIET_LOAD ?? 1.5), maxSeconds = Number(process.env.QUIET_WAIT ?? 0)): Promise<number> {
  const { loadavg } = await import('node:os');
  const t0 = Date.now();
  while (loadavg()[0]! >= below && (Date.now() - t0) / 1000 < maxSeconds) await new Promise((r) => setTimeout(r, 5000));
  return Math.round(loadavg()[0]! * 100) / 100;
}

// tc's rate syntax (tc(8) "RATES"): bit, kbit, mbit, gbit, tbit (powers of 1000), kibit… (of 1024),
// bps, kbps, mbps, gbps, tbps = bytes per second (also kibps…), a bare number = bits per second.
// Pure.

const UNITS: Record<string, number> = {
  bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12,
  kibit: 1024, mibit: 1024 ** 2, gibit: 1024 ** 3, tibit: 1024 ** 4,
  bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, tbps: 8e12,
  kibps: 8 * 1024, mibps: 8 * 1024 ** 2, gibps: 8 * 1024 ** 3, tibps: 8 * 1024 ** 4,
};

export class RateError extends TypeError {
  constructor(input: string, reason: string) {
    super(`invalid rate "${input}": ${reason} (examples: 10mbit, 1gbit, 500kbps, 1.5mbit)`);
    this.name = 'RateError';
  }
}

/** Bits per second of a tc rate. */
export function parseRate(input: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!m) throw new RateError(input, 'not a number with a unit');
  const unit = m[2]!.toLowerCase() || 'bit';
  const mult = UNITS[unit];
  if (mult === undefined) throw new RateError(input, `unknown unit "${m[2]}"`);
  const bits = Number(m[1]) * mult;
  if (!(bits >= 8)) throw new RateError(input, 'below one byte per second');
  if (bits > 8e13) throw new RateError(input, 'above 80 Tbit/s');
  return bits;
}

/** A rate in tc's style: 50Mbit, 1.5Gbit, 800bit. */
export function formatRate(bitsPerSecond: number): string {
  for (const [u, m] of [['Tbit', 1e12], ['Gbit', 1e9], ['Mbit', 1e6], ['Kbit', 1e3]] as const) {
    if (bitsPerSecond >= m) return `${Number((bitsPerSecond / m).toPrecision(4))}${u}`;
  }
  return `${Math.round(bitsPerSecond)}bit`;
}

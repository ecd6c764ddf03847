// Kernel symbols from /proc/kallsyms text: a table sorted by address, address -> symbol+offset.
// Pure: the caller reads the file (see proc.ts). Addresses are all zero without privilege
// (kptr_restrict); such a table resolves nothing and says so through `usable`.

export interface KernelSymbol {
  address: bigint;
  name: string;
  /** kallsyms type letter: T/t text, D/d data, ... */
  type: string;
  module?: string;
}

export interface ResolvedSymbol {
  name: string;
  offset: bigint;
  module?: string;
}

export class KernelSymbols {
  private readonly addrs: bigint[];

  private constructor(readonly symbols: readonly KernelSymbol[]) {
    this.addrs = symbols.map((s) => s.address);
  }

  /** Parses kallsyms lines "ffffffff81000000 T _stext [module]"; malformed lines are skipped. */
  static parse(text: string, opts: { textOnly?: boolean } = {}): KernelSymbols {
    const textOnly = opts.textOnly ?? true;
    const out: KernelSymbol[] = [];
    for (const line of text.split('\n')) {
      const m = /^([0-9a-fA-F]{1,16}) ([A-Za-z]) (\S+)(?:\s+\[(\S+)\])?\s*$/.exec(line);
      if (!m) continue;
      const type = m[2]!;
      if (textOnly && !'TtWw'.includes(type)) continue;
      const sym: KernelSymbol = { address: BigInt(`0x${m[1]}`), type, name: m[3]! };
      if (m[4]) sym.module = m[4];
      out.push(sym);
    }
    out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    return new KernelSymbols(out);
  }

  /** False when every address is zero (reading kallsyms without CAP_SYSLOG). */
  get usable(): boolean {
    return this.symbols.some((s) => s.address !== 0n);
  }

  /** The symbol at or below addr (nearest preceding), or undefined below the first one. */
  resolve(addr: bigint): ResolvedSymbol | undefined {
    let lo = 0;
    let hi = this.addrs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.addrs[mid]! <= addr) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0 || this.addrs[found] === 0n) return undefined;
    const s = this.symbols[found]!;
    const r: ResolvedSymbol = { name: s.name, offset: addr - s.address };
    if (s.module) r.module = s.module;
    return r;
  }

  /** "name+0x1a" (or "name+0x1a [module]"), or the hex address when unknown. */
  format(addr: bigint, withOffset = true): string {
    const r = this.resolve(addr);
    if (!r) return `0x${addr.toString(16)}`;
    const base = withOffset ? `${r.name}+0x${r.offset.toString(16)}` : r.name;
    return r.module ? `${base} [${r.module}]` : base;
  }

  /** Address of a symbol by name (first match). */
  addressOf(name: string): bigint | undefined {
    return this.symbols.find((s) => s.name === name)?.address;
  }
}

/**
 * Symbol names ("name", or "name [module]") for a few kernel addresses, as KernelSymbols.format(a,
 * false) gives them, without a symbol object per kallsyms line: one pass keeps each text symbol's
 * address as a number (the upper 32 bits of a kernel address are 0xffffxxxx, so address - 0xffff
 * << 48 fits a double exactly), a typed-array sort finds each address's symbol, and a second pass
 * reads the names of just those. An unknown address (or all of them, without CAP_SYSLOG) is hex.
 */
export function resolveKernelAddresses(text: string, addrs: Iterable<bigint>): Map<bigint, string> {
  const BASE_HI = 0xffff0000;
  const keyOf = (hi: number, lo: number): number => (hi >= BASE_HI ? (hi - BASE_HI) * 0x100000000 + lo : -1);
  const lines: number[] = [];
  const keys: number[] = [];
  /** 8 hex digits at `at` as a number, or -1 (no string slices: a kallsyms has 100,000+ lines) */
  const hex8 = (at: number): number => {
    let v = 0;
    for (let i = at; i < at + 8; i++) {
      const c = text.charCodeAt(i) | 0x20; // lower case
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  };
  /** the key of the line at `start` if it is a text symbol ("<16 hex> <T|t|W|w> name"), else -1 */
  const lineKey = (start: number): number => {
    if (text.charCodeAt(start + 16) !== 32 || text.charCodeAt(start + 18) !== 32) return -1;
    const type = text.charCodeAt(start + 17) | 0x20;
    if (type !== 116 /* t */ && type !== 119 /* w */) return -1;
    const hi = hex8(start);
    const lo = hex8(start + 8);
    return hi < 0 || lo < 0 ? -1 : keyOf(hi, lo);
  };
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const k = lineKey(start);
    if (k > 0) {
      keys.push(k);
      lines.push(start);
    }
    start = end + 1;
  }
  const sorted = Float64Array.from(keys).sort();
  const out = new Map<bigint, string>();
  // the symbol's key for each address: the greatest at or below it
  const wanted = new Map<number, bigint[]>();
  for (const a of new Set(addrs)) {
    const hi = Number(a >> 32n);
    const k = keyOf(hi, Number(a & 0xffffffffn));
    let lo = 0;
    let hiIdx = sorted.length - 1;
    let found = -1;
    while (lo <= hiIdx) {
      const mid = (lo + hiIdx) >> 1;
      if (sorted[mid]! <= k) (found = mid), (lo = mid + 1);
      else hiIdx = mid - 1;
    }
    out.set(a, `0x${a.toString(16)}`);
    if (k < 0 || found < 0) continue;
    const sk = sorted[found]!;
    const list = wanted.get(sk) ?? [];
    list.push(a);
    wanted.set(sk, list);
  }
  // names of the symbols found: of lines with the same address, the last (as KernelSymbols, whose
  // stable sort and search for the last symbol at or below an address pick it)
  const last = new Map<number, number>();
  for (let i = 0; i < keys.length; i++) if (wanted.has(keys[i]!)) last.set(keys[i]!, i);
  for (const [key, i] of last) {
    const list = wanted.get(key)!;
    const start = lines[i]! + 19;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const m = /^(\S+)(?:\s+\[(\S+)\])?/.exec(text.slice(start, end));
    if (!m) continue;
    const name = m[2] ? `${m[1]} [${m[2]}]` : m[1]!;
    for (const a of list) out.set(a, name);
  }
  return out;
}

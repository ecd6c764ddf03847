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

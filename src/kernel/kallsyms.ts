// Address of a kernel symbol by name, from /proc/kallsyms: what typeless `extern const void x __ksym`
// resolves to at load time. Read once, on the first such extern.
import { readFileSync } from 'node:fs';

let table: Map<string, bigint> | undefined;

export function kallsymsAddress(name: string): bigint | undefined {
  if (!table) {
    table = new Map();
    let text = '';
    try {
      text = readFileSync('/proc/kallsyms', 'utf8');
    } catch {
      return undefined;
    }
    for (const line of text.split('\n')) {
      const sp1 = line.indexOf(' ');
      const sp2 = line.indexOf(' ', sp1 + 1);
      if (sp1 < 0 || sp2 < 0) continue;
      const end = line.indexOf('\t', sp2 + 1);
      const sym = line.slice(sp2 + 1, end < 0 ? undefined : end);
      if (!table.has(sym)) table.set(sym, BigInt(`0x${line.slice(0, sp1)}`));
    }
  }
  const a = table.get(name);
  return a ? a : undefined; // all zero without CAP_SYSLOG
}

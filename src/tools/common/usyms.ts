// User-space symbols: /proc/PID/maps text -> mappings; an address in a process -> the mapped file
// -> ELF .symtab/.dynsym function symbol (src/elf), or a JIT's /tmp/perf-PID.map entry.
// Pure: files come through the `read` callback (see proc.ts for the real one).
import { parseElf, type ElfFile } from '../../elf/reader.js';
import { functionSymbols } from '../../elf/symbols.js';

const PT_LOAD = 1;

export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  offset: bigint;
  inode: number;
  path: string;
}

export interface UserSymbol {
  name: string;
  offset: bigint;
  /** the mapped file (or "[perf-map]" for a JIT map entry) */
  file: string;
}

/** Parses /proc/PID/maps. Malformed lines are skipped. */
export function parseProcMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ (\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      start: BigInt(`0x${m[1]}`),
      end: BigInt(`0x${m[2]}`),
      perms: m[3]!,
      offset: BigInt(`0x${m[4]}`),
      inode: Number(m[5]),
      path: m[6]!.trim(),
    });
  }
  return out;
}

interface SymRange {
  start: bigint;
  end: bigint;
  name: string;
}

function sortedRanges(list: SymRange[]): SymRange[] {
  return list.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

function lookup(list: readonly SymRange[], addr: bigint): SymRange | undefined {
  let lo = 0;
  let hi = list.length - 1;
  let found: SymRange | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.start <= addr) {
      found = list[mid];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  // A sized symbol covers [start, end); a size-0 symbol only its own address.
  return found && addr < found.end ? found : undefined;
}

/** Function symbols of one ELF file by virtual address, plus its PT_LOAD segments. */
export class ElfSymbols {
  private readonly ranges: SymRange[];
  private readonly loads: { offset: bigint; vaddr: bigint; filesz: bigint }[];

  constructor(elf: ElfFile) {
    const seen = new Set<string>();
    const list: SymRange[] = [];
    for (const s of functionSymbols(elf)) {
      const key = `${s.value}:${s.name}`;
      if (s.value === 0n || seen.has(key)) continue;
      seen.add(key);
      list.push({ start: s.value, end: s.value + (s.size > 0n ? s.size : 1n), name: s.name });
    }
    this.ranges = sortedRanges(list);
    this.loads = elf.segments
      .filter((p) => p.type === PT_LOAD)
      .map((p) => ({ offset: BigInt(p.offset), vaddr: p.vaddr, filesz: BigInt(p.filesz) }));
  }

  static fromBytes(bytes: Uint8Array): ElfSymbols {
    return new ElfSymbols(parseElf(bytes));
  }

  get size(): number {
    return this.ranges.length;
  }

  /** File offset -> virtual address through the PT_LOAD segment that holds it. */
  offsetToVaddr(off: bigint): bigint | undefined {
    for (const l of this.loads) if (off >= l.offset && off < l.offset + l.filesz) return off - l.offset + l.vaddr;
    return undefined;
  }

  resolveVaddr(vaddr: bigint): { name: string; offset: bigint } | undefined {
    const r = lookup(this.ranges, vaddr);
    return r ? { name: r.name, offset: vaddr - r.start } : undefined;
  }
}

/** Parses a perf JIT map (/tmp/perf-PID.map: "START SIZE name" in hex), as node --perf-basic-prof writes. */
export function parsePerfMap(text: string): SymRange[] {
  const list: SymRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.+)$/.exec(line.trim());
    if (!m) continue;
    const start = BigInt(`0x${m[1]}`);
    list.push({ start, end: start + BigInt(`0x${m[2]}`), name: m[3]! });
  }
  return sortedRanges(list);
}

export type ReadFile = (path: string) => Uint8Array | undefined;

/**
 * Symbolizer for one process. `read` gets "/proc/PID/maps", the mapped files (as
 * /proc/PID/root/<path>, so containers resolve) and "/tmp/perf-PID.map"; it returns undefined
 * when a file cannot be read. ELF files are parsed once and cached across processes by path.
 */
export class ProcessSymbols {
  private readonly mappings: Mapping[];
  private perfMap?: SymRange[];

  constructor(
    readonly pid: number,
    private readonly read: ReadFile,
    private readonly cache: Map<string, ElfSymbols | null> = new Map(),
  ) {
    const maps = read(`/proc/${pid}/maps`);
    this.mappings = maps ? parseProcMaps(new TextDecoder().decode(maps)) : [];
  }

  get mapped(): readonly Mapping[] {
    return this.mappings;
  }

  private elfFor(path: string): ElfSymbols | null {
    let e = this.cache.get(path);
    if (e !== undefined) return e;
    e = null;
    const bytes = this.read(`/proc/${this.pid}/root${path}`) ?? this.read(path);
    if (bytes) {
      try {
        e = ElfSymbols.fromBytes(bytes);
      } catch {
        e = null; // not ELF or broken: addresses in it stay unresolved
      }
    }
    this.cache.set(path, e);
    return e;
  }

  resolve(addr: bigint): UserSymbol | undefined {
    const m = this.mappings.find((x) => addr >= x.start && addr < x.end);
    if (m && m.path.startsWith('/')) {
      const elf = this.elfFor(m.path);
      const vaddr = elf?.offsetToVaddr(addr - m.start + m.offset);
      const r = vaddr !== undefined ? elf!.resolveVaddr(vaddr) : undefined;
      if (r) return { ...r, file: m.path };
    }
    if (this.perfMap === undefined) {
      const text = this.read(`/tmp/perf-${this.pid}.map`);
      this.perfMap = text ? parsePerfMap(new TextDecoder().decode(text)) : [];
    }
    const j = lookup(this.perfMap, addr);
    if (j) return { name: j.name, offset: addr - j.start, file: '[perf-map]' };
    return undefined;
  }

  /** "name" or "name+0x1f", else "[file]" / the hex address. */
  format(addr: bigint, withOffset = false): string {
    const r = this.resolve(addr);
    if (r) return withOffset ? `${r.name}+0x${r.offset.toString(16)}` : r.name;
    const m = this.mappings.find((x) => addr >= x.start && addr < x.end);
    if (m?.path) return `[${m.path.split('/').pop()}]`;
    return `0x${addr.toString(16)}`;
  }
}

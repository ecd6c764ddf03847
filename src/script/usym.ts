// User-space symbols for ustack: /proc/PID/maps places an address in a file, the file's ELF symbol
// tables name the function. Files are read once and cached.
import { readFileSync } from 'node:fs';
import { parseElf } from '../elf/reader.js';
import { addressToOffset, functionSymbols } from '../elf/symbols.js';

interface FileSyms {
  offs: number[];
  ends: number[];
  names: string[];
}

const files = new Map<string, FileSyms | undefined>();
const maps = new Map<number, { start: bigint; end: bigint; off: bigint; path: string }[]>();

function fileSymbols(path: string): FileSyms | undefined {
  if (files.has(path)) return files.get(path);
  let syms: FileSyms | undefined;
  try {
    const elf = parseElf(new Uint8Array(readFileSync(path)));
    const list: { off: number; size: number; name: string }[] = [];
    for (const s of functionSymbols(elf)) {
      try {
        list.push({ off: addressToOffset(elf, s), size: Number(s.size), name: s.name });
      } catch {
        /* not in a loadable segment */
      }
    }
    list.sort((a, b) => a.off - b.off);
    syms = { offs: list.map((x) => x.off), ends: list.map((x) => x.off + x.size), names: list.map((x) => x.name) };
  } catch {
    syms = undefined;
  }
  files.set(path, syms);
  return syms;
}

function processMaps(pid: number): { start: bigint; end: bigint; off: bigint; path: string }[] {
  let m = maps.get(pid);
  if (!m) {
    m = [];
    try {
      for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
        const f = line.split(/\s+/);
        if (f.length < 6 || !f[5]!.startsWith('/')) continue;
        const [a, b] = f[0]!.split('-');
        m.push({ start: BigInt('0x' + a), end: BigInt('0x' + b), off: BigInt('0x' + f[2]), path: f[5]! });
      }
    } catch {
      /* the process is gone */
    }
    maps.set(pid, m);
  }
  return m;
}

/** `func+off` for an address in process pid, or undefined. */
export function userSymbol(pid: number, addr: bigint): { name: string; off: number } | undefined {
  const m = processMaps(pid).find((x) => addr >= x.start && addr < x.end);
  if (!m) return undefined;
  const fileOff = Number(addr - m.start + m.off);
  const s = fileSymbols(m.path);
  if (!s || !s.offs.length) return undefined;
  let lo = 0;
  let hi = s.offs.length - 1;
  if (fileOff < s.offs[0]!) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s.offs[mid]! <= fileOff) lo = mid;
    else hi = mid - 1;
  }
  if (s.ends[lo]! > s.offs[lo]! && fileOff >= s.ends[lo]!) return undefined;
  return { name: s.names[lo]!, off: fileOff - s.offs[lo]! };
}

/** Forget cached process maps (processes come and go). */
export function forgetProcess(pid: number): void {
  maps.delete(pid);
}

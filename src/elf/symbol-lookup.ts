// Function symbols for a few addresses of a large ELF file, reading only what that takes: the
// headers, the symbol tables (one pass each, keeping for every wanted address the nearest function
// that contains it) and, at the end, the names of the symbols that matched. A profiler's few
// thousand addresses in a 100 MB binary with 200,000 symbols then cost a few MB read and no symbol
// objects at all, where parsing the whole file (parseElf + functionSymbols) cost the file's size
// in memory and a JS object per symbol. Pure: bytes come through `read(offset, length)`.
//
// Addresses are numbers: user-space virtual addresses are far below 2^53.

import { PT_LOAD, SHN_UNDEF, SHT_DYNSYM, SHT_SYMTAB, STT_FUNC, STT_GNU_IFUNC } from './constants.js';

/** `length` bytes at `offset` of the file (fewer at its end), or undefined when unreadable. */
export type ReadAt = (offset: number, length: number) => Uint8Array | undefined;

export interface LoadSegment {
  offset: number;
  vaddr: number;
  filesz: number;
}

export interface FoundSymbol {
  name: string;
  /** the symbol's address: the wanted address minus this is the offset into the function */
  start: number;
}

export class SymbolLookupError extends Error {}

const u64 = (v: DataView, o: number): number => v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x100000000;

function view(read: ReadAt, offset: number, length: number, what: string): DataView {
  const b = read(offset, length);
  if (!b || b.length < length) throw new SymbolLookupError(`ELF ${what} past the end of the file`);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

/** An ELF64 little-endian file's PT_LOAD segments and its symbol tables' sections. */
export class ElfIndex {
  readonly loads: LoadSegment[] = [];
  private readonly sections: Section[] = [];

  constructor(private readonly read: ReadAt) {
    const h = view(read, 0, 64, 'header');
    if (h.getUint32(0) !== 0x7f454c46 || h.getUint8(4) !== 2 || h.getUint8(5) !== 1) throw new SymbolLookupError('not a 64-bit little-endian ELF file');
    const phoff = u64(h, 32);
    const shoff = u64(h, 40);
    const phentsize = h.getUint16(54, true);
    const phnum = h.getUint16(56, true);
    const shentsize = h.getUint16(58, true);
    const shnum = h.getUint16(60, true);
    if (phnum && phentsize >= 56) {
      const ph = view(read, phoff, phnum * phentsize, 'program headers');
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        if (ph.getUint32(o, true) === PT_LOAD) this.loads.push({ offset: u64(ph, o + 8), vaddr: u64(ph, o + 16), filesz: u64(ph, o + 32) });
      }
    }
    if (shnum && shentsize >= 64) {
      const sh = view(read, shoff, shnum * shentsize, 'section headers');
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        this.sections.push({ type: sh.getUint32(o + 4, true), offset: u64(sh, o + 24), size: u64(sh, o + 32), link: sh.getUint32(o + 40, true), entsize: u64(sh, o + 56) });
      }
    }
  }

  /** File offset → virtual address through the PT_LOAD segment that holds it. */
  offsetToVaddr(off: number): number | undefined {
    for (const l of this.loads) if (off >= l.offset && off < l.offset + l.filesz) return off - l.offset + l.vaddr;
    return undefined;
  }

  /**
   * The function symbol of .symtab and .dynsym that holds each address (a sized symbol covers
   * [value, value + size), a size-0 one its own address; of several, the one that starts last, and
   * of those the last read).
   */
  lookup(vaddrs: Iterable<number>): Map<number, FoundSymbol> {
    const want = Float64Array.from(new Set(vaddrs)).sort();
    const bestStart = new Float64Array(want.length).fill(-1);
    // per wanted address: which table and name offset its best symbol has
    const bestTable = new Int32Array(want.length).fill(-1);
    const bestName = new Uint32Array(want.length);
    // .symtab before .dynsym, and of symbols starting at the same address the last one read wins:
    // the order and the choice of ElfSymbols (aliases such as C1/C2 constructors share an address)
    const tables = this.sections
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => (s.type === SHT_SYMTAB || s.type === SHT_DYNSYM) && s.entsize >= 24)
      .sort((a, b) => (a.s.type === b.s.type ? a.i - b.i : a.s.type === SHT_SYMTAB ? -1 : 1));
    const CHUNK = 24 * 8192;
    for (const { s, i } of tables) {
      for (let pos = 0; pos < s.size; pos += CHUNK) {
        const len = Math.min(CHUNK, s.size - pos);
        const v = view(this.read, s.offset + pos, len - (len % 24), 'symbol table');
        for (let o = 0; o + 24 <= v.byteLength; o += 24) {
          const type = v.getUint8(o + 4) & 0xf;
          if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || v.getUint16(o + 6, true) === SHN_UNDEF) continue;
          const lo = u64(v, o + 8);
          if (lo === 0) continue;
          const hi = lo + Math.max(u64(v, o + 16), 1);
          // the first wanted address >= lo
          let a = 0;
          let b = want.length;
          while (a < b) {
            const m = (a + b) >> 1;
            if (want[m]! < lo) a = m + 1;
            else b = m;
          }
          for (let k = a; k < want.length && want[k]! < hi; k++) {
            if (lo >= bestStart[k]!) {
              bestStart[k] = lo;
              bestTable[k] = i;
              bestName[k] = v.getUint32(o, true);
            }
          }
        }
      }
    }
    const out = new Map<number, FoundSymbol>();
    const names = new Map<string, string>();
    for (let k = 0; k < want.length; k++) {
      if (bestTable[k]! < 0) continue;
      const strtab = this.sections[this.sections[bestTable[k]!]!.link];
      if (!strtab) continue;
      const key = `${bestTable[k]}:${bestName[k]}`;
      let name = names.get(key);
      if (name === undefined) {
        name = this.string(strtab, bestName[k]!);
        names.set(key, name);
      }
      out.set(want[k]!, { name, start: bestStart[k]! });
    }
    return out;
  }

  /** The NUL-terminated string at `off` of a string table (read 256 bytes at a time). */
  private string(strtab: Section, off: number): string {
    let text = '';
    for (let pos = off; pos < strtab.size; pos += 256) {
      const b = this.read(strtab.offset + pos, Math.min(256, strtab.size - pos));
      if (!b || !b.length) break;
      const nul = b.indexOf(0);
      text += utf8(nul < 0 ? b : b.subarray(0, nul));
      if (nul >= 0) break;
    }
    return text;
  }
}

const decoder = new TextDecoder();
const utf8 = (b: Uint8Array): string => decoder.decode(b);

// ELF64 little-endian reader: header, section and program headers, symbols, relocations and notes.
// Pure: takes bytes, returns values. Every read is bounds-checked so malformed input ends in an
// ElfError, never an out-of-range read, a crash or a loop that does not end.
import { ElfError } from './error.js';
import {
  ELFCLASS64, ELFDATA2LSB, ELF_MAGIC, EV_CURRENT, SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT_DYNSYM, SHT_NOBITS,
  SHT_NOTE, SHT_REL, SHT_RELA, SHT_SYMTAB, SHT_SYMTAB_SHNDX,
} from './constants.js';

export { ElfError };

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: bigint;
}

export interface ElfSymbol {
  /** index in its symbol table */
  index: number;
  name: string;
  /** STB_* (st_info >> 4) */
  bind: number;
  /** STT_* (st_info & 0xf) */
  type: number;
  /** STV_* (st_other & 3) */
  visibility: number;
  /** section index (SHN_* for special values, extended indices resolved) */
  shndx: number;
  value: bigint;
  size: bigint;
}

export interface ElfRelocation {
  /** byte offset in the section the relocations apply to */
  offset: number;
  /** symbol table index */
  symbol: number;
  /** R_* type, machine specific */
  type: number;
  /** explicit addend for SHT_RELA, 0n for SHT_REL */
  addend: bigint;
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

/** A parsed ELF64 little-endian file. Headers are read eagerly; section contents on demand. */
export class ElfFile {
  readonly bytes: Uint8Array;
  readonly type: number;
  readonly machine: number;
  readonly flags: number;
  readonly entry: bigint;
  readonly sections: readonly ElfSection[];
  readonly segments: readonly ElfSegment[];
  private readonly view: DataView;
  private readonly symCache = new Map<number, ElfSymbol[]>();

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 16) throw new ElfError(`not an ELF file: ${bytes.length} bytes is shorter than e_ident`);
    for (let i = 0; i < 4; i++) if (bytes[i] !== ELF_MAGIC[i]) throw new ElfError('not an ELF file: bad magic');
    if (bytes[4] !== ELFCLASS64) throw new ElfError(`unsupported ELF class ${bytes[4]} (only ELF64 is supported)`);
    if (bytes[5] !== ELFDATA2LSB) throw new ElfError(`unsupported ELF data encoding ${bytes[5]} (only little-endian is supported)`);
    if (bytes[6] !== EV_CURRENT) throw new ElfError(`unsupported ELF version ${bytes[6]}`);
    if (bytes.length < EHDR_SIZE) throw new ElfError(`truncated ELF header: ${bytes.length} < ${EHDR_SIZE} bytes`);
    this.type = this.u16(16);
    this.machine = this.u16(18);
    this.entry = this.u64(24);
    const phoff = this.offset64(32, 'e_phoff');
    const shoff = this.offset64(40, 'e_shoff');
    this.flags = this.u32(48);
    const phentsize = this.u16(54);
    let phnum = this.u16(56);
    const shentsize = this.u16(58);
    let shnum = this.u16(60);
    let shstrndx = this.u16(62);

    // Extended numbering: section 0 holds the real counts when they overflow 16 bits.
    if (shoff !== 0) {
      if (shentsize !== SHDR_SIZE) throw new ElfError(`unexpected e_shentsize ${shentsize} (want ${SHDR_SIZE})`);
      this.need(shoff, SHDR_SIZE, 'section header 0');
      if (shnum === 0) shnum = this.offset64(shoff + 32, 'section count');
      if (shstrndx === SHN_XINDEX) shstrndx = this.u32(shoff + 40);
      if (phnum === 0xffff) phnum = this.u32(shoff + 44);
    } else {
      shnum = 0;
    }
    if (shnum > 0) this.need(shoff, shnum * SHDR_SIZE, `${shnum} section headers`);
    const sections: ElfSection[] = [];
    for (let i = 0; i < shnum; i++) {
      const p = shoff + i * SHDR_SIZE;
      const type = this.u32(p + 4);
      const offset = this.offset64(p + 24, `section ${i} sh_offset`);
      const size = this.offset64(p + 32, `section ${i} sh_size`);
      if (type !== SHT_NOBITS && i !== 0) this.need(offset, size, `section ${i} contents`);
      sections.push({
        index: i, name: '', type, flags: this.u64(p + 8), addr: this.u64(p + 16), offset, size,
        link: this.u32(p + 40), info: this.u32(p + 44),
        addralign: this.offset64(p + 48, `section ${i} sh_addralign`), entsize: this.offset64(p + 56, `section ${i} sh_entsize`),
      });
    }
    if (shnum > 0) {
      if (shstrndx === SHN_UNDEF) {
        // no section names: leave them empty
      } else if (shstrndx >= shnum) {
        throw new ElfError(`e_shstrndx ${shstrndx} out of range (${shnum} sections)`);
      } else {
        const strtab = sections[shstrndx]!;
        for (const s of sections) s.name = this.stringAt(strtab, this.u32(shoff + s.index * SHDR_SIZE));
      }
    }
    this.sections = sections;

    const segments: ElfSegment[] = [];
    if (phoff !== 0 && phnum > 0) {
      if (phentsize !== PHDR_SIZE) throw new ElfError(`unexpected e_phentsize ${phentsize} (want ${PHDR_SIZE})`);
      this.need(phoff, phnum * PHDR_SIZE, `${phnum} program headers`);
      for (let i = 0; i < phnum; i++) {
        const p = phoff + i * PHDR_SIZE;
        segments.push({
          type: this.u32(p), flags: this.u32(p + 4), offset: this.offset64(p + 8, `segment ${i} p_offset`),
          vaddr: this.u64(p + 16), filesz: this.offset64(p + 32, `segment ${i} p_filesz`), memsz: this.u64(p + 40),
        });
      }
    }
    this.segments = segments;
  }

  /** The first section with this name. */
  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** Section by index, or an ElfError naming what referred to it. */
  sectionAt(index: number, what = 'section'): ElfSection {
    const s = this.sections[index];
    if (!s) throw new ElfError(`${what}: section index ${index} out of range (${this.sections.length} sections)`);
    return s;
  }

  /** The bytes of a section (a view, not a copy). SHT_NOBITS sections have none. */
  data(s: ElfSection): Uint8Array {
    if (s.type === SHT_NOBITS) return new Uint8Array(0);
    this.need(s.offset, s.size, `section ${s.name || s.index}`);
    return this.bytes.subarray(s.offset, s.offset + s.size);
  }

  /** NUL-terminated string at `offset` in a string table section. */
  stringAt(strtab: ElfSection, offset: number): string {
    if (strtab.type === SHT_NOBITS) throw new ElfError(`string table ${strtab.index} has no contents`);
    if (offset >= strtab.size) {
      if (offset === 0) return '';
      throw new ElfError(`string offset ${offset} outside string table ${strtab.name || strtab.index} (${strtab.size} bytes)`);
    }
    const start = strtab.offset + offset;
    const end = strtab.offset + strtab.size;
    this.need(strtab.offset, strtab.size, 'string table');
    let p = start;
    while (p < end && this.bytes[p] !== 0) p++;
    if (p === end) throw new ElfError(`unterminated string at offset ${offset} in ${strtab.name || strtab.index}`);
    return latin1OrUtf8(this.bytes.subarray(start, p));
  }

  /** Symbols of .symtab (or the given SHT_SYMTAB/SHT_DYNSYM section); index 0 (the null symbol) included. */
  symbols(table?: ElfSection): ElfSymbol[] {
    const sec = table ?? this.sections.find((s) => s.type === SHT_SYMTAB);
    if (!sec) return [];
    const cached = this.symCache.get(sec.index);
    if (cached) return cached;
    if (sec.type !== SHT_SYMTAB && sec.type !== SHT_DYNSYM) throw new ElfError(`section ${sec.name} is not a symbol table`);
    if (sec.entsize !== 0 && sec.entsize !== SYM_SIZE) throw new ElfError(`symbol table ${sec.name}: entry size ${sec.entsize}, want ${SYM_SIZE}`);
    if (sec.size % SYM_SIZE !== 0) throw new ElfError(`symbol table ${sec.name}: size ${sec.size} is not a multiple of ${SYM_SIZE}`);
    const strtab = this.sectionAt(sec.link, `string table of ${sec.name}`);
    const shndxSec = this.sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === sec.index);
    const data = this.data(sec);
    const n = data.length / SYM_SIZE;
    const out: ElfSymbol[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = sec.offset + i * SYM_SIZE;
      const info = this.bytes[p + 4]!;
      let shndx = this.u16(p + 6);
      if (shndx === SHN_XINDEX && shndxSec) {
        if ((i + 1) * 4 > shndxSec.size) throw new ElfError(`SHT_SYMTAB_SHNDX too short for symbol ${i}`);
        shndx = this.u32(shndxSec.offset + i * 4);
      }
      out[i] = {
        index: i, name: this.stringAt(strtab, this.u32(p)), bind: info >> 4, type: info & 0xf,
        visibility: this.bytes[p + 5]! & 3, shndx, value: this.u64(p + 8), size: this.u64(p + 16),
      };
    }
    this.symCache.set(sec.index, out);
    return out;
  }

  /** Symbols of .dynsym (executables and shared libraries). */
  dynamicSymbols(): ElfSymbol[] {
    const sec = this.sections.find((s) => s.type === SHT_DYNSYM);
    return sec ? this.symbols(sec) : [];
  }

  /** Entries of a SHT_REL or SHT_RELA section. */
  relocations(sec: ElfSection): ElfRelocation[] {
    if (sec.type !== SHT_REL && sec.type !== SHT_RELA) throw new ElfError(`section ${sec.name} is not a relocation section`);
    const rela = sec.type === SHT_RELA;
    const size = rela ? RELA_SIZE : REL_SIZE;
    if (sec.size % size !== 0) throw new ElfError(`relocation section ${sec.name}: size ${sec.size} is not a multiple of ${size}`);
    this.data(sec);
    const out: ElfRelocation[] = [];
    for (let p = sec.offset; p < sec.offset + sec.size; p += size) {
      out.push({
        offset: this.offset64(p, `${sec.name} r_offset`), type: this.u32(p + 8), symbol: this.u32(p + 12),
        addend: rela ? this.view.getBigInt64(p + 16, true) : 0n,
      });
    }
    return out;
  }

  /** Notes of a SHT_NOTE section. */
  notes(sec: ElfSection): ElfNote[] {
    if (sec.type !== SHT_NOTE) throw new ElfError(`section ${sec.name} is not a note section`);
    return this.parseNotes(this.data(sec), sec.name);
  }

  /** Parse a note area (SHT_NOTE section or PT_NOTE segment contents): 4-byte aligned records. */
  parseNotes(data: Uint8Array, where: string): ElfNote[] {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const out: ElfNote[] = [];
    let p = 0;
    while (p < data.length) {
      if (p + 12 > data.length) throw new ElfError(`${where}: truncated note header at ${p}`);
      const namesz = v.getUint32(p, true);
      const descsz = v.getUint32(p + 4, true);
      const type = v.getUint32(p + 8, true);
      const nameAt = p + 12;
      const descAt = nameAt + align4(namesz);
      const next = descAt + align4(descsz);
      if (descAt + descsz > data.length) throw new ElfError(`${where}: note at ${p} runs past the end`);
      let nameEnd = nameAt + namesz;
      while (nameEnd > nameAt && data[nameEnd - 1] === 0) nameEnd--;
      out.push({ name: latin1OrUtf8(data.subarray(nameAt, nameEnd)), type, desc: data.subarray(descAt, descAt + descsz) });
      p = next; // strictly increases: next >= p + 12
    }
    return out;
  }

  // --- bounds-checked primitives ---

  private need(offset: number, length: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new ElfError(`truncated or malformed ELF: ${what} at ${offset}+${length} is outside the file (${this.bytes.length} bytes)`);
    }
  }
  private u16(p: number): number {
    this.need(p, 2, 'u16');
    return this.view.getUint16(p, true);
  }
  private u32(p: number): number {
    this.need(p, 4, 'u32');
    return this.view.getUint32(p, true);
  }
  private u64(p: number): bigint {
    this.need(p, 8, 'u64');
    return this.view.getBigUint64(p, true);
  }
  /** A u64 that must be a usable offset/size (file sizes never exceed 2^53). */
  private offset64(p: number, what: string): number {
    const v = this.u64(p);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} 0x${v.toString(16)} is too large`);
    return Number(v);
  }
}

/** Parse an ELF64 little-endian file. Throws ElfError on anything malformed. */
export function parseElf(bytes: Uint8Array): ElfFile {
  return new ElfFile(bytes);
}

/** Is this special section index (SHN_ABS, SHN_COMMON, ...) rather than a real section? */
export const isSpecialSection = (shndx: number): boolean => shndx === SHN_UNDEF || (shndx >= SHN_LORESERVE && shndx <= 0xffff);

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');
/** Symbol and section names are bytes; decode as UTF-8 when valid, else byte-per-char. */
function latin1OrUtf8(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    return latin1.decode(b);
  }
}

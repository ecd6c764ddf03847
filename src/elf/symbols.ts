// Function symbols of executables and shared libraries, for uprobes: name (optionally versioned,
// `malloc@@GLIBC_2.2.5`) → file offset, the number the kernel's uprobe attach takes.
import { ElfError } from './error.js';
import type { ElfFile, ElfSymbol } from './reader.js';
import { PT_LOAD, PF_X, SHN_UNDEF, SHT_GNU_VERDEF, SHT_GNU_VERSYM, SHT_NOBITS, STT_FUNC, STT_GNU_IFUNC, VERSYM_HIDDEN } from './constants.js';

export interface VersionedSymbol extends ElfSymbol {
  /** symbol version from .gnu.version_d, if any (`GLIBC_2.2.5`) */
  version?: string;
  /** true when this is the default version (`name@@VER`), false for `name@VER` */
  defaultVersion: boolean;
  /** 'symtab' or 'dynsym' */
  table: 'symtab' | 'dynsym';
}

/** Defined function symbols from .symtab and .dynsym, dynsym entries carrying their version. */
export function functionSymbols(elf: ElfFile): VersionedSymbol[] {
  const isFunc = (s: ElfSymbol) => (s.type === STT_FUNC || s.type === STT_GNU_IFUNC) && s.shndx !== SHN_UNDEF;
  const out: VersionedSymbol[] = elf.symbols().filter(isFunc).map((s) => ({ ...s, defaultVersion: true, table: 'symtab' as const }));
  const dyn = elf.dynamicSymbols();
  if (dyn.length) {
    const versions = versionNames(elf);
    const versym = elf.sections.find((s) => s.type === SHT_GNU_VERSYM);
    const vs = versym ? elf.data(versym) : undefined;
    for (const s of dyn) {
      if (!isFunc(s)) continue;
      let version: string | undefined;
      let defaultVersion = true;
      if (vs && s.index * 2 + 2 <= vs.length) {
        const v = vs[s.index * 2]! | (vs[s.index * 2 + 1]! << 8);
        version = versions.get(v & ~VERSYM_HIDDEN & 0xffff);
        defaultVersion = (v & VERSYM_HIDDEN) === 0;
      }
      out.push({ ...s, version, defaultVersion, table: 'dynsym' });
    }
  }
  return out;
}

/** Version index → name, from .gnu.version_d (Elf64_Verdef chain). */
function versionNames(elf: ElfFile): Map<number, string> {
  const out = new Map<number, string>();
  const sec = elf.sections.find((s) => s.type === SHT_GNU_VERDEF);
  if (!sec) return out;
  const data = elf.data(sec);
  const strtab = elf.sectionAt(sec.link, 'string table of .gnu.version_d');
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let p = 0;
  // The chain can claim any length; sh_info holds the entry count, and each entry is >= 20 bytes.
  for (let n = 0; n < Math.min(sec.info || Infinity, data.length / 20); n++) {
    if (p + 20 > data.length) throw new ElfError('.gnu.version_d: truncated Verdef');
    const ndx = v.getUint16(p + 4, true);
    const aux = v.getUint32(p + 12, true);
    const next = v.getUint32(p + 16, true);
    if (p + aux + 8 > data.length) throw new ElfError('.gnu.version_d: Verdaux outside the section');
    out.set(ndx, elf.stringAt(strtab, v.getUint32(p + aux, true)));
    if (next === 0) break;
    p += next;
  }
  return out;
}

/** Split `name@@VER` / `name@VER` into its parts. */
export function splitVersion(name: string): { name: string; version?: string; defaultOnly: boolean } {
  const at = name.indexOf('@');
  if (at <= 0) return { name, defaultOnly: false };
  const dbl = name[at + 1] === '@';
  return { name: name.slice(0, at), version: name.slice(at + (dbl ? 2 : 1)), defaultOnly: dbl };
}

/** File offset of a virtual address: the PT_LOAD segment holding it (executable ones first). */
export function vaddrToOffset(elf: ElfFile, addr: bigint): number | undefined {
  const loads = elf.segments.filter((p) => p.type === PT_LOAD);
  // Prefer executable segments: code lives there, and it disambiguates overlapping layouts.
  const seg = [...loads.filter((p) => p.flags & PF_X), ...loads].find((p) => addr >= p.vaddr && addr < p.vaddr + BigInt(p.filesz));
  return seg ? Number(addr - seg.vaddr) + seg.offset : undefined;
}

/** File offset of a symbol's address: the PT_LOAD segment holding it, else the section holding it. */
export function addressToOffset(elf: ElfFile, sym: ElfSymbol): number {
  const addr = sym.value;
  const fromSegment = vaddrToOffset(elf, addr);
  if (fromSegment !== undefined) return fromSegment;
  // Relocatable objects have no segments: st_value is section-relative there.
  const sec = elf.sections[sym.shndx];
  if (sec && sec.type !== SHT_NOBITS) {
    const off = addr - sec.addr;
    if (off >= 0n && off < BigInt(sec.size) + 1n) return Number(off) + sec.offset;
  }
  throw new ElfError(`symbol ${sym.name} at 0x${addr.toString(16)} is not in any loadable segment`);
}

/**
 * File offset of function `name` (`malloc`, `malloc@@GLIBC_2.2.5`, `memcpy@GLIBC_2.2.5`).
 * A bare name matches a .symtab symbol or the default version in .dynsym. Throws ElfError if the
 * name is missing or names functions at different addresses.
 */
export function symbolOffset(elf: ElfFile, name: string): number {
  const syms = functionSymbols(elf);
  // A literal match first (.symtab of static binaries may spell `memcpy@GLIBC_2.2.5` itself).
  let found = syms.filter((s) => s.name === name && (s.table === 'symtab' || s.defaultVersion));
  if (!found.length) {
    const want = splitVersion(name);
    found = syms.filter((s) => {
      if (s.name !== want.name) return false;
      if (want.version === undefined) return s.table === 'symtab' || s.defaultVersion;
      return s.version === want.version && (!want.defaultOnly || s.defaultVersion);
    });
  }
  if (!found.length) throw new ElfError(`function symbol '${name}' not found`);
  const offsets = [...new Set(found.map((s) => addressToOffset(elf, s)))];
  if (offsets.length > 1) {
    throw new ElfError(`function symbol '${name}' is ambiguous: ${offsets.length} different addresses (name a version: ${name}@@VER)`);
  }
  return offsets[0]!;
}

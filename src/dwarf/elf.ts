// The DWARF sections of an ELF file. Compressed sections (SHF_COMPRESSED, `-gz`) would need zlib, which
// a pure layer does not have: they are refused by name rather than misread.
import type { ElfFile } from '../elf/reader.js';
import { DwarfError } from './cursor.js';
import { Dwarf, type DwarfSections } from './info.js';

const SHF_COMPRESSED = 0x800n;

/** The file's DWARF, or undefined when it has no .debug_info (stripped, or no -g). */
export function dwarfOfElf(elf: ElfFile): Dwarf | undefined {
  const get = (name: string): Uint8Array | undefined => {
    const s = elf.section(name);
    if (!s) return undefined;
    if (s.flags & SHF_COMPRESSED) throw new DwarfError(`${name} is compressed (SHF_COMPRESSED): tsbpf reads uncompressed DWARF only`);
    return elf.data(s);
  };
  const info = get('.debug_info');
  if (!info || !info.length) return undefined;
  const abbrev = get('.debug_abbrev');
  if (!abbrev) throw new DwarfError('the file has .debug_info but no .debug_abbrev');
  const sections: DwarfSections = { info, abbrev, str: get('.debug_str'), lineStr: get('.debug_line_str'), strOffsets: get('.debug_str_offsets') };
  return new Dwarf(sections);
}

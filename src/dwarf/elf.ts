// The DWARF sections of an ELF file. Compressed sections (SHF_COMPRESSED: `-gz`, distributions' debug
// packages) start with an Elf64_Chdr; their payload needs zlib (or zstd), which a pure layer does not
// have: the caller passes a decompressor (the front end, node:zlib), else they are refused by name.
import type { ElfFile } from '../elf/reader.js';
import { DwarfError } from './cursor.js';
import { Dwarf, type DwarfSections } from './info.js';

const SHF_COMPRESSED = 0x800n;
/** Elf64_Chdr: ch_type, ch_reserved, ch_size, ch_addralign */
const CHDR_SIZE = 24;
export const ELFCOMPRESS_ZLIB = 1;
export const ELFCOMPRESS_ZSTD = 2;

/** Inflate a compressed section's payload of `type` (ELFCOMPRESS_*) to `size` bytes. */
export type Decompress = (payload: Uint8Array, type: number, size: number) => Uint8Array;

/** The file's DWARF, or undefined when it has no .debug_info (stripped, or no -g). */
export function dwarfOfElf(elf: ElfFile, decompress?: Decompress): Dwarf | undefined {
  const get = (name: string): Uint8Array | undefined => {
    const s = elf.section(name);
    if (!s) return undefined;
    const data = elf.data(s);
    if (!(s.flags & SHF_COMPRESSED)) return data;
    if (!decompress) throw new DwarfError(`${name} is compressed (SHF_COMPRESSED) and no decompressor was given`);
    if (data.length < CHDR_SIZE) throw new DwarfError(`${name}: compressed section shorter than its header (${data.length} bytes)`);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const type = view.getUint32(0, true);
    const size = view.getBigUint64(8, true);
    if (size > BigInt(1 << 30)) throw new DwarfError(`${name}: compressed section claims ${size} bytes`);
    let out: Uint8Array;
    try {
      out = decompress(data.subarray(CHDR_SIZE), type, Number(size));
    } catch (e) {
      throw new DwarfError(`${name}: ${(e as Error).message}`);
    }
    if (out.length !== Number(size)) throw new DwarfError(`${name}: decompressed to ${out.length} bytes, the header says ${size}`);
    return out;
  };
  const info = get('.debug_info');
  if (!info || !info.length) return undefined;
  const abbrev = get('.debug_abbrev');
  if (!abbrev) throw new DwarfError('the file has .debug_info but no .debug_abbrev');
  const sections: DwarfSections = { info, abbrev, str: get('.debug_str'), lineStr: get('.debug_line_str'), strOffsets: get('.debug_str_offsets') };
  return new Dwarf(sections);
}

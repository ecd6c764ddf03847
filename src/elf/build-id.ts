// The GNU build ID (NT_GNU_BUILD_ID note): identifies a binary across paths and containers, as
// symbolizers and debuginfod key debug info by it.
import type { ElfFile } from './reader.js';
import { PT_NOTE, SHT_NOTE } from './constants.js';

export const NT_GNU_BUILD_ID = 3;

/** The build ID as lowercase hex, from a note section or, in stripped files, a PT_NOTE segment. */
export function buildId(elf: ElfFile): string | undefined {
  const areas = [
    ...elf.sections.filter((s) => s.type === SHT_NOTE).map((s) => ({ bytes: elf.data(s), where: s.name })),
    ...elf.segments
      .filter((p) => p.type === PT_NOTE && p.offset + p.filesz <= elf.bytes.length)
      .map((p) => ({ bytes: elf.bytes.subarray(p.offset, p.offset + p.filesz), where: 'PT_NOTE' })),
  ];
  for (const a of areas) {
    for (const n of elf.parseNotes(a.bytes, a.where)) {
      if (n.name === 'GNU' && n.type === NT_GNU_BUILD_ID && n.desc.length) {
        return [...n.desc].map((b) => b.toString(16).padStart(2, '0')).join('');
      }
    }
  }
  return undefined;
}

// USDT probes (SystemTap SDT notes, `.note.stapsdt`): where each probe's nop sits, its semaphore, and
// its argument spec, as the uprobe-based USDT attach needs them.
import { ElfError } from './error.js';
import type { ElfFile } from './reader.js';
import { SHT_NOTE } from './constants.js';
import { vaddrToOffset } from './symbols.js';

/** NT_STAPSDT: the note type of a SystemTap SDT probe. */
export const NT_STAPSDT = 3;

export interface UsdtProbe {
  provider: string;
  name: string;
  /** argument spec, e.g. `-4@%edi 8@-16(%rbp)` */
  args: string;
  /** virtual address of the probe's nop (adjusted for prelinking via .stapsdt.base) */
  pc: bigint;
  /** file offset of the nop: what a uprobe attaches to */
  fileOffset: number;
  /** virtual address of the semaphore, 0n without one */
  semaphore: bigint;
  /** file offset of the semaphore (the uprobe's ref_ctr_offset), 0 without one */
  semaphoreOffset: number;
}

/** Every USDT probe of an executable or shared library. */
export function usdtProbes(elf: ElfFile): UsdtProbe[] {
  const out: UsdtProbe[] = [];
  const baseSec = elf.section('.stapsdt.base');
  for (const sec of elf.sections) {
    if (sec.type !== SHT_NOTE || sec.name !== '.note.stapsdt') continue;
    for (const note of elf.notes(sec)) {
      if (note.name !== 'stapsdt' || note.type !== NT_STAPSDT) continue;
      const d = note.desc;
      if (d.length < 24 + 3) throw new ElfError(`.note.stapsdt: note of ${d.length} bytes is too short`);
      const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
      let pc = v.getBigUint64(0, true);
      const base = v.getBigUint64(8, true);
      let semaphore = v.getBigUint64(16, true);
      const strs: string[] = [];
      let p = 24;
      for (let i = 0; i < 3; i++) {
        const end = d.indexOf(0, p);
        if (end < 0) throw new ElfError('.note.stapsdt: unterminated probe string');
        strs.push(new TextDecoder().decode(d.subarray(p, end)));
        p = end + 1;
      }
      // Prelinking moves the code; the note recorded where .stapsdt.base was, the section says where it is.
      if (baseSec && base !== 0n) {
        const delta = baseSec.addr - base;
        pc += delta;
        if (semaphore) semaphore += delta;
      }
      const fileOffset = vaddrToOffset(elf, pc);
      if (fileOffset === undefined) throw new ElfError(`USDT probe ${strs[0]}:${strs[1]} at 0x${pc.toString(16)} is not in a loadable segment`);
      let semaphoreOffset = 0;
      if (semaphore) {
        const so = vaddrToOffset(elf, semaphore);
        if (so === undefined) throw new ElfError(`USDT probe ${strs[0]}:${strs[1]}: semaphore 0x${semaphore.toString(16)} is not in a loadable segment`);
        semaphoreOffset = so;
      }
      out.push({ provider: strs[0]!, name: strs[1]!, args: strs[2]!, pc, fileOffset, semaphore, semaphoreOffset });
    }
  }
  return out;
}

// A reference from an lddw instruction to a map, by name, for the loader to resolve: 'fd' loads the
// map itself (BPF_PSEUDO_MAP_FD), 'value' the address of its value at `offset` (BPF_PSEUDO_MAP_VALUE,
// array maps and global data). The one map relocation of the project: the builder and the object
// parser record it, the kernel loader and the VM apply it with applyMapReferences.
import type { Instruction } from './instruction.js';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE } from './opcodes.js';

export interface MapReference {
  /** slot of the lddw's first half */
  slot: number;
  map: string;
  kind: 'fd' | 'value';
  /** byte offset into the value ('value' only; 0 for 'fd') */
  offset: number;
}

/**
 * How the loaded program names its maps: by file descriptor (BPF_PSEUDO_MAP_FD/VALUE, what
 * BPF_PROG_LOAD takes) or by index into an array of maps (BPF_PSEUDO_MAP_IDX/IDX_VALUE, the kernel's
 * fd_array form, and how the VM numbers an object's maps).
 */
export type MapAddressing = 'fd' | 'index';

/**
 * A copy of `insns` with every map reference resolved: the lddw's imm holds `handle(map)` (an fd or
 * an index), its second half the value offset. `handle` throws or returns undefined for a map it does
 * not know (reported with the program's name).
 */
export function applyMapReferences(
  insns: readonly Instruction[], refs: readonly MapReference[], handle: (map: string) => number | undefined, addressing: MapAddressing = 'fd', program = 'program',
): Instruction[] {
  const out = insns.map((i) => ({ ...i }));
  for (const r of refs) {
    const h = handle(r.map);
    if (h === undefined) throw new Error(`${program} refers to map '${r.map}', which is not defined`);
    const ld = out[r.slot]!;
    const value = r.kind === 'value';
    ld.src = addressing === 'fd' ? (value ? BPF_PSEUDO_MAP_VALUE : BPF_PSEUDO_MAP_FD) : value ? BPF_PSEUDO_MAP_IDX_VALUE : BPF_PSEUDO_MAP_IDX;
    ld.imm = h;
    out[r.slot + 1]!.imm = value ? r.offset : 0;
  }
  return out;
}

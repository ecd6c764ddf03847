// A reference from an lddw instruction to a map, by name, for the loader to resolve: 'fd' loads the
// map itself (BPF_PSEUDO_MAP_FD), 'value' the address of its value at `offset` (BPF_PSEUDO_MAP_VALUE,
// array maps and global data). The loader puts the map's fd in the first slot's imm.
export interface MapReference {
  /** slot of the lddw's first half */
  slot: number;
  map: string;
  kind: 'fd' | 'value';
  /** byte offset into the value ('value' only; 0 for 'fd') */
  offset: number;
}

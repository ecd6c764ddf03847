// The shape of a kernel struct layout as scripts/gen-abi.js writes it from BTF (src/uapi/bpf-abi.ts,
// perf-abi.ts): each field by its C access path, with its byte offset and size. src/sys/attr.ts
// reads and writes structs through these, by field name.

export interface Field {
  /** byte offset (of the storage unit, for a bitfield) */
  readonly offset: number;
  /** bytes: a whole array, or a bitfield's storage unit */
  readonly size: number;
  readonly signed?: boolean;
  /** bitfield: first bit in the storage unit, and width */
  readonly bit?: number;
  readonly bits?: number;
}

export interface Layout {
  /** sizeof the struct in the kernel the layout was generated from */
  readonly sizeof: number;
  readonly fields: { readonly [path: string]: Field };
}

/** The field names of a layout: `map_type`, `kprobe_multi.cnt`. */
export type FieldName<L extends Layout> = keyof L['fields'] & string;

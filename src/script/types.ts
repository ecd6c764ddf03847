// Types of script values, as the checker assigns them and codegen lays them out.
import type { Btf } from '../btf/btf.js';

export type SType =
  | { k: 'none' }
  | { k: 'int'; size: 1 | 2 | 4 | 8; signed: boolean }
  /** a NUL-terminated string in a fixed buffer of `size` bytes */
  | { k: 'str'; size: number }
  /** ntop(): address family (8 bytes) then 16 address bytes */
  | { k: 'inet' }
  /** a pointer: to a BTF type (`btfId`, in vmlinux, or in `btf`: a binary's types from its DWARF) or to a plain integer (`to`) */
  | { k: 'ptr'; btfId?: number; btf?: Btf; to?: SType; user?: boolean; script?: string }
  /**
   * a struct/union value reached through a pointer (only its address exists at run time): a BTF type
   * (`btfId`), or one the script defines (`script`: its size, which indexing an array of them steps by)
   */
  | { k: 'record'; btfId?: number; btf?: Btf; name: string; script?: { size: number }; user?: boolean }
  /** a script struct's value (print()): its bytes as C lays them out, each member decoded by name */
  | { k: 'struct'; name: string; size: number; fields: { name: string; offset: number; type: SType; bits?: { shift: number; width: number } }[] }
  /** a fixed array: a tracepoint `__u8 daddr[4]` or a BTF array */
  | { k: 'array'; elem: SType; len: number }
  /** addresses printed as symbols */
  | { k: 'ksym' }
  | { k: 'usym' }
  /** a stack id (kstack/ustack) */
  | { k: 'stack'; user: boolean; limit: number; mode: 'bpftrace' | 'perf' | 'raw' }
  | { k: 'tuple'; elems: SType[] }
  | { k: 'buf'; size: number }
  /** strftime(): a format index and nanoseconds */
  | { k: 'timestamp'; fmt: number }
  /** uid shown as a user name */
  | { k: 'username' }
  /** strerror(errno): the error's text */
  | { k: 'strerror' }
  /** cgroup_path(id): the cgroup's path in each hierarchy */
  | { k: 'cgroup_path'; filter?: string };

export const INT64: SType = { k: 'int', size: 8, signed: true };
export const UINT64: SType = { k: 'int', size: 8, signed: false };
export const UINT32: SType = { k: 'int', size: 4, signed: false };
export const NONE: SType = { k: 'none' };
export const COMM: SType = { k: 'str', size: 16 };
/** bpftrace's default string buffer (BPFTRACE_STRLEN) */
export const STRLEN = 64;
export const INET_SIZE = 24;

/** Bytes a value of this type takes in a record, a map key or a stack slot (8-aligned for ints). */
export function sizeOf(t: SType): number {
  switch (t.k) {
    case 'none': return 0;
    case 'int': return 8;
    case 'str': return t.size;
    case 'inet': return INET_SIZE;
    case 'ptr': case 'ksym': case 'usym': case 'username': case 'strerror': case 'cgroup_path': return 8;
    case 'record': return 8;
    case 'struct': return align8(t.size);
    case 'array': return align8(sizeOf(t.elem) === 8 && t.elem.k === 'int' ? t.elem.size * t.len : sizeOf(t.elem) * t.len);
    case 'stack': return 8;
    case 'tuple': return t.elems.reduce((n, e) => n + align8(sizeOf(e)), 0);
    case 'buf': return 8 + align8(t.size);
    case 'timestamp': return 16;
  }
}

export const align8 = (n: number): number => (n + 7) & ~7;

/** A value kept in registers (scalar), rather than in memory. */
export const isScalar = (t: SType): boolean =>
  t.k === 'int' || t.k === 'ptr' || t.k === 'ksym' || t.k === 'usym' || t.k === 'stack' || t.k === 'username' || t.k === 'record' || t.k === 'strerror' || t.k === 'cgroup_path';

/** bpftrace's spelling of a type, for messages: `int64`, `uint32`, `string[16]`. */
export function typeName(t: SType): string {
  switch (t.k) {
    case 'int': return `${t.signed ? 'int' : 'uint'}${t.size * 8}`;
    case 'str': return `string[${t.size}]`;
    case 'ptr': return t.to ? `${typeName(t.to)} *` : t.script ? `${t.script} *` : 'pointer';
    case 'record': case 'struct': return t.name;
    case 'array': return `${typeName(t.elem)}[${t.len}]`;
    case 'tuple': return `(${t.elems.map(typeName).join(',')})`;
    case 'buf': return `buffer[${t.size}]`;
    case 'stack': return t.user ? 'ustack' : 'kstack';
    default: return t.k;
  }
}

export type AggKind = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'stats' | 'hist' | 'lhist';

/** What a map holds: plain values of a type, or an aggregation. */
export type MapValue =
  | { kind: 'value'; type: SType }
  | { kind: 'agg'; agg: AggKind; lhist?: { min: number; max: number; step: number }; signed?: boolean };

export interface MapInfo {
  name: string;
  keys: SType[];
  value: MapValue;
  /** index of the BPF map (order of first appearance) */
  index: number;
}

export function sameShape(a: SType, b: SType): boolean {
  if (a.k !== b.k) return false;
  if (a.k === 'tuple' && b.k === 'tuple') return a.elems.length === b.elems.length && a.elems.every((e, i) => sameShape(e, b.elems[i]!));
  return true;
}

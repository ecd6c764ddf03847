// A traced function's parameters from BTF: a kfunc's from the kernel's, a uprobe's from the BTF its
// binary's DWARF converts to (compile.ts asks dwarf/; bpftrace 0.17 reads the DWARF with libdw). Both
// give names and types; where the values are differs (fentry's u64 slots, the SysV registers).
import type { Btf } from '../../btf/btf.js';
import { BtfKind } from '../../btf/types.js';
import type { Pos } from '../ast.js';

type Err = (reason: string, pos: Pos) => Error;

export interface FuncProto {
  params: { name: string; type: number }[];
  returnType: number;
}

/** A kfunc's parameters: fentry programs see them as an array of u64 (the return value after them). */
export function kfuncProto(btf: Btf, func: string, pos: Pos, err: Err): FuncProto {
  const f = btf.findByName(func, BtfKind.FUNC);
  if (!f || f.kind !== BtfKind.FUNC) throw err(`No BTF found for ${func}: kfunc probes need a function of the kernel's BTF`, pos);
  const proto = btf.typeById(f.type);
  if (proto.kind !== BtfKind.FUNC_PROTO) throw err(`${func}: BTF function without a prototype`, pos);
  if (proto.params.some((p) => p.type === 0)) throw err(`${func}: variadic functions cannot be traced with kfunc`, pos);
  return { params: proto.params.map((p) => ({ name: p.name, type: p.type })), returnType: proto.returnType };
}

/**
 * A uprobe's parameters, from its binary's debug information as BTF. bpftrace 0.17 reads them by
 * position, the N-th from the N-th argument register whatever DW_AT_location says (at a function's
 * first instruction the SysV ABI puts them there; -O0 code spills them only later).
 */
export function uprobeProto(load: ((path: string) => Btf | undefined) | undefined, path: string, func: string, pos: Pos, err: Err): FuncProto & { btf: Btf } {
  let btf: Btf | undefined;
  try {
    btf = load?.(path);
  } catch (e) {
    // malformed DWARF (or an unreadable file): the script's error, where the probe names the file
    throw err(`${path}: ${(e as Error).message}`, pos);
  }
  if (!btf) throw err(`No debuginfo found for ${path}`, pos);
  const f = btf.findByName(func, BtfKind.FUNC);
  if (!f || f.kind !== BtfKind.FUNC) throw err(`No debuginfo found for ${func} in ${path}`, pos);
  const proto = btf.typeById(f.type);
  if (proto.kind !== BtfKind.FUNC_PROTO) throw err(`${func}: a function without a prototype`, pos);
  return { params: proto.params.filter((p) => p.type !== 0).map((p) => ({ name: p.name, type: p.type })), returnType: proto.returnType, btf };
}

// Which BTF type the records of a ring buffer or perf event array are. The kernel does not know (a
// ring buffer has no value type), so it is inferred, in this order:
//   1. a type named by the caller (`--record events='struct event'`);
//   2. a `__type(value, struct event)` on the buffer map's definition;
//   3. the sizes the programs reserve or output (`bpf_ringbuf_reserve(&events, sizeof(*e), 0)`,
//      `bpf_ringbuf_output`, `bpf_perf_event_output`), matched against the object's structs of that
//      size, leaving out the kernel's (types CO-RE relocations refer to, and program context types).
// An ambiguous or unknown size leaves the records raw bytes, with the candidates named.
import type { Btf } from '../btf/btf.js';
import { BtfKind, type BtfType } from '../btf/types.js';
import { helperId } from '../isa/helpers.js';
import { BPF_ALU64, BPF_CALL, BPF_CLASS, BPF_JMP, BPF_JMP32, BPF_K, BPF_MOV, BPF_OP, BPF_X, BPF_EXIT, BPF_JA } from '../isa/opcodes.js';
import { isWide, LDDW, type Instruction } from '../isa/instruction.js';
import type { CollectionSpec, ProgramSpec } from '../object/spec.js';
import { MapType } from '../uapi/bpf.js';

export interface RecordType {
  /** BTF type id of the records, undefined: raw bytes */
  typeId: number | undefined;
  /** how it was found, or why not (goes into the generated file's doc comment) */
  how: string;
}

/** helper → which registers hold the map and the record size */
const CALLS: ReadonlyArray<{ id: number | undefined; map: number; size: number }> = [
  { id: helperId('ringbuf_reserve'), map: 1, size: 2 },
  { id: helperId('ringbuf_output'), map: 1, size: 3 },
  { id: helperId('perf_event_output'), map: 2, size: 5 },
];

/** The record types of every ring buffer and perf event array of `spec`. */
export function bufferRecordTypes(spec: CollectionSpec, btf: Btf, named: Readonly<Record<string, number>> = {}): Map<string, RecordType> {
  const sizes = recordSizes(spec);
  const kernelTypes = kernelTypeIds(spec, btf);
  const out = new Map<string, RecordType>();
  for (const m of spec.maps) {
    if (m.type !== MapType.RINGBUF && m.type !== MapType.PERF_EVENT_ARRAY && m.type !== MapType.USER_RINGBUF) continue;
    if (named[m.name] !== undefined) {
      out.set(m.name, { typeId: named[m.name], how: 'named when generated' });
      continue;
    }
    const declared = m.btfValueTypeId ? btf.resolve(m.btfValueTypeId) : undefined;
    if (declared && (declared.kind === BtfKind.STRUCT || declared.kind === BtfKind.UNION)) {
      out.set(m.name, { typeId: m.btfValueTypeId, how: `__type(value, ${declared.kind === BtfKind.UNION ? 'union' : 'struct'} ${declared.name}) on the map` });
      continue;
    }
    const seen = sizes.get(m.name);
    if (!seen || seen.has(-1) || seen.size !== 1) {
      const why = !seen ? 'no program reserves or outputs records of a constant size into it' : 'its records are of several or variable sizes';
      out.set(m.name, { typeId: undefined, how: `raw bytes: ${why}` });
      continue;
    }
    const size = [...seen][0]!;
    const candidates = structsOfSize(btf, size).filter((t) => !kernelTypes.has(t.id));
    const best = preferred(candidates, m.name);
    if (best) out.set(m.name, { typeId: best.id, how: `the ${size}-byte records its programs ${m.type === MapType.PERF_EVENT_ARRAY ? 'output' : 'reserve'}` });
    else {
      const names = candidates.map((t) => `struct ${t.name}`).join(', ');
      out.set(m.name, { typeId: undefined, how: `raw bytes: ${candidates.length ? `${size}-byte records could be ${names}` : `no struct of the object is ${size} bytes`}; name one with --record ${m.name}=TYPE` });
    }
  }
  return out;
}

/** buffer map name → record sizes seen (-1: a size not known before the call) */
function recordSizes(spec: CollectionSpec): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const p of spec.programs) {
    const targets = jumpTargets(p.instructions);
    p.instructions.forEach((insn, i) => {
      if (insn.code !== (BPF_JMP | BPF_CALL) || insn.src !== 0) return;
      const call = CALLS.find((c) => c.id === insn.imm);
      if (!call) return;
      const map = valueBefore(p, targets, i, call.map);
      if (map?.kind !== 'map') return;
      const size = valueBefore(p, targets, i, call.size);
      let set = out.get(map.name);
      if (!set) out.set(map.name, (set = new Set()));
      set.add(size?.kind === 'const' ? size.value : -1);
    });
  }
  return out;
}

type Known = { kind: 'map'; name: string } | { kind: 'const'; value: number };

/**
 * What register `reg` holds just before instruction `at`, looking back within its basic block: an
 * lddw of a map, or a constant moved into it (through register-to-register moves).
 */
function valueBefore(p: ProgramSpec, targets: Set<number>, at: number, reg: number): Known | undefined {
  for (let i = at - 1; i >= 0 && at - i < 64; i--) {
    if (targets.has(i + 1) && i + 1 !== at) return undefined; // another path leads here
    const insn = p.instructions[i]!;
    if (i > 0 && isWide(p.instructions[i - 1]!)) continue; // second slot of an lddw
    const cls = BPF_CLASS(insn.code);
    if (cls === BPF_JMP && (BPF_OP(insn.code) === BPF_CALL) && reg <= 5) return undefined; // calls clobber r0-r5
    if (insn.dst !== reg) continue;
    if (insn.code === LDDW) {
      const ref = p.mapRefs.find((r) => r.slot === i && r.kind === 'fd');
      return ref ? { kind: 'map', name: ref.map } : undefined;
    }
    if (insn.code === (BPF_ALU64 | BPF_MOV | BPF_K)) return { kind: 'const', value: insn.imm };
    if (insn.code === (BPF_ALU64 | BPF_MOV | BPF_X) && insn.off === 0) return valueBefore(p, targets, i, insn.src);
    // stores and conditional jumps name a dst register without writing it
    if (cls === 0x02 || cls === 0x03 || cls === BPF_JMP || cls === BPF_JMP32) continue;
    return undefined; // any other write
  }
  return undefined;
}

function jumpTargets(insns: readonly Instruction[]): Set<number> {
  const out = new Set<number>();
  insns.forEach((insn, i) => {
    const cls = BPF_CLASS(insn.code);
    if (cls !== BPF_JMP && cls !== BPF_JMP32) return;
    const op = BPF_OP(insn.code);
    if (op === BPF_CALL || op === BPF_EXIT) return;
    out.add(i + 1 + (cls === BPF_JMP32 && op === BPF_JA ? insn.imm : insn.off));
  });
  return out;
}

/** Types the kernel defines: roots of CO-RE relocations and what programs get as their context. */
function kernelTypeIds(spec: CollectionSpec, btf: Btf): Set<number> {
  const out = new Set<number>();
  const add = (id: number): void => {
    if (id) out.add(btf.resolveId(id));
  };
  for (const p of spec.programs) {
    for (const r of p.coreRelos) add(r.typeId);
    if (!p.btfFuncId) continue;
    const fn = btf.typeById(p.btfFuncId);
    const proto = fn.kind === BtfKind.FUNC ? btf.typeById(fn.type) : undefined;
    if (proto?.kind !== BtfKind.FUNC_PROTO) continue;
    for (const param of proto.params) {
      const pt = btf.resolve(param.type);
      if (pt.kind === BtfKind.PTR) add(pt.type);
    }
  }
  return out;
}

function structsOfSize(btf: Btf, size: number): BtfType[] {
  return btf.types.filter((t) => (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) && t.name !== '' && t.size === size);
}

/** One candidate, or the one whose name says it is this buffer's event; undefined when unclear. */
function preferred(candidates: BtfType[], mapName: string): BtfType | undefined {
  if (candidates.length <= 1) return candidates[0];
  const byName = candidates.filter((t) => t.name === 'event' || t.name === mapName || `${t.name}s` === mapName);
  return byName.length === 1 ? byName[0] : undefined;
}

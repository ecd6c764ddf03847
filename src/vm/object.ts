// From the object layer's CollectionSpec (a parsed clang-built ELF object) to what the VM loads:
// map references become BPF_PSEUDO_MAP_IDX(_VALUE) lddw's indexing the object's maps, global data
// keeps its initial contents, prog-array initialisers become tail-call slots, line info becomes the
// verifier's C source lines.
import { applyMapReferences } from '../isa/relocation.js';
import { parseObject } from '../object/load-spec.js';
import type { CollectionSpec } from '../object/spec.js';
import { MapType, ProgramType } from '../uapi/bpf.js';
import type { ObjectInput } from './vm.js';

export function objectInput(spec: CollectionSpec): ObjectInput {
  const index = new Map(spec.maps.map((m, i) => [m.name, i]));
  return {
    btf: spec.btf,
    programs: spec.programs.map((p) => {
      const insns = applyMapReferences(p.instructions, p.mapRefs, (name) => index.get(name), 'index', `program '${p.name}'`);
      if (p.ksymRefs.length) throw new Error(`program '${p.name}': kernel symbols (${p.ksymRefs.map((k) => k.name).join(', ')}) do not exist in the VM`);
      const lines = [...p.lineInfo].sort((a, b) => a.insnOff - b.insnOff);
      const source = (slot: number): string | undefined => {
        let best;
        for (const l of lines) if (l.insnOff <= slot) best = l;
        return best ? `${best.fileName.split('/').pop()}:${best.lineNum}: ${best.line.trim()}` : undefined;
      };
      return { name: p.name, type: p.type === ProgramType.UNSPEC ? ProgramType.UNSPEC : p.type, insns, source };
    }),
    maps: spec.maps.map((m) => ({
      name: m.name,
      type: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: m.flags,
      initial: m.contents,
      readonly: m.frozen && m.type === MapType.ARRAY,
      slots: m.initSlots.map((s) => [s.index, s.value] as [number, string]),
    })),
  };
}

export function parseObjectForVm(bytes: Uint8Array): ObjectInput {
  return objectInput(parseObject(bytes));
}

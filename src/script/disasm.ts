// `tsbpf trace -d`: each probe unit's bytecode, with the script text each instruction came from.
import { disassemble as listing } from '../isa/disasm.js';
import type { CompiledUnit } from './codegen/unit.js';

export function disassemble(u: CompiledUnit, c: { source: string }): string {
  const refs = new Map(u.mapRefs.map((r) => [r.slot, r.map]));
  const body = listing(u.insns, {
    style: 'kernel',
    source: (slot) => {
      const s = u.spans[slot];
      return s ? `${s.line}:${s.col}: ${c.source.slice(s.start, s.end).split('\n')[0]}` : undefined;
    },
    mapName: (slot) => refs.get(slot),
  });
  return `${u.unit.name} (${u.insns.length} instructions, ${u.stackSize} bytes of stack):\n${body}\n`;
}

// C source lines of a linked program's instructions, from its BTF line info: for verifier errors and
// for the interleaved disassembly.
import type { ProgramSpec } from '../object/spec.js';

/** `slot → "file.bpf.c:42: the C line"` for the line info record covering `slot`, if any. */
export function lineSourceOf(p: Pick<ProgramSpec, 'lineInfo'>): ((slot: number) => string | undefined) | undefined {
  if (!p.lineInfo.length) return undefined;
  const sorted = [...p.lineInfo].sort((a, b) => a.insnOff - b.insnOff);
  return (slot: number) => {
    let lo = 0;
    let hi = sorted.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.insnOff <= slot) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const l = sorted[found]!;
    const file = l.fileName.split('/').pop();
    return `${file}:${l.lineNum}: ${l.line.trim()}`;
  };
}

/** The source line to print before `slot` in a disassembly: only where the line info changes. */
export function lineAt(p: Pick<ProgramSpec, 'lineInfo'>): (slot: number) => string | undefined {
  const bySlot = new Map(p.lineInfo.map((l) => [l.insnOff, l] as const));
  return (slot: number) => {
    const l = bySlot.get(slot);
    return l && l.line ? l.line.trim() : undefined;
  };
}

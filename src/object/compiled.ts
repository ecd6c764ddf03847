// Specs of programs and maps a compiler made (the script and filter compilers): what the loader takes
// from an ELF object, built directly, so compiled code loads through Collection (src/kernel) and the
// VM like any object. A program's type, expected attach type and attach target come from its SEC()
// name, as for a clang-built object.
import type { Instruction } from '../isa/instruction.js';
import type { SourceSpan } from '../isa/code.js';
import type { MapReference } from '../isa/relocation.js';
import { sectionInfo } from './sections.js';
import { ObjectError, type CollectionSpec, type MapSpec, type ProgramLineInfo, type ProgramSpec } from './spec.js';

export interface CompiledProgram {
  name: string;
  /** a SEC() name libbpf knows: `tracepoint/sched/sched_switch`, `kprobe/vfs_read`, `socket` */
  section: string;
  instructions: Instruction[];
  mapRefs?: MapReference[];
  license?: string;
  lineInfo?: ProgramLineInfo[];
}

/** A ProgramSpec for compiled instructions; throws for a section name libbpf would not know. */
export function programSpec(p: CompiledProgram): ProgramSpec {
  const info = sectionInfo(p.section);
  if (!info) throw new ObjectError(`program ${p.name}: SEC("${p.section}") is not a section name libbpf knows`);
  return {
    name: p.name, section: p.section, autoload: true, type: info.type, expectedAttachType: info.expectedAttachType,
    attach: { kind: info.kind, target: info.target }, sleepable: info.sleepable, xdpFrags: info.xdpFrags, attachBtf: info.attachBtf,
    instructions: p.instructions, license: p.license ?? 'GPL', kernelVersion: 0, mapRefs: p.mapRefs ?? [], ksymRefs: [], funcInfo: [],
    lineInfo: p.lineInfo ?? [], coreRelos: [], poisoned: [], subprograms: [], btfFuncId: 0,
  };
}

/** A map a compiler needs: its name is what the programs' relocations use and the kernel sees (15 characters of it). */
export type CompiledMap = Pick<MapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries'> & { flags?: number };

/** A MapSpec for a map a compiler needs. */
export function mapSpec(m: CompiledMap): MapSpec {
  return {
    name: m.name, section: '.maps', origin: 'compiler', type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries,
    flags: m.flags ?? 0, numaNode: 0, pinning: 0, mapExtra: 0n, btfKeyTypeId: 0, btfValueTypeId: 0, initSlots: [], frozen: false,
  };
}

/** A CollectionSpec of compiled programs and their maps (no BTF, no externs). */
export function collectionSpec(name: string, programs: ProgramSpec[], maps: MapSpec[], license = 'GPL'): CollectionSpec {
  for (const [what, list] of [['programs', programs], ['maps', maps]] as const) {
    const names = new Set<string>();
    for (const x of list) {
      if (names.has(x.name)) throw new ObjectError(`two ${what} are named '${x.name}'`);
      names.add(x.name);
    }
  }
  return { name, programs, maps, externs: [], license, kernelVersion: 0, dataSections: new Map(), hiddenFunctions: new Set() };
}

/**
 * Line info from the source span of each slot: a record where the line changes, as clang writes it,
 * so verifier messages and disassembly quote the source as they do for C.
 */
export function lineInfoOf(spans: readonly (SourceSpan | undefined)[], source: string, fileName: string): ProgramLineInfo[] {
  const lines = source.split('\n');
  const out: ProgramLineInfo[] = [];
  let last = -1;
  spans.forEach((s, slot) => {
    if (!s || s.line === last) return;
    last = s.line;
    out.push({ insnOff: slot, fileNameOff: 0, lineOff: 0, lineCol: (s.line << 10) | s.col, fileName, line: lines[s.line - 1] ?? '', lineNum: s.line, col: s.col });
  });
  return out;
}

// Program linking as libbpf does it: each entry program gets its own copy of every subprogram it
// reaches (calls and BPF_PSEUDO_FUNC callback references, transitively) appended to its instruction
// stream, with call offsets fixed, map/global-data/extern relocations recorded, and func_info,
// line_info and CO-RE relocations re-based onto the linked stream.
import { decode, LDDW, type Instruction } from '../isa/instruction.js';
import type { MapReference } from '../isa/relocation.js';
import {
  BPF_CALL, BPF_CLASS, BPF_JMP, BPF_OP, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_INSN_SIZE,
} from '../isa/opcodes.js';
import type { BtfExt } from '../btf/ext.js';
import type { ElfFile, ElfSection, ElfSymbol } from '../elf/reader.js';
import { R_BPF_64_32, R_BPF_64_64, R_BPF_64_ABS32, R_BPF_64_ABS64, R_BPF_64_NODYLD32, R_BPF_NONE, SHN_UNDEF, SHT_REL, SHT_RELA, STT_FUNC } from '../elf/constants.js';
import type { PlacedMap } from './maps.js';
import {
  ObjectError, type ExternSpec, type KsymRef, type ProgramCoreRelo, type ProgramFuncInfo, type ProgramLineInfo,
} from './spec.js';

/** One function's code: a symbol's range of slots in an executable section. */
export interface Func {
  name: string;
  section: CodeSection;
  /** first and one-past-last slot in the section */
  start: number;
  end: number;
  global: boolean;
}

/** An executable section, decoded, with its relocations by slot. */
export interface CodeSection {
  sec: ElfSection;
  insns: Instruction[];
  relocs: Map<number, { symbol: ElfSymbol; type: number }>;
  funcs: Func[];
}

export interface LinkContext {
  elf: ElfFile;
  symbols: readonly ElfSymbol[];
  code: Map<number, CodeSection>;
  maps: PlacedMap[];
  externs: ExternSpec[];
  btfExt?: BtfExt;
}

/** Decode every executable section and its functions and relocations. */
export function readCode(elf: ElfFile, symbols: readonly ElfSymbol[], execSections: ElfSection[]): Map<number, CodeSection> {
  const out = new Map<number, CodeSection>();
  for (const sec of execSections) {
    const bytes = elf.data(sec);
    if (bytes.length % BPF_INSN_SIZE) throw new ObjectError(`section '${sec.name}': size ${bytes.length} is not a multiple of ${BPF_INSN_SIZE}`);
    const insns = decode(bytes);
    const cs: CodeSection = { sec, insns, relocs: new Map(), funcs: [] };
    const syms = symbols
      .filter((s) => s.shndx === sec.index && s.type === STT_FUNC)
      .sort((a, b) => Number(a.value - b.value));
    syms.forEach((s, i) => {
      const startB = Number(s.value);
      const next = syms[i + 1];
      const endB = s.size > 0n ? startB + Number(s.size) : next ? Number(next.value) : bytes.length;
      if (startB % BPF_INSN_SIZE || endB % BPF_INSN_SIZE || endB > bytes.length || endB <= startB) {
        throw new ObjectError(`function '${s.name}' in '${sec.name}': bad range ${startB}..${endB} (section ${bytes.length} bytes)`);
      }
      cs.funcs.push({ name: s.name, section: cs, start: startB / 8, end: endB / 8, global: s.bind !== 0 });
    });
    out.set(sec.index, cs);
  }
  for (const rel of elf.sections) {
    if (rel.type !== SHT_REL && rel.type !== SHT_RELA) continue;
    const cs = out.get(rel.info);
    if (!cs) continue;
    // BPF backends write REL; an addend elsewhere than in the instruction is not something libbpf reads either
    if (rel.type === SHT_RELA) throw new ObjectError(`${rel.name}: RELA relocations on BPF code are not supported`);
    for (const r of elf.relocations(rel)) {
      if (r.type === R_BPF_NONE) continue;
      const symbol = symbols[r.symbol];
      if (!symbol) throw new ObjectError(`${rel.name}: symbol index ${r.symbol} out of range`);
      if (r.offset % BPF_INSN_SIZE || r.offset / BPF_INSN_SIZE >= cs.insns.length) {
        throw new ObjectError(`${rel.name}: relocation offset ${r.offset} is not an instruction of '${cs.sec.name}'`);
      }
      cs.relocs.set(r.offset / BPF_INSN_SIZE, { symbol, type: r.type });
    }
  }
  return out;
}

/** The function of `cs` that starts at `slot`. */
function funcAt(cs: CodeSection, slot: number, what: string): Func {
  const f = cs.funcs.find((x) => x.start === slot);
  if (!f) throw new ObjectError(`${what}: no function starts at instruction ${slot} of '${cs.sec.name}'`);
  return f;
}

export interface LinkedProgram {
  instructions: Instruction[];
  mapRefs: MapReference[];
  ksymRefs: KsymRef[];
  funcInfo: ProgramFuncInfo[];
  lineInfo: ProgramLineInfo[];
  coreRelos: ProgramCoreRelo[];
  subprograms: { name: string; slot: number }[];
}

const isCall = (i: Instruction) => BPF_CLASS(i.code) === BPF_JMP && BPF_OP(i.code) === BPF_CALL;

/** Link entry function `entry`: copy it, then every subprogram it reaches, fixing references. */
export function linkProgram(ctx: LinkContext, entry: Func): LinkedProgram {
  const out: LinkedProgram = { instructions: [], mapRefs: [], ksymRefs: [], funcInfo: [], lineInfo: [], coreRelos: [], subprograms: [] };
  const placed = new Map<Func, number>();
  const queue: Func[] = [];
  const place = (f: Func): number => {
    let at = placed.get(f);
    if (at === undefined) {
      at = out.instructions.length;
      placed.set(f, at);
      for (let i = f.start; i < f.end; i++) out.instructions.push({ ...f.section.insns[i]! });
      copyExt(ctx.btfExt, f, at, out);
      if (f !== entry) out.subprograms.push({ name: f.name, slot: at });
      queue.push(f);
    }
    return at;
  };
  place(entry);
  while (queue.length) {
    const f = queue.shift()!;
    const base = placed.get(f)!;
    for (let i = f.start; i < f.end; i++) {
      const k = base + (i - f.start);
      const insn = out.instructions[k]!;
      const rel = f.section.relocs.get(i);
      const where = `program '${entry.name}', instruction ${i} of '${f.section.sec.name}'`;
      if (insn.code === LDDW) {
        if (i + 1 >= f.end) throw new ObjectError(`${where}: lddw truncated at the end of '${f.name}'`);
        if (rel) relocateLddw(ctx, out, insn, out.instructions[k + 1]!, k, rel, where, place);
        i++; // the second slot of lddw is data
        continue;
      }
      if (isCall(insn) && insn.src === BPF_PSEUDO_CALL) {
        let target: Func;
        if (rel) {
          if (rel.type !== R_BPF_64_32) throw new ObjectError(`${where}: call relocation of type ${rel.type}`);
          const sym = rel.symbol;
          if (sym.shndx === SHN_UNDEF) {
            // a call to an extern function: a kfunc the loader resolves in kernel BTF
            const ext = ctx.externs.find((e) => e.name === sym.name && e.kind === 'ksym');
            if (!ext) throw new ObjectError(`${where}: call to undefined function '${sym.name}'`);
            insn.src = BPF_PSEUDO_KFUNC_CALL;
            insn.imm = 0;
            out.ksymRefs.push({ slot: k, name: sym.name, kind: 'func', typeId: ext.btfId, weak: ext.weak });
            continue;
          }
          const cs = ctx.code.get(sym.shndx);
          if (!cs) throw new ObjectError(`${where}: call into non-code section ${sym.shndx}`);
          // section symbol: imm + 1 is the callee's slot; function symbol: imm is -1
          target = funcAt(cs, Number(sym.value) / BPF_INSN_SIZE + insn.imm + 1, where);
        } else {
          // a call inside one section carries no relocation: imm is relative to this instruction
          target = funcAt(f.section, i + insn.imm + 1, where);
        }
        if (target === entry && f.section !== entry.section) throw new ObjectError(`${where}: calls the entry program`);
        insn.imm = place(target) - k - 1;
        continue;
      }
      if (rel) throw new ObjectError(`${where}: relocation (type ${rel.type}) on an instruction that is neither lddw nor call`);
    }
  }
  // The kernel wants func_info and line_info sorted by instruction.
  out.funcInfo.sort((a, b) => a.insnOff - b.insnOff);
  out.lineInfo.sort((a, b) => a.insnOff - b.insnOff);
  return out;
}

function relocateLddw(
  ctx: LinkContext, out: LinkedProgram, insn: Instruction, hi: Instruction, k: number,
  rel: { symbol: ElfSymbol; type: number }, where: string, place: (f: Func) => number,
): void {
  if (rel.type !== R_BPF_64_64 && rel.type !== R_BPF_64_ABS64 && rel.type !== R_BPF_64_ABS32 && rel.type !== R_BPF_64_NODYLD32) {
    throw new ObjectError(`${where}: lddw relocation of type ${rel.type}`);
  }
  const sym = rel.symbol;
  if (sym.shndx === SHN_UNDEF) {
    const ext = ctx.externs.find((e) => e.name === sym.name);
    if (!ext) throw new ObjectError(`${where}: reference to undefined symbol '${sym.name}'`);
    if (ext.kind === 'kconfig') {
      const map = ctx.maps.find((m) => m.spec.origin === 'kconfig');
      setMapRef(out, insn, hi, k, map!.spec.name, 'value', ext.offset);
    } else {
      insn.src = BPF_PSEUDO_BTF_ID;
      insn.imm = 0;
      hi.imm = 0;
      out.ksymRefs.push({ slot: k, name: sym.name, kind: ext.func ? 'func' : 'var', typeId: ext.btfId, weak: ext.weak });
    }
    return;
  }
  const cs = ctx.code.get(sym.shndx);
  if (cs) {
    // address of a function (callback for bpf_loop, bpf_for_each_map_elem, timers)
    // section symbol: imm holds the byte offset; function symbol: st_value does (imm 0)
    const byteOff = Number(sym.value) + insn.imm;
    if (byteOff % BPF_INSN_SIZE) throw new ObjectError(`${where}: function address ${byteOff} is not instruction-aligned`);
    const target = funcAt(cs, byteOff / BPF_INSN_SIZE, where);
    insn.src = BPF_PSEUDO_FUNC;
    insn.imm = place(target) - k - 1;
    hi.imm = 0;
    return;
  }
  const value = Number(sym.value);
  const map = ctx.maps.find((m) => m.shndx === sym.shndx && (m.spec.origin === 'btf' || m.spec.origin === 'legacy' ? m.offset === value : true));
  if (!map) {
    const sec = ctx.elf.sections[sym.shndx];
    throw new ObjectError(`${where}: reference to '${sym.name || sec?.name}' in section '${sec?.name ?? sym.shndx}', which is neither a map nor global data`);
  }
  if (map.spec.origin === 'btf' || map.spec.origin === 'legacy') {
    setMapRef(out, insn, hi, k, map.spec.name, 'fd', 0);
  } else {
    // global data: the byte offset is the symbol's plus the addend clang left in imm
    const offset = value + insn.imm;
    if (offset < 0 || offset > map.spec.valueSize) throw new ObjectError(`${where}: offset ${offset} outside '${map.spec.section}' (${map.spec.valueSize} bytes)`);
    setMapRef(out, insn, hi, k, map.spec.name, 'value', offset);
  }
}

function setMapRef(out: LinkedProgram, insn: Instruction, hi: Instruction, slot: number, map: string, kind: 'fd' | 'value', offset: number): void {
  insn.src = kind === 'fd' ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
  insn.imm = 0;
  hi.imm = kind === 'value' ? offset : 0;
  out.mapRefs.push({ slot, map, kind, offset });
}

/** Copy the .BTF.ext records of function `f` (placed at slot `at`) into the program, in slots. */
function copyExt(ext: BtfExt | undefined, f: Func, at: number, out: LinkedProgram): void {
  if (!ext) return;
  const name = f.section.sec.name;
  const lo = f.start * BPF_INSN_SIZE;
  const hi = f.end * BPF_INSN_SIZE;
  const slot = (byteOff: number) => at + (byteOff - lo) / BPF_INSN_SIZE;
  for (const r of ext.funcInfo.get(name) ?? []) {
    if (r.insnOff >= lo && r.insnOff < hi) out.funcInfo.push({ insnOff: slot(r.insnOff), typeId: r.typeId });
  }
  for (const r of ext.lineInfo.get(name) ?? []) {
    if (r.insnOff >= lo && r.insnOff < hi) out.lineInfo.push({ ...r, insnOff: slot(r.insnOff) });
  }
  for (const r of ext.coreRelos.get(name) ?? []) {
    if (r.insnOff >= lo && r.insnOff < hi) out.coreRelos.push({ insnOff: slot(r.insnOff), typeId: r.typeId, accessStr: r.accessStr, kind: r.kind });
  }
}

// Script text → a CollectionSpec, the loader's input: parse, expand wildcard attach points, check
// (tracepoint formats, kernel BTF), generate one program per probe unit, and describe the programs
// (SEC() names, source lines) and maps as an object file would. Pure: what a script needs of a
// machine (its tracepoints and their formats, traceable functions, kernel BTF, symbol addresses, the
// clock, the architecture) comes in as a ScriptMachine, so scripts compile in a browser too
// (tsbpf/vm); compile.ts supplies this machine's.
import type { Btf } from '../btf/btf.js';
import { collectionSpec, lineInfoOf, programSpec } from '../object/compiled.js';
import type { CollectionSpec } from '../object/spec.js';
import type { Pos, Program } from './ast.js';
import type { HelperErrorOptions } from './codegen/helper-errors.js';
import { INT64, UINT64 } from './types.js';
import type { UsdtNote } from './usdt.js';
import { check, type Checked } from './checker/checker.js';
import { generate, type CompiledUnit } from './codegen/unit.js';
import { substitutePositionals } from './positional.js';
import { expandWildcards } from './expand.js';
import { scriptMaps } from './maps.js';
import { parse } from './parser.js';

/** What compiling a script asks of the machine it is for. Each part may be missing (no kernel): the script then cannot use it. */
export interface ScriptMachine {
  /** `category:event` of every tracepoint (wildcard expansion) */
  tracepoints?(): string[];
  /** a tracepoint's format file (tracefs events/CAT/EV/format) */
  tracepointFormat?(category: string, event: string): string | undefined;
  /** the USDT notes of an executable or library (usdt probes) */
  usdtProbes?(path: string): UsdtNote[];
  /** the address of a symbol of an executable or library (uaddr()) */
  userSymbol?(path: string, name: string): bigint | undefined;
  /** the functions and types of an executable or library, from its DWARF as BTF (uprobe args); undefined without debug information */
  userBtf?(path: string): Btf | undefined;
  /** function names of an executable or library (uprobe wildcards) */
  userFunctions?(path: string): string[];
  /** functions kprobes can attach to (available_filter_functions) */
  traceableFunctions?(): string[];
  /** the kernel's BTF (kfunc arguments, struct types, pt_regs) */
  btf?(): Btf | undefined;
  /** a kernel symbol's address (kaddr()) */
  kaddr?(name: string): bigint | undefined;
  /** CLOCK_MONOTONIC ns now (the default startNs) */
  now?(): bigint;
  /** the architecture the programs run on, as Node names it (x64, arm64): where probe arguments are */
  arch?: string;
}

export interface CompileOptions {
  fileName?: string;
  params?: string[];
  unsafe?: boolean;
  /** CLOCK_MONOTONIC ns at start (for `elapsed`); default the machine's now() */
  startNs?: bigint;
  /** pid of the -c command, for $cpid */
  cpid?: number;
  /** -k (1) / -kk (2): helper calls that fail print a warning */
  helperErrors?: number;
}

export interface CompiledScript {
  program: Program;
  checked: Checked;
  units: CompiledUnit[];
  /** -k/-kk: the helper calls checked, by the index their warnings carry */
  helperSites?: { pos: Pos; helper: string }[];
  /** what Collection (kernel) and the VM load */
  spec: CollectionSpec;
  source: string;
  fileName: string;
}

/** Compile a script for `machine`; throws ScriptError (with position and caret) for a bad one. */
export function compileScriptFor(source: string, machine: ScriptMachine, o: CompileOptions = {}): CompiledScript {
  const fileName = o.fileName ?? 'stdin';
  const params = o.params ?? [];
  const program = parse(source, fileName);
  substitutePositionals(program, params);
  let btf: Btf | undefined;
  let btfTried = false;
  const kernelBtf = (): Btf | undefined => {
    if (!btfTried) {
      btfTried = true;
      try {
        btf = machine.btf?.();
      } catch {
        btf = undefined;
      }
    }
    return btf;
  };
  expandWildcards(program, { ...machine, btf: kernelBtf }, source, fileName);
  const checked = check(program, {
    tracepointFormat: (cat, ev) => (/^[\w.-]+$/.test(cat) && /^[\w.-]+$/.test(ev) ? machine.tracepointFormat?.(cat, ev) : undefined),
    btf: kernelBtf,
    arch: machine.arch,
    params,
    unsafe: o.unsafe ?? false,
    userSymbol: machine.userSymbol,
    userBtf: machine.userBtf,
    usdtProbes: machine.usdtProbes,
  }, source, fileName);
  let helperErrors: HelperErrorOptions | undefined;
  if (o.helperErrors) {
    // one event format for every warning: [format][return value][site]
    helperErrors = { level: o.helperErrors >= 2 ? 2 : 1, format: checked.formats.length, sites: [] };
    checked.formats.push({ kind: 'helper_error', fmt: '', args: [INT64, UINT64] });
  }
  const units = generate(checked, { startNs: o.startNs ?? machine.now?.() ?? 0n, params, cpid: o.cpid, kaddr: (name) => machine.kaddr?.(name), helperErrors });
  return { program, checked, units, spec: scriptSpec(checked, units, source, fileName), source, fileName, helperSites: helperErrors?.sites };
}

/** The programs and maps of a compiled script, as an object file would describe them. */
export function scriptSpec(checked: Checked, units: CompiledUnit[], source: string, fileName: string): CollectionSpec {
  const programs = units.map((u) => programSpec({
    name: u.name, section: u.section, instructions: u.insns, mapRefs: u.mapRefs, lineInfo: lineInfoOf(u.spans, source, fileName),
  }));
  const used = new Set(units.flatMap((u) => u.mapRefs.map((r) => r.map)));
  return collectionSpec('script', programs, scriptMaps(checked.maps.values(), used));
}

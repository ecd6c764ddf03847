// Script text → a CollectionSpec, the loader's input: parse, expand wildcard attach points, check
// (tracepoint formats, kernel BTF), generate one program per probe unit, and describe the programs
// (SEC() names, source lines) and maps. Pure: what it needs of the machine comes in a ScriptEnv
// (run/host.ts gives this machine's).
import { collectionSpec, lineInfoOf, programSpec } from '../object/compiled.js';
import type { CollectionSpec } from '../object/spec.js';
import type { Program } from './ast.js';
import { check, type Checked } from './checker/checker.js';
import { generate, type CompiledUnit } from './codegen/unit.js';
import type { CompileOptions, ScriptEnv } from './env.js';
import { expandWildcards } from './expand.js';
import { scriptMaps } from './maps.js';
import { parse } from './parser.js';

export type { CompileOptions, ScriptEnv };

export interface CompiledScript {
  program: Program;
  checked: Checked;
  units: CompiledUnit[];
  /** what Collection (kernel) and the VM load */
  spec: CollectionSpec;
  source: string;
  fileName: string;
}

export function compile(source: string, env: ScriptEnv, o: CompileOptions = {}): CompiledScript {
  const fileName = o.fileName ?? 'stdin';
  const params = o.params ?? [];
  const program = parse(source, fileName);
  expandWildcards(program, env, source, fileName);
  const checked = check(program, { tracepointFormat: env.tracepointFormat, btf: env.btf, arch: env.arch, params, unsafe: o.unsafe ?? false }, source, fileName);
  const units = generate(checked, { startNs: o.startNs ?? env.now(), params, cpid: o.cpid, kaddr: (n) => env.kernelSymbol(n) });
  return { program, checked, units, spec: scriptSpec(checked, units, source, fileName), source, fileName };
}

/** The programs and maps of a compiled script, as an object file would describe them. */
export function scriptSpec(checked: Checked, units: CompiledUnit[], source: string, fileName: string): CollectionSpec {
  const programs = units.map((u) => programSpec({
    name: u.name, section: u.section, instructions: u.insns, mapRefs: u.mapRefs, lineInfo: lineInfoOf(u.spans, source, fileName),
  }));
  const used = new Set(units.flatMap((u) => u.mapRefs.map((r) => r.map)));
  return collectionSpec('script', programs, scriptMaps(checked.maps.values(), used));
}

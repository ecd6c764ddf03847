// Script text → checked, generated programs: parse, expand wildcard attach points, check, generate
// bytecode. Pure: what the script needs of a machine (its tracepoints and their formats, traceable
// functions, kernel BTF, symbol addresses, the clock) comes in as a ScriptMachine, so scripts compile
// in a browser too (tsbpf/vm); src/script/compile.ts supplies this machine's.
import type { AttachPoint, Program } from './ast.js';
import { check, type Checked } from './checker.js';
import { generate, type CompiledUnit } from './codegen.js';
import { ScriptError } from './error.js';
import { parse } from './parser.js';
import { hasWildcard, provider, wildcardMatch } from './probes.js';
import { BtfKind } from '../btf/types.js';
import type { Btf } from '../btf/btf.js';

export interface CompileOptions {
  fileName?: string;
  params?: string[];
  unsafe?: boolean;
  /** CLOCK_MONOTONIC ns at start (for `elapsed`); default the machine's now() */
  startNs?: bigint;
  /** pid of the -c command, for $cpid */
  cpid?: number;
}

export interface CompiledScript {
  program: Program;
  checked: Checked;
  units: CompiledUnit[];
  source: string;
  fileName: string;
}

/** What compiling a script asks of the machine it is for. Each part may be missing (no kernel): the script then cannot use it. */
export interface ScriptMachine {
  /** `category:event` of every tracepoint (wildcard expansion) */
  tracepoints?(): string[];
  /** a tracepoint's format file (tracefs events/CAT/EV/format) */
  tracepointFormat?(category: string, event: string): string | undefined;
  /** functions kprobes can attach to (available_filter_functions) */
  traceableFunctions?(): string[];
  /** the kernel's BTF (kfunc arguments, struct types) */
  btf?(): Btf | undefined;
  /** a kernel symbol's address (kaddr()) */
  kaddr?(name: string): bigint | undefined;
  /** CLOCK_MONOTONIC ns now (the default startNs) */
  now?(): bigint;
}

const FUNCTION_PROVIDERS = new Set(['kprobe', 'kretprobe', 'kfunc', 'kretfunc']);

/** Names of the functions in the kernel's BTF (kfunc targets). */
function btfFunctionNames(btf: () => Btf | undefined): Set<string> {
  const b = btf();
  const names = new Set<string>();
  if (b) for (const t of b.types) if (t.kind === BtfKind.FUNC) names.add(t.name);
  return names;
}

/** Wildcard attach points become one per match: tracepoints from tracefs, functions from available_filter_functions. */
function expand(prog: Program, source: string, fileName: string, btf: () => Btf | undefined, machine: ScriptMachine): void {
  let tps: string[] | undefined;
  let kfuncs: Set<string> | undefined;
  for (const probe of prog.probes) {
    const aps: AttachPoint[] = [];
    for (const ap of probe.attachPoints) {
      const prov = provider(ap);
      const last = ap.parts[ap.parts.length - 1]!;
      if (prov === 'tracepoint' && ap.parts.length === 3 && (hasWildcard(ap.parts[1]!) || hasWildcard(ap.parts[2]!))) {
        tps ??= machine.tracepoints?.() ?? [];
        const pat = `${ap.parts[1]}:${ap.parts[2]}`;
        const hits = tps.filter((t) => wildcardMatch(pat, t));
        if (!hits.length) throw new ScriptError(`No probes matched: ${ap.raw}`, ap.pos, source, fileName);
        for (const h of hits) aps.push({ raw: `tracepoint:${h}`, parts: ['tracepoint', ...h.split(':')], pos: ap.pos });
      } else if (FUNCTION_PROVIDERS.has(prov) && ap.parts.length >= 2 && hasWildcard(last)) {
        let hits = (machine.traceableFunctions?.() ?? []).filter((f) => wildcardMatch(last, f));
        if (prov === 'kfunc' || prov === 'kretfunc') {
          kfuncs ??= btfFunctionNames(btf);
          hits = hits.filter((f) => kfuncs!.has(f));
        }
        if (!hits.length) throw new ScriptError(`No probes matched: ${ap.raw}`, ap.pos, source, fileName);
        for (const h of hits.sort()) aps.push({ raw: `${prov}:${h}`, parts: [prov, h], pos: ap.pos });
      } else aps.push(ap);
    }
    probe.attachPoints = aps;
  }
}

/** Compile a script for `machine`; throws ScriptError (with position and caret) for a bad one. */
export function compileScriptFor(source: string, machine: ScriptMachine, o: CompileOptions = {}): CompiledScript {
  const fileName = o.fileName ?? 'stdin';
  const program = parse(source, fileName);
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
  expand(program, source, fileName, kernelBtf, machine);
  const checked = check(program, {
    tracepointFormat: (cat, ev) => (/^[\w.-]+$/.test(cat) && /^[\w.-]+$/.test(ev) ? machine.tracepointFormat?.(cat, ev) : undefined),
    btf: kernelBtf,
    params: o.params ?? [],
    unsafe: o.unsafe ?? false,
  }, source, fileName);
  const units = generate(checked, { startNs: o.startNs ?? machine.now?.() ?? 0n, params: o.params ?? [], cpid: o.cpid, kaddr: (name) => machine.kaddr?.(name) });
  return { program, checked, units, source, fileName };
}

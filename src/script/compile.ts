// Script text → checked, generated programs: parse, expand wildcard attach points against the
// machine, check (tracepoint formats from tracefs, types from kernel BTF), generate bytecode.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttachPoint, Program } from './ast.js';
import { check, type Checked } from './checker.js';
import { generate, type CompiledUnit } from './codegen.js';
import { ScriptError } from './error.js';
import { parse } from './parser.js';
import { hasWildcard, provider, wildcardMatch } from './probes.js';
import { traceableFunctions, tracefsRoot } from '../tracefs/tracefs.js';
import { BtfKind } from '../btf/types.js';
import { vmlinuxBtf } from '../kernel/vmlinux.js';
import type { Btf } from '../btf/btf.js';

export interface CompileOptions {
  fileName?: string;
  params?: string[];
  unsafe?: boolean;
  /** CLOCK_MONOTONIC ns at start (for `elapsed`); default now */
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

/** Tracepoint categories/events, from tracefs's events/ directory. */
export function listTracepoints(): string[] {
  const dir = join(tracefsRoot(), 'events');
  const out: string[] = [];
  for (const cat of readdirSync(dir, { withFileTypes: true })) {
    if (!cat.isDirectory()) continue;
    for (const ev of readdirSync(join(dir, cat.name), { withFileTypes: true })) {
      if (ev.isDirectory()) out.push(`${cat.name}:${ev.name}`);
    }
  }
  return out.sort();
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
function expand(prog: Program, source: string, fileName: string, btf: () => Btf | undefined): void {
  let tps: string[] | undefined;
  let kfuncs: Set<string> | undefined;
  for (const probe of prog.probes) {
    const aps: AttachPoint[] = [];
    for (const ap of probe.attachPoints) {
      const prov = provider(ap);
      const last = ap.parts[ap.parts.length - 1]!;
      if (prov === 'tracepoint' && ap.parts.length === 3 && (hasWildcard(ap.parts[1]!) || hasWildcard(ap.parts[2]!))) {
        tps ??= listTracepoints();
        const pat = `${ap.parts[1]}:${ap.parts[2]}`;
        const hits = tps.filter((t) => wildcardMatch(pat, t));
        if (!hits.length) throw new ScriptError(`No probes matched: ${ap.raw}`, ap.pos, source, fileName);
        for (const h of hits) aps.push({ raw: `tracepoint:${h}`, parts: ['tracepoint', ...h.split(':')], pos: ap.pos });
      } else if (FUNCTION_PROVIDERS.has(prov) && ap.parts.length >= 2 && hasWildcard(last)) {
        let hits = traceableFunctions().filter((f) => wildcardMatch(last, f));
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

/** Address of a kernel symbol of any kind (kaddr()), from /proc/kallsyms. */
export function kernelSymbolAddress(name: string): bigint | undefined {
  const text = readFileSync('/proc/kallsyms', 'utf8');
  const m = new RegExp(`^([0-9a-f]+) \\S ${name.replace(/[^\w.]/g, '')}$`, 'm').exec(text);
  return m ? BigInt('0x' + m[1]) : undefined;
}

export function compileScript(source: string, o: CompileOptions = {}): CompiledScript {
  const fileName = o.fileName ?? 'stdin';
  const program = parse(source, fileName);
  let btf: Btf | undefined;
  let btfTried = false;
  const kernelBtf = (): Btf | undefined => {
    if (!btfTried) {
      btfTried = true;
      try {
        btf = vmlinuxBtf();
      } catch {
        btf = undefined;
      }
    }
    return btf;
  };
  expand(program, source, fileName, kernelBtf);
  const checked = check(program, {
    tracepointFormat: (cat, ev) => {
      if (!/^[\w.-]+$/.test(cat) || !/^[\w.-]+$/.test(ev)) return undefined;
      const p = join(tracefsRoot(), 'events', cat, ev, 'format');
      return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
    },
    btf: kernelBtf,
    params: o.params ?? [],
    unsafe: o.unsafe ?? false,
  }, source, fileName);
  const units = generate(checked, { startNs: o.startNs ?? process.hrtime.bigint(), params: o.params ?? [], cpid: o.cpid, kaddr: kernelSymbolAddress });
  return { program, checked, units, source, fileName };
}

// Scripts compiled for this machine: tracepoints and their formats from tracefs, traceable functions,
// kernel BTF and symbols from /proc and /sys (the compiler itself is compile-for.ts, pure).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileScriptFor, type CompileOptions, type CompiledScript, type ScriptMachine } from './compile-for.js';
import { traceableFunctions, tracefsRoot } from '../tracefs/tracefs.js';
import { vmlinuxBtf } from '../kernel/vmlinux.js';

export type { CompileOptions, CompiledScript };

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

/** Address of a kernel symbol of any kind (kaddr()), from /proc/kallsyms. */
export function kernelSymbolAddress(name: string): bigint | undefined {
  const text = readFileSync('/proc/kallsyms', 'utf8');
  const m = new RegExp(`^([0-9a-f]+) \\S ${name.replace(/[^\w.]/g, '')}$`, 'm').exec(text);
  return m ? BigInt('0x' + m[1]) : undefined;
}

/** This machine, as a script compiler sees it. */
export const hostMachine: ScriptMachine = {
  tracepoints: listTracepoints,
  tracepointFormat: (cat, ev) => {
    const p = join(tracefsRoot(), 'events', cat, ev, 'format');
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  },
  traceableFunctions,
  btf: vmlinuxBtf,
  kaddr: kernelSymbolAddress,
  now: () => process.hrtime.bigint(),
};

/** Compile a script for this machine. */
export function compileScript(source: string, o: CompileOptions = {}): CompiledScript {
  return compileScriptFor(source, hostMachine, o);
}

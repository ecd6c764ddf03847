// Scripts compiled for this machine: tracepoints and their formats from tracefs, traceable functions,
// kernel BTF and symbols from /proc and /sys, the architecture (the compiler itself is compile-for.ts,
// pure).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kallsymsAddress } from '../kernel/kallsyms.js';
import { vmlinuxBtf } from '../kernel/vmlinux.js';
import { traceableFunctions, tracefsRoot, tracepoints } from '../tracefs/tracefs.js';
import { parseElf } from '../elf/reader.js';
import { usdtProbes } from '../elf/usdt.js';
import { functionSymbols, symbolOffset, vaddrToOffset } from '../elf/symbols.js';
import { listUprobes, uprobeFile, userBtf } from './uprobe-target.js';
import { compileScriptFor, type CompileOptions, type CompiledScript, type ScriptMachine } from './compile-for.js';

export type { CompileOptions, CompiledScript };

/** Tracepoint categories/events, from tracefs's events/ directory, as `category:event`. */
export function listTracepoints(): string[] {
  return tracepoints().flatMap((cat) => tracepoints(cat).map((ev) => `${cat}:${ev}`)).sort();
}

/** This machine, as a script compiler sees it (its BTF read only when a script needs it). */
export const hostMachine: ScriptMachine = {
  tracepoints: listTracepoints,
  tracepointFormat: (cat, ev) => {
    const p = join(tracefsRoot(), 'events', cat, ev, 'format');
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  },
  traceableFunctions,
  userFunctions: (path) => listUprobes(path, () => true, { parseElf, functionSymbols, symbolOffset, vaddrToOffset } as never).map((l) => l.slice(l.lastIndexOf(':') + 1)),
  userSymbol: (path, name) => {
    const elf = parseElf(new Uint8Array(readFileSync(uprobeFile(path))));
    const s = [...elf.symbols(), ...elf.dynamicSymbols()].find((x) => x.name === name && x.shndx !== 0);
    return s?.value;
  },
  userBtf,
  usdtProbes: (path) => usdtProbes(parseElf(new Uint8Array(readFileSync(uprobeFile(path))))),
  btf: vmlinuxBtf,
  kaddr: kallsymsAddress,
  now: () => process.hrtime.bigint(),
  arch: process.arch,
};

/** Compile a script for this machine. */
export function compileScript(source: string, o: CompileOptions = {}): CompiledScript {
  return compileScriptFor(source, hostMachine, o);
}

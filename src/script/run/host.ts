// The machine a script is compiled for and runs on, as the compiler asks about it (a ScriptEnv):
// tracepoints from tracefs, the kernel's BTF, kernel symbols, the architecture; and what printing
// its output needs of the machine (symbols, user names, files, commands).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Btf } from '../../btf/btf.js';
import { kallsymsAddress } from '../../kernel/kallsyms.js';
import { vmlinuxBtf } from '../../sys/vmlinux.js';
import { traceableFunctions, tracefsRoot, tracepoints } from '../../tracefs/tracefs.js';
import { compile, type CompiledScript } from '../compile.js';
import type { CompileOptions, ScriptEnv } from '../env.js';

/** Tracepoint categories/events, from tracefs's events/ directory, as `category:event`. */
export function listTracepoints(): string[] {
  return tracepoints().flatMap((cat) => tracepoints(cat).map((ev) => `${cat}:${ev}`)).sort();
}

/** This machine, asked lazily: a script that needs no BTF never reads it. */
export function hostEnv(): ScriptEnv {
  let btf: Btf | undefined;
  let btfTried = false;
  return {
    tracepointFormat: (cat, ev) => {
      if (!/^[\w.-]+$/.test(cat) || !/^[\w.-]+$/.test(ev)) return undefined;
      const p = join(tracefsRoot(), 'events', cat, ev, 'format');
      return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
    },
    btf: () => {
      if (!btfTried) {
        btfTried = true;
        try {
          btf = vmlinuxBtf();
        } catch {
          btf = undefined;
        }
      }
      return btf;
    },
    tracepoints: listTracepoints,
    kernelFunctions: traceableFunctions,
    kernelSymbol: kallsymsAddress,
    arch: process.arch,
    now: () => process.hrtime.bigint(),
  };
}

/** Compile a script for this machine. */
export function compileScript(source: string, o: CompileOptions = {}): CompiledScript {
  return compile(source, hostEnv(), o);
}

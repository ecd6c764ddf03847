// What compiling a script needs to know about the machine it will run on. The compiler is pure: the
// runtime hands it this machine's answers (run/host.ts: tracefs, kernel BTF, /proc/kallsyms), and
// tests hand it their own.
import type { Btf } from '../btf/btf.js';

export interface ScriptEnv {
  /** text of tracefs events/CATEGORY/EVENT/format, or undefined if there is no such tracepoint */
  tracepointFormat(category: string, event: string): string | undefined;
  /** kernel BTF (vmlinux), loaded only when a script needs it */
  btf(): Btf | undefined;
  /** every tracepoint as `category:event` (for wildcards) */
  tracepoints(): string[];
  /** every traceable kernel function (for wildcards) */
  kernelFunctions(): string[];
  /** address of a kernel symbol (kaddr) */
  kernelSymbol(name: string): bigint | undefined;
  /** the architecture the programs run on, as Node names it (x64, arm64): where probe arguments are */
  arch: string;
  /** CLOCK_MONOTONIC in ns now, where `elapsed` starts counting */
  now(): bigint;
}

export interface CompileOptions {
  fileName?: string;
  params?: string[];
  unsafe?: boolean;
  /** CLOCK_MONOTONIC ns at start (for `elapsed`); default env.now() */
  startNs?: bigint;
  /** pid of the -c command, for $cpid */
  cpid?: number;
}

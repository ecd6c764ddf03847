// Reading the /proc files the symbolizers need, with missing or unreadable files as undefined.
import { readFileSync } from 'node:fs';
import { KernelSymbols } from './ksyms.js';
import { ProcessSymbols, type ElfSymbols } from './usyms.js';

export function readOptional(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    return undefined;
  }
}

let kernel: KernelSymbols | undefined;

/** /proc/kallsyms, parsed once per process. */
export function kernelSymbols(): KernelSymbols {
  kernel ??= KernelSymbols.parse(readFileSync('/proc/kallsyms', 'utf8'));
  return kernel;
}

const elfCache = new Map<string, ElfSymbols | null>();

/** A symbolizer for a live process (its maps are read now: call while it runs). */
export function processSymbols(pid: number): ProcessSymbols {
  return new ProcessSymbols(pid, readOptional, elfCache);
}

// Attach a loaded program where its SEC() name says (libbpf's auto-attach), through src/link/.
import type { ProgramSpec } from '../object/spec.js';
import { parseKprobeTarget, parseUprobeTarget } from '../object/sections.js';
import { attachKprobe, attachKprobeMulti, attachUprobe, attachUprobeMulti, resolveLibrary } from '../link/kprobe.js';
import { globMatcher, hasGlob } from '../object/glob.js';
import { parseElf } from '../elf/reader.js';
import { functionSymbols } from '../elf/symbols.js';
import { traceableFunctions } from '../tracefs/tracefs.js';
import { readFileSync } from 'node:fs';
import { attachPerfEvent } from '../link/perf-event.js';
import { attachRawTracepoint, attachTracepoint, attachTracing } from '../link/tracepoint.js';
import type { Link } from '../link/link.js';
import type { Program } from './program.js';

export interface AttachOptions {
  /** uprobes: only this process */
  pid?: number;
  /** perf_event programs: samples per second per CPU (default 99) */
  frequency?: number;
}

/** The syscall's kernel function for ksyscall/ programs (x86-64 and arm64 wrappers). */
function syscallFunction(name: string): string {
  const prefix = process.arch === 'arm64' ? '__arm64_sys_' : process.arch === 'x64' ? '__x64_sys_' : '__se_sys_';
  return `${prefix}${name}`;
}

/**
 * Attach `prog` as its spec's SEC() says; undefined when the SEC() names no target (xdp, tc, socket,
 * cgroup programs need an interface, socket or cgroup from the caller).
 */
export function attachProgram(prog: Program, spec: ProgramSpec, opts: AttachOptions = {}): Link | undefined {
  const { kind, target } = spec.attach;
  switch (kind) {
    case 'tracepoint': {
      const slash = target.indexOf('/');
      if (slash <= 0) return undefined;
      return attachTracepoint(prog, target.slice(0, slash), target.slice(slash + 1));
    }
    case 'raw_tracepoint':
    case 'raw_tracepoint_writable':
      return target ? attachRawTracepoint(prog, target) : undefined;
    case 'tp_btf':
    case 'fentry':
    case 'fexit':
    case 'fmod_ret':
    case 'lsm':
      return attachTracing(prog);
    case 'kprobe':
    case 'kretprobe': {
      if (!target) return undefined;
      const { func, offset } = parseKprobeTarget(target);
      return attachKprobe(prog, func, { retprobe: kind === 'kretprobe', offset });
    }
    case 'ksyscall':
    case 'kretsyscall':
      return target ? attachKprobe(prog, syscallFunction(target), { retprobe: kind === 'kretsyscall' }) : undefined;
    case 'uprobe':
    case 'uretprobe': {
      const t = parseUprobeTarget(target);
      if (!t) return undefined;
      const where = t.binary.includes('/') ? { path: t.binary } : { library: t.binary };
      return attachUprobe(prog, { ...where, symbol: t.func || undefined, offset: t.offset || undefined, pid: opts.pid, retprobe: kind === 'uretprobe' });
    }
    case 'kprobe_multi':
    case 'kretprobe_multi': {
      if (!target) return undefined;
      const symbols = hasGlob(target) ? traceableFunctions().filter(globMatcher(target)) : [target];
      if (!symbols.length) throw new Error(`${kind}/${target}: no kernel function matches (available_filter_functions)`);
      return attachKprobeMulti(prog, { symbols, retprobe: kind === 'kretprobe_multi' });
    }
    case 'uprobe_multi':
    case 'uretprobe_multi': {
      const t = parseUprobeTarget(target);
      if (!t || !t.func) return undefined;
      const path = resolveLibrary(t.binary);
      const match = globMatcher(t.func);
      const symbols = hasGlob(t.func) ? [...new Set(functionSymbols(parseElf(new Uint8Array(readFileSync(path)))).map((s) => s.name).filter(match))] : [t.func];
      if (!symbols.length) throw new Error(`${kind}/${target}: no function of ${path} matches`);
      return attachUprobeMulti(prog, { path, symbols, pid: opts.pid, retprobe: kind === 'uretprobe_multi' });
    }
    case 'perf_event':
      return attachPerfEvent(prog, { frequency: opts.frequency ?? 99 });
    default:
      return undefined;
  }
}

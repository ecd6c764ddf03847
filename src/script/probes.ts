// Attach points resolved to what they mean: bpftrace's providers, shorthands and units.
import type { AttachPoint } from './ast.js';
import { globMatcher, hasGlob } from '../object/glob.js';

export type ProbeSpec =
  | { type: 'BEGIN' }
  | { type: 'END' }
  | { type: 'tracepoint'; category: string; event: string }
  | { type: 'rawtracepoint'; event: string }
  | { type: 'kprobe' | 'kretprobe'; func: string; offset?: number }
  | { type: 'uprobe' | 'uretprobe'; path: string; func: string }
  /** a USDT probe (SystemTap SDT note) of an executable or library; provider optional as in bpftrace */
  | { type: 'usdt'; path: string; provider?: string; name: string }
  | { type: 'kfunc' | 'kretfunc'; func: string }
  | { type: 'profile' | 'interval'; unit: 'hz' | 's' | 'ms' | 'us'; n: number }
  | { type: 'software'; event: string; n: number };

const SHORT: Record<string, string> = {
  t: 'tracepoint', rt: 'rawtracepoint', k: 'kprobe', kr: 'kretprobe', u: 'uprobe', ur: 'uretprobe',
  f: 'kfunc', fr: 'kretfunc', U: 'usdt', p: 'profile', i: 'interval', s: 'software', fentry: 'kfunc', fexit: 'kretfunc',
};

export class ProbeSpecError extends Error {}

/** bpftrace's software events (aliases included) and their perf config (PERF_COUNT_SW_*). */
export const SOFTWARE_EVENTS: Readonly<Record<string, number>> = {
  'cpu-clock': 0, cpu: 0, 'task-clock': 1, 'page-faults': 2, faults: 2, 'context-switches': 3, cs: 3,
  'cpu-migrations': 4, migrations: 4, 'minor-faults': 5, 'major-faults': 6, 'alignment-faults': 7,
  'emulation-faults': 8, dummy: 9, 'bpf-output': 10,
};

/** The provider of an attach point, shorthands expanded (`t` → `tracepoint`). */
export function provider(ap: AttachPoint): string {
  const p = ap.parts[0]!;
  return SHORT[p] ?? p;
}

/** Resolve one attach point (wildcards are expanded before this: see runtime). */
export function probeSpec(ap: AttachPoint): ProbeSpec {
  const parts = ap.parts;
  const prov = provider(ap);
  const need = (n: number, form: string): void => {
    if (parts.length !== n || parts.slice(1).some((x) => x === '')) throw new ProbeSpecError(`${prov} probe must be ${form}`);
  };
  switch (prov) {
    case 'BEGIN': case 'END':
      need(1, prov);
      return { type: prov };
    case 'tracepoint':
      need(3, 'tracepoint:category:event');
      return { type: 'tracepoint', category: parts[1]!, event: parts[2]! };
    case 'rawtracepoint':
      if (parts.length === 3) return { type: 'rawtracepoint', event: parts[2]! };
      need(2, 'rawtracepoint:event');
      return { type: 'rawtracepoint', event: parts[1]! };
    case 'kprobe': case 'kretprobe': {
      const f = parts[parts.length - 1]!;
      if (parts.length < 2 || parts.length > 3 || !f) throw new ProbeSpecError(`${prov} probe must be ${prov}:function`);
      const m = /^([^+]+)\+(\d+|0x[0-9a-f]+)$/i.exec(f);
      return m ? { type: prov, func: m[1]!, offset: Number(m[2]) } : { type: prov, func: f };
    }
    case 'uprobe': case 'uretprobe':
      need(3, `${prov}:path:function`);
      return { type: prov, path: parts[1]!, func: parts[2]! };
    case 'usdt':
      if (parts.length === 3 && parts[1] && parts[2]) return { type: 'usdt', path: parts[1], name: parts[2] };
      need(4, 'usdt:path:[provider:]name');
      return { type: 'usdt', path: parts[1]!, provider: parts[2]!, name: parts[3]! };
    case 'kfunc': case 'kretfunc': {
      const f = parts[parts.length - 1]!;
      if (parts.length < 2 || parts.length > 3 || !f) throw new ProbeSpecError(`${prov} probe must be ${prov}:function`);
      return { type: prov, func: f };
    }
    case 'profile': case 'interval': {
      if (parts.length === 2 && /^\d+$/.test(parts[1]!)) return { type: prov, unit: prov === 'profile' ? 'hz' : 's', n: Number(parts[1]) };
      need(3, `${prov}:unit:count (unit: hz, s, ms, us)`);
      const unit = parts[1]!;
      if (!['hz', 's', 'ms', 'us'].includes(unit)) throw new ProbeSpecError(`${prov}: unknown unit '${unit}' (hz, s, ms, us)`);
      if (!/^\d+$/.test(parts[2]!) || Number(parts[2]) === 0) throw new ProbeSpecError(`${prov}: count must be a positive integer`);
      return { type: prov, unit: unit as 'hz', n: Number(parts[2]) };
    }
    case 'software':
      if (parts.length < 2) throw new ProbeSpecError('software probe must be software:event[:count]');
      // a semantic error, as bpftrace's (exit status 1), not a failure to attach
      if (!hasGlob(parts[1]!) && !Object.hasOwn(SOFTWARE_EVENTS, parts[1]!)) throw new ProbeSpecError(`${parts[1]} is not a software probe`);
      return { type: 'software', event: parts[1]!, n: parts[2] ? Number(parts[2]) : 0 };
    default:
      throw new ProbeSpecError(`Invalid probe type: ${prov}`);
  }
}

/** The text of the `probe` builtin for this spec, as bpftrace prints it. */
export function probeName(s: ProbeSpec): string {
  switch (s.type) {
    case 'BEGIN': case 'END': return s.type;
    case 'tracepoint': return `tracepoint:${s.category}:${s.event}`;
    case 'rawtracepoint': return `rawtracepoint:${s.event}`;
    case 'kprobe': case 'kretprobe': return `${s.type}:${s.func}${s.offset ? `+${s.offset}` : ''}`;
    case 'uprobe': case 'uretprobe': return `${s.type}:${s.path}:${s.func}`;
    case 'usdt': return `usdt:${s.path}:${s.provider ? `${s.provider}:` : ''}${s.name}`;
    case 'kfunc': case 'kretfunc': return `${s.type}:${s.func}`;
    case 'profile': case 'interval': return `${s.type}:${s.unit}:${s.n}`;
    case 'software': return `software:${s.event}:${s.n}`;
  }
}

/** The SEC() name of a probe's program: what tells the loader its type and where it attaches. */
export function probeSection(s: ProbeSpec): string {
  switch (s.type) {
    case 'BEGIN': case 'END': return 'raw_tp'; // no attach point: run by BPF_PROG_TEST_RUN
    case 'tracepoint': return `tracepoint/${s.category}/${s.event}`;
    case 'rawtracepoint': return `raw_tp/${s.event}`;
    case 'kprobe': return `kprobe/${s.func}${s.offset ? `+${s.offset}` : ''}`;
    case 'kretprobe': return `kretprobe/${s.func}`;
    case 'uprobe': case 'uretprobe': return `${s.type}/${s.path}:${s.func}`;
    case 'usdt': return `usdt/${s.path}:${s.provider ?? ''}:${s.name}`;
    case 'kfunc': return `fentry/${s.func}`;
    case 'kretfunc': return `fexit/${s.func}`;
    case 'profile': case 'interval': case 'software': return 'perf_event';
  }
}

/** The function name of `func` where it is fixed by the attach point. */
export function probeFunc(s: ProbeSpec): string | undefined {
  switch (s.type) {
    case 'kprobe': case 'kretprobe': case 'uprobe': case 'uretprobe': case 'kfunc': case 'kretfunc': return s.func;
    case 'tracepoint': return s.event;
    case 'rawtracepoint': return s.event;
    default: return undefined;
  }
}

/** Does a bpftrace wildcard pattern (`*` any run, `?` one char) match `text`? */
export function wildcardMatch(pattern: string, text: string): boolean {
  return globMatcher(pattern)(text);
}

export { hasGlob as hasWildcard };

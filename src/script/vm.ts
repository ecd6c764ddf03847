// Running a compiled script in tsbpf's VM instead of the kernel, where its probes allow it (BEGIN,
// END and interval fire without a kernel event): the same CollectionSpec loads (tsbpf's verifier
// checks it), BEGIN runs, intervals run on timers, END runs at exit, and the same session prints the
// events and maps. No privileges, no kernel: scripts are testable anywhere, in a browser too. The
// VM's task (pid, comm) is its own, its clock performance.now(), and it has no stacks or symbols.
import { objectInput } from '../vm/object.js';
import { Vm, type EngineName } from '../vm/vm.js';
import type { VmMap } from '../vm/maps/map.js';
import { compileScriptFor, type CompiledScript, type CompileOptions, type ScriptMachine } from './compile-for.js';
import { ScriptError } from './error.js';
import { EVENTS_MAP } from './maps.js';
import type { ProbeSpec } from './probes.js';
import { ScriptSession, type RawMap } from './session.js';

export interface VmRunOptions {
  /** where output goes */
  write: (s: string) => void;
  /** -f json */
  json?: boolean;
  /** -q: no `Attaching N probes...` */
  quiet?: boolean;
  /** stop (like Ctrl-C): END runs and the maps print */
  signal?: AbortSignal;
  /** the VM's engine (default: the JIT) */
  engine?: EngineName;
  /** what the programs see as the current task */
  task?: Partial<Vm['rt']['task']>;
  /** cat(): a file's text (default: an error line: the VM has no files) */
  readFile?: (path: string) => string;
  /** system(): a command's output (default: an error line: the VM runs no commands) */
  system?: (command: string) => string;
}

export interface VmRunResult {
  programs: number;
  /** the VM, with its maps as the run left them */
  vm: Vm;
}

/** bpf_perf_event_data: pt_regs (x86-64's, as the VM models it) and two u64s. */
const PERF_EVENT_DATA = 21 * 8 + 16;
/** the u64 arguments a raw tracepoint (BEGIN, END) may read */
const RAW_TP_ARGS = 12 * 8;
const UNIT_MS: Record<string, number> = { s: 1000, ms: 1, us: 0.001 };

/** The VM's CLOCK_MONOTONIC (what bpf_ktime_get_ns gives there). */
const vmNow = (): bigint => BigInt(Math.round((globalThis as { performance?: { now(): number } }).performance!.now() * 1e6));

/** The machine scripts run on in the VM: no tracepoints, functions or kernel BTF; its clock. */
export const vmMachine: ScriptMachine = {
  arch: 'x64', // the VM's pt_regs layout (vm/verifier/ctx-rules.ts)
  now: vmNow,
};

/** Compile a script for the VM. */
export function compileForVm(source: string, o: CompileOptions = {}): CompiledScript {
  return compileScriptFor(source, vmMachine, o);
}

/** A VM map as the session reads it (one CPU). */
function rawMap(m: VmMap): RawMap {
  return {
    keys: () => m.keys(),
    lookup: (k) => m.get(k),
    delete: (k) => void m.delete(k),
    zero: (k) => m.set(k, new Uint8Array(m.spec.valueSize)),
    cpus: 1,
    stride: m.spec.valueSize,
  };
}

/** Run a compiled script in the VM until exit(), the signal, or (with no interval probe) at once. */
export async function runInVm(c: CompiledScript, o: VmRunOptions): Promise<VmRunResult> {
  for (const u of c.units) {
    const t = u.unit.spec.type;
    if (t !== 'BEGIN' && t !== 'END' && t !== 'interval') {
      throw new ScriptError(`${u.unit.name}: only BEGIN, END and interval probes run in the VM (this one needs the kernel)`, u.unit.ap.pos, c.source, c.fileName);
    }
  }
  const vm = Vm.loadSync(objectInput(c.spec), { engine: o.engine ?? 'jit' });
  vm.rt.clock = vmNow;
  Object.assign(vm.rt.task, o.task);
  const noFiles = (what: string) => (x: string): string => `ERROR: ${what} '${x}': not in the VM\n`;
  const session = new ScriptSession(c, {
    write: o.write,
    record: o.write,
    readFile: o.readFile ?? noFiles('failed to open file'),
    system: o.system ?? noFiles('cannot run'),
    warn: (m) => o.write(`tsbpf: ${m}\n`),
    now: () => ({ wallMs: Date.now(), monotonicNs: vmNow() }),
    decode: { ksym: (a) => `0x${a.toString(16)}`, usym: (a) => `0x${a.toString(16)}`, username: (uid) => String(uid), stack: () => [] },
  }, (name) => rawMap(vm.maps.get(name)!), o.json ?? false);
  const ring = vm.ringbuf(EVENTS_MAP);
  const drain = (): void => {
    for (const r of ring.consume()) session.handleEvent(new DataView(r.buffer, r.byteOffset, r.byteLength));
  };
  const runAll = (type: 'BEGIN' | 'END'): void => {
    for (const u of c.units) if (u.unit.spec.type === type) vm.run(u.name, new Uint8Array(RAW_TP_ARGS));
    drain();
  };
  if (!o.quiet) session.attaching(c.units.length);
  runAll('BEGIN');
  const intervals = c.units.filter((u) => u.unit.spec.type === 'interval');
  if (!session.exited && (intervals.length || o.signal)) {
    await new Promise<void>((resolve, reject) => {
      const timers: ReturnType<typeof setTimeout>[] = [];
      const stop = (e?: unknown): void => {
        for (const t of timers) clearTimeout(t);
        o.signal?.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve();
      };
      const onAbort = (): void => stop();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      if (o.signal?.aborted) return stop();
      intervals.forEach((u, k) => {
        const s = u.unit.spec as Extract<ProbeSpec, { unit: string }>;
        const period = s.unit === 'hz' ? 1000 / s.n : s.n * UNIT_MS[s.unit]!;
        const start = Date.now();
        let fired = 0;
        const tick = (): void => {
          try {
            vm.run(u.name, new Uint8Array(PERF_EVENT_DATA));
            drain();
          } catch (e) {
            return stop(e);
          }
          if (session.exited) return stop();
          // on the period's grid, as a perf timer fires, however long a run took
          timers[k] = setTimeout(tick, Math.max(0, start + ++fired * period + period - Date.now()));
        };
        timers[k] = setTimeout(tick, period);
      });
    });
  }
  session.exited = false;
  runAll('END');
  session.finish();
  return { programs: c.units.length, vm };
}

// syscount: syscalls counted in the kernel per syscall or per process, with total latency (-L),
// from raw_syscalls/sys_enter and sys_exit. A result object: open, let it run, read.
//
//   const s = await Syscount.open({ pid }); ...; console.log(s.top(10)); s.close();
import { AggregationTool, openTool } from '../common/tracer.js';
import { readEntries } from '../common/histmap.js';
import { cgroupFilter } from '../common/cgroup.js';
import { num, str } from '../common/decode.js';
import { syscallName } from './syscalls.js';
import type { LoadConstantsOf, ProgramOf } from '../../kernel/typed.js';
import type { SyscountObjects } from './syscount.gen.js';

export const PROGRAMS: ProgramOf<typeof SyscountObjects>[] = ['sys_enter', 'sys_exit'];

export interface SyscountOptions {
  pid?: number;
  /** only failed syscalls */
  failed?: boolean;
  /** only syscalls that failed with this errno (positive) */
  errno?: number;
  /** also measure time spent in each syscall */
  latency?: boolean;
  /** aggregate per process instead of per syscall */
  perProcess?: boolean;
  cgroup?: string;
  /** the aggregation maps pinned (an agent's counts survive its restart) */
  pin?: string;
}

export interface SyscallCount {
  /** syscall number, or the PID when per process */
  key: number;
  /** syscall name, or the process's comm when per process */
  name: string;
  count: number;
  /** total time in the syscalls, ns (with latency) */
  totalNs: number;
}

export class Syscount extends AggregationTool<SyscountOptions> {
  readonly hookName = 'tracepoint raw_syscalls/sys_enter, raw_syscalls/sys_exit';

  static async open(opts: SyscountOptions = {}): Promise<Syscount> {
    if (opts.errno !== undefined && (!Number.isInteger(opts.errno) || opts.errno <= 0 || opts.errno > 4095)) throw new RangeError(`invalid errno ${opts.errno}`);
    const constants: LoadConstantsOf<typeof SyscountObjects> = {
      filter_pid: opts.pid,
      filter_failed: opts.failed || undefined,
      filter_errno: opts.errno,
      measure_latency: opts.latency || undefined,
      count_by_process: opts.perProcess || undefined,
      ...(opts.cgroup ? cgroupFilter(opts.cgroup) : {}),
    };
    return openTool('syscount', { constants, programs: PROGRAMS, pin: opts.pin ? { dir: opts.pin, maps: ['data'] } : undefined }, (coll) => new Syscount(coll, opts));
  }

  /** Every counted key; `clear` starts a new interval. */
  snapshot(clear = false): SyscallCount[] {
    return readEntries(this.coll.map('data'), clear).map(([k, v]) => {
      const key = num(k);
      const val = v as { count?: unknown; total_ns?: unknown; comm?: unknown };
      return { key, name: this.opts.perProcess ? str(val.comm) : syscallName(key), count: num(val.count), totalNs: num(val.total_ns) };
    });
  }

  /** The `n` largest by count (or by time with latency). */
  top(n = 10, clear = false): SyscallCount[] {
    const all = this.snapshot(clear);
    const by = this.opts.latency ? (x: SyscallCount) => x.totalNs : (x: SyscallCount) => x.count;
    return all.sort((a, b) => by(b) - by(a) || a.key - b.key).slice(0, n);
  }

}

// runqlat: how long runnable tasks wait for a CPU, as log2 histograms (all tasks, per process or
// per thread). A result object: open, let it run, read snapshots.
//
//   const r = await Runqlat.open({ perProcess: true }); await sleep(1000); console.log(r.snapshot()); r.close();
import { AggregationTool, openTool } from '../common/tracer.js';
import { cgroupFilter } from '../common/cgroup.js';
import { readHists, type LatencyHist } from '../common/histmap.js';
import { num } from '../common/decode.js';
import type { LoadConstantsOf, ProgramOf } from '../../kernel/typed.js';
import type { RunqlatObjects } from './runqlat.gen.js';

export const PROGRAMS: ProgramOf<typeof RunqlatObjects>[] = ['handle_sched_wakeup', 'handle_sched_wakeup_new', 'handle_sched_switch'];

export interface RunqlatOptions {
  /** only this process (TGID) */
  pid?: number;
  /** one histogram per process (key = TGID) */
  perProcess?: boolean;
  /** one histogram per thread (key = TID) */
  perThread?: boolean;
  milliseconds?: boolean;
  cgroup?: string;
  /** the aggregation maps pinned (an agent's counts survive its restart) */
  pin?: string;
}

export class Runqlat extends AggregationTool<RunqlatOptions> {
  readonly hookName = 'raw_tp sched_wakeup, sched_wakeup_new, sched_switch';

  static async open(opts: RunqlatOptions = {}): Promise<Runqlat> {
    if (opts.perProcess && opts.perThread) throw new Error('per process and per thread exclude each other');
    const constants: LoadConstantsOf<typeof RunqlatObjects> = {
      targ_tgid: opts.pid,
      targ_per_process: opts.perProcess || undefined,
      targ_per_thread: opts.perThread || undefined,
      targ_ms: opts.milliseconds || undefined,
      ...(opts.cgroup ? cgroupFilter(opts.cgroup) : {}),
    };
    return openTool('runqlat', { constants, programs: PROGRAMS, pin: opts.pin ? { dir: opts.pin, maps: ['hists'] } : undefined }, (coll) => new Runqlat(coll, opts));
  }

  /** The histograms so far (key 0 when not per process/thread); `clear` starts a new interval. */
  snapshot(clear = false): LatencyHist<number>[] {
    return readHists(this.coll.map('hists'), this.opts.milliseconds ? 'msecs' : 'usecs', num, clear).sort((a, b) => a.key - b.key);
  }
}

/** Runs for `ms` milliseconds and returns the histograms. */
export async function runqlat(opts: RunqlatOptions & { ms: number; signal?: AbortSignal }): Promise<LatencyHist<number>[]> {
  const r = await Runqlat.open(opts);
  try {
    await new Promise<void>((res) => {
      const t = setTimeout(res, opts.ms);
      opts.signal?.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
    });
    return r.snapshot();
  } finally {
    r.close();
  }
}

// opensnoop: open(), openat() and openat2() with path, flags and result (fd or error).
//
//   for await (const o of opensnoop({ pid })) console.log(o.path, o.fd, o.errno);
import type { Collection } from '../common/runtime.js';
import { EventTracer, eventRing, openTool, tracerEvents, wakeupBatch, type BatchOption } from '../common/tracer.js';
import { cgroupFilter } from '../common/cgroup.js';
import { str, num, big, s32 } from '../common/decode.js';
import type { LoadConstantsOf, ProgramOf } from '../../kernel/typed.js';
import type { OpensnoopObjects } from './opensnoop.gen.js';

export const PROGRAMS: ProgramOf<typeof OpensnoopObjects>[] = [
  'tracepoint__syscalls__sys_enter_open',
  'tracepoint__syscalls__sys_enter_openat',
  'tracepoint__syscalls__sys_enter_openat2',
  'tracepoint__syscalls__sys_exit_open',
  'tracepoint__syscalls__sys_exit_openat',
  'tracepoint__syscalls__sys_exit_openat2',
];
const SYSCALLS = ['open', 'openat', 'openat2'] as const;

export interface OpensnoopOptions extends BatchOption {
  pid?: number;
  tid?: number;
  uid?: number;
  /** only failed opens */
  failed?: boolean;
  cgroup?: string;
  signal?: AbortSignal;
}

export interface Open {
  pid: number;
  tid: number;
  uid: number;
  comm: string;
  path: string;
  flags: number;
  mode: number;
  /** the new fd, or -1 on error */
  fd: number;
  /** errno on failure, else 0 */
  errno: number;
  syscall: (typeof SYSCALLS)[number];
  /** CLOCK_MONOTONIC microseconds at return */
  ts: number;
  latencyNs: number;
  cgroup: bigint;
}

export function openFromRecord(r: Record<string, unknown>): Open {
  const ret = s32(r.ret);
  return {
    pid: num(r.pid),
    tid: num(r.tid),
    uid: num(r.uid),
    comm: str(r.comm),
    path: str(r.fname),
    flags: num(r.flags),
    mode: num(r.mode),
    fd: ret >= 0 ? ret : -1,
    errno: ret < 0 ? -ret : 0,
    syscall: SYSCALLS[num(r.syscall)] ?? 'openat',
    ts: num(r.ts_us),
    latencyNs: num(r.latency_ns),
    cgroup: big(r.cgroup_id),
  };
}

export class OpensnoopTracer extends EventTracer<Open, OpensnoopOptions> {
  readonly hookName = 'tracepoint syscalls/sys_{enter,exit}_{open,openat,openat2}';

  private constructor(coll: Collection, opts: OpensnoopOptions) {
    super(coll, opts, eventRing(coll));
  }

  static async open(opts: OpensnoopOptions = {}): Promise<OpensnoopTracer> {
    const constants: LoadConstantsOf<typeof OpensnoopObjects> = {
      targ_pid: opts.pid,
      targ_tid: opts.tid,
      targ_uid: opts.uid,
      targ_failed: opts.failed ? true : undefined,
      ...(opts.cgroup ? cgroupFilter(opts.cgroup) : {}),
    };
    return openTool('opensnoop', { constants, programs: PROGRAMS, batch: wakeupBatch(opts.batch) }, (coll) => new OpensnoopTracer(coll, opts));
  }

  protected decode(r: Record<string, unknown>): Open {
    return openFromRecord(r);
  }
}

export function opensnoop(opts: OpensnoopOptions = {}): AsyncGenerator<Open> {
  return tracerEvents(() => OpensnoopTracer.open(opts));
}

// execsnoop: every execve() with its arguments, return code and parent PID.
//
//   for await (const e of execsnoop({ uid: 1000 })) console.log(e.ppid, e.pid, e.args.join(' '));
//
// syscalls/sys_enter_execve keeps the path and up to maxArgs arguments per thread; the exit
// tracepoint adds the return code and the new comm and sends the record (cut after the arguments).
import type { Collection } from '../common/runtime.js';
import { EventTracer, eventRing, openTool, tracerEvents, wakeupBatch, type BatchOption } from '../common/tracer.js';
import { cgroupFilter } from '../common/cgroup.js';
import type { RingBuffer } from '../../maps/ringbuf.js';
import { memberOffsets, cStringAt, u64At, bytesAt, SameBytes } from '../common/layout.js';
import type { LoadConstantsOf, ProgramOf } from '../../kernel/typed.js';
import type { ExecsnoopObjects } from './execsnoop.gen.js';

export const PROGRAMS: ProgramOf<typeof ExecsnoopObjects>[] = ['tracepoint__syscalls__sys_enter_execve', 'tracepoint__syscalls__sys_exit_execve'];
export const DEFAULT_MAXARGS = 20;
export const TOTAL_MAX_ARGS = 60;

export interface ExecsnoopOptions extends BatchOption {
  uid?: number;
  /** only execs by this process (the caller of execve) */
  pid?: number;
  /** include failed execs (libbpf-tools -x); default only successful ones */
  failed?: boolean;
  /** arguments kept, 1..60 (default 20) */
  maxArgs?: number;
  cgroup?: string;
  signal?: AbortSignal;
}

export interface Exec {
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  /** the task's name after exec (before it, for failed execs) */
  comm: string;
  ret: number;
  /** the path exec'd, then argv[1..] */
  args: string[];
  /** more arguments than maxArgs */
  truncated: boolean;
  /** CLOCK_MONOTONIC microseconds */
  ts: number;
  cgroup: bigint;
}

const utf8 = new TextDecoder();

/** Bytes as text: ASCII (nearly every argument) without a decoder call, anything else as UTF-8. */
function text(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) if (b[i]! > 0x7f) return utf8.decode(b);
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/** Splits the NUL-separated argument area (args_size bytes of it). */
export function splitArgs(area: Uint8Array, size: number): string[] {
  const out: string[] = [];
  let start = 0;
  const end = Math.min(size, area.length);
  for (let i = 0; i < end; i++) {
    if (area[i] === 0) {
      out.push(text(area.subarray(start, i)));
      start = i + 1;
    }
  }
  if (start < end) out.push(text(area.subarray(start, end)));
  return out;
}

const FIELDS = ['ts_us', 'cgroup_id', 'pid', 'tid', 'ppid', 'uid', 'retval', 'args_count', 'args_size', 'comm', 'args'] as const;

/**
 * The ring, records read in place as they are drained: the fixed header at member offsets from the
 * object's BTF (`struct event`), then args_size bytes of arguments (records are variable-length);
 * undefined for a record shorter than the header (cannot happen with this object; never read past
 * the end).
 */
function execRing(coll: Collection, opts: ExecsnoopOptions): RingBuffer<Exec | undefined> {
  const f = memberOffsets(coll, 'event', FIELDS);
  const header = f.args.offset; // the flexible array starts where the header ends
  const maxArgs = opts.maxArgs ?? DEFAULT_MAXARGS;
  const commLen = f.comm.size;
  const comms = new SameBytes(commLen, (v, off) => cStringAt(v, off, commLen));
  const cgroups = new SameBytes(8, (v, off) => v.getBigUint64(off, true));
  return eventRing<Exec | undefined>(coll, (v, off, len) => {
    if (len < header) return undefined;
    return {
      pid: v.getUint32(off + f.pid.offset, true),
      tid: v.getUint32(off + f.tid.offset, true),
      ppid: v.getUint32(off + f.ppid.offset, true),
      uid: v.getUint32(off + f.uid.offset, true),
      comm: comms.get(v, off + f.comm.offset),
      ret: v.getInt32(off + f.retval.offset, true),
      args: splitArgs(bytesAt(v, off + header, len - header), v.getUint32(off + f.args_size.offset, true)),
      truncated: v.getInt32(off + f.args_count.offset, true) > maxArgs,
      ts: u64At(v, off + f.ts_us.offset),
      cgroup: cgroups.get(v, off + f.cgroup_id.offset),
    };
  });
}

export class ExecsnoopTracer extends EventTracer<Exec, ExecsnoopOptions, Exec | undefined> {
  readonly hookName = 'tracepoint syscalls/sys_enter_execve, syscalls/sys_exit_execve';

  private constructor(coll: Collection, opts: ExecsnoopOptions) {
    super(coll, opts, execRing(coll, opts));
  }

  static async open(opts: ExecsnoopOptions = {}): Promise<ExecsnoopTracer> {
    const maxArgs = opts.maxArgs ?? DEFAULT_MAXARGS;
    if (!Number.isInteger(maxArgs) || maxArgs < 1 || maxArgs > TOTAL_MAX_ARGS) throw new RangeError(`maxArgs must be 1..${TOTAL_MAX_ARGS}`);
    const constants: LoadConstantsOf<typeof ExecsnoopObjects> = {
      targ_uid: opts.uid,
      targ_pid: opts.pid,
      ignore_failed: opts.failed ? false : undefined,
      max_args: opts.maxArgs,
      ...(opts.cgroup ? cgroupFilter(opts.cgroup) : {}),
    };
    return openTool('execsnoop', { constants, programs: PROGRAMS, batch: wakeupBatch(opts.batch) }, (coll) => new ExecsnoopTracer(coll, opts));
  }

  /** Records are decoded as the ring is drained (execRing). */
  protected decode(e: Exec | undefined): Exec | undefined {
    return e;
  }
}

export function execsnoop(opts: ExecsnoopOptions = {}): AsyncGenerator<Exec> {
  return tracerEvents(() => ExecsnoopTracer.open(opts));
}

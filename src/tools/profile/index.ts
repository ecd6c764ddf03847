// profile: CPU sampling at a fixed frequency on the software CPU clock (one perf event per CPU),
// counted in the kernel per (process, kernel stack, user stack); stacks symbolized here, kernel
// frames from /proc/kallsyms, user frames from the ELF symbol tables of /proc/PID/maps files and
// JIT perf maps, C++ names demangled (symbolize.ts).
//
//   const p = await Profile.open({ pid, frequency: 99 }); await sleep(2000);
//   writeFileSync('cpu.svg', renderFlameGraph(p.folded())); p.close();
import type { Collection } from '../common/runtime.js';
import { ToolTracer, openTool } from '../common/tracer.js';
import { attachPerfEvent } from '../../link/perf-event.js';
import type { Link } from '../../link/link.js';
import { cgroupFilter } from '../common/cgroup.js';
import { symbolizeStacks } from './symbolize.js';
import { num, str } from '../common/decode.js';
import type { LoadConstantsOf } from '../../kernel/typed.js';
import type { ProfileObjects } from './profile.gen.js';

export const PROGRAM = 'do_perf_event';

export interface ProfileOptions {
  /** only this process (TGID) */
  pid?: number;
  tid?: number;
  /** samples per second per CPU (default 49, as libbpf-tools) */
  frequency?: number;
  userOnly?: boolean;
  kernelOnly?: boolean;
  /** include the idle task (pid 0) */
  includeIdle?: boolean;
  cgroup?: string;
}

export interface StackSample {
  pid: number;
  comm: string;
  count: number;
  /** kernel frames, innermost first ([] with userOnly or for none) */
  kernel: string[];
  /** user frames, innermost first */
  user: string[];
  kernelAddrs: bigint[];
  userAddrs: bigint[];
}

/** A stack-trace map value: up to 127 u64 instruction pointers, 0-terminated. */
export function stackAddrs(v: unknown): bigint[] {
  const out: bigint[] = [];
  if (v instanceof Uint8Array) {
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let o = 0; o + 8 <= v.length; o += 8) {
      const ip = dv.getBigUint64(o, true);
      if (ip === 0n) break;
      out.push(ip);
    }
  } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    for (const x of Array.from(v as ArrayLike<number | bigint>)) {
      const ip = BigInt(x);
      if (ip === 0n) break;
      out.push(ip);
    }
  }
  return out;
}

export class Profile extends ToolTracer {
  readonly hookName: string;

  private constructor(
    coll: Collection,
    link: Link,
    readonly frequency: number,
  ) {
    super(coll, link);
    this.hookName = `perf_event software cpu-clock at ${frequency} Hz on every CPU`;
  }

  static async open(opts: ProfileOptions = {}): Promise<Profile> {
    const frequency = opts.frequency ?? 49;
    if (!Number.isInteger(frequency) || frequency < 1 || frequency > 100000) throw new RangeError(`invalid frequency ${frequency}`);
    if (opts.userOnly && opts.kernelOnly) throw new Error('user-only and kernel-only exclude each other');
    const constants: LoadConstantsOf<typeof ProfileObjects> = {
      targ_pid: opts.pid,
      targ_tid: opts.tid,
      user_stacks_only: opts.userOnly || undefined,
      kernel_stacks_only: opts.kernelOnly || undefined,
      include_idle: opts.includeIdle || undefined,
      ...(opts.cgroup ? cgroupFilter(opts.cgroup) : {}),
    };
    // one perf event per CPU, not a SEC() target: attached here, owned (and closed first) by the tracer
    return openTool('profile', { constants, programs: [PROGRAM], attach: false }, (coll) => new Profile(coll, attachPerfEvent(coll.program(PROGRAM), { frequency }), frequency));
  }

  /** Samples so far, symbolized, most frequent first. Call while the profiled processes still run. */
  samples(): StackSample[] {
    const stacks = this.coll.map('stackmap');
    // the stack map has sizes but no BTF types: raw u32 key, raw u64[127] value; a stack shared by
    // several (process, comm) keys is read once
    const key = new Uint8Array(4);
    const seen = new Map<number, bigint[]>();
    const stackOf = (id: number): bigint[] => {
      if (id < 0) return [];
      let s = seen.get(id);
      if (!s) {
        new DataView(key.buffer).setUint32(0, id, true);
        seen.set(id, (s = stackAddrs(stacks.lookup(key))));
      }
      return s;
    };
    const raw: Omit<StackSample, 'kernel' | 'user'>[] = [];
    // (in batches: one syscall per 256 keys, not two per key)
    for (const [k, v] of this.coll.map('counts').entriesBatch()) {
      const kk = k as { pid?: unknown; user_stack_id?: unknown; kern_stack_id?: unknown; name?: unknown };
      raw.push({
        pid: num(kk.pid),
        comm: str(kk.name),
        count: num(v),
        kernelAddrs: stackOf(num(kk.kern_stack_id) | 0),
        userAddrs: stackOf(num(kk.user_stack_id) | 0),
      });
    }
    // each distinct address once: files' symbol tables read for just the addresses in them
    const names = symbolizeStacks(raw);
    return raw
      .map((r) => ({
        ...r,
        kernel: r.kernelAddrs.map((a) => names.kernel.get(a)!),
        user: r.userAddrs.map((a) => names.user(r.pid, a)),
      }))
      .sort((a, b) => b.count - a.count);
  }

  /** Folded stacks for flame graphs: "comm;user frames;kernel frames_[k] count", outermost first. */
  folded(samples: StackSample[] = this.samples()): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of samples) {
      const frames = [s.comm, ...[...s.user].reverse(), ...[...s.kernel].reverse().map((f) => `${f}_[k]`)];
      const key = frames.join(';');
      out.set(key, (out.get(key) ?? 0) + s.count);
    }
    return out;
  }

  /** Total samples counted. */
  get total(): number {
    let n = 0;
    for (const [, v] of this.coll.map('counts').entries()) n += num(v);
    return n;
  }
}

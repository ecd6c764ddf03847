// tcpconnect: every outgoing TCP connect (IPv4 and IPv6), filtered in the kernel.
//
//   for await (const c of tcpconnect({ pid: 1234 })) console.log(c.comm, c.daddr, c.dport);
//
// Hook, probed at open: kprobe/kretprobe on tcp_v{4,6}_connect (reports connect()'s error), else
// fexit on the same functions, else the sock/inet_sock_set_state tracepoint (as tp_btf, else
// classic), whose CLOSE -> SYN_SENT transition runs in the connecting task. On the tracepoint the
// source port is not chosen yet; it arrives with the socket's next state change (ESTABLISHED, or
// CLOSE when refused), and events wait for it up to `waitSourcePort` ms.
import type { Collection } from '../common/runtime.js';
import { EventTracer, eventRing, openTool, tracerEvents, wakeupBatch, type BatchOption } from '../common/tracer.js';
import { cgroupFilter } from '../common/cgroup.js';
import { formatInet, AF_INET } from '../../output/inet.js';
import { Errno } from '../../sys/errors.js';
import { memberOffsets, cStringAt, u64At, bytesAt, SameBytes } from '../common/layout.js';
import type { LoadConstantsOf, ProgramOf } from '../../kernel/typed.js';
import { TcpconnectObjects, type Event } from './tcpconnect.gen.js';

export type TcpConnectHook = 'kprobe' | 'fexit' | 'tp_btf' | 'tracepoint';

export const HOOK_PROGRAMS: Record<TcpConnectHook, ProgramOf<typeof TcpconnectObjects>[]> = {
  kprobe: ['kprobe_tcp_v4_connect', 'kretprobe_tcp_v4_connect', 'kprobe_tcp_v6_connect', 'kretprobe_tcp_v6_connect'],
  fexit: ['fexit_tcp_v4_connect', 'fexit_tcp_v6_connect'],
  tp_btf: ['btf_inet_sock_set_state'],
  tracepoint: ['tp_inet_sock_set_state'],
};

export const HOOK_NAMES: Record<TcpConnectHook, string> = {
  kprobe: 'kprobe/kretprobe tcp_v4_connect, tcp_v6_connect',
  fexit: 'fexit tcp_v4_connect, tcp_v6_connect',
  tp_btf: 'tp_btf inet_sock_set_state',
  tracepoint: 'tracepoint sock/inet_sock_set_state',
};

/** The tracepoint hooks: connects seen as a state change, before the source port is chosen. */
const onStateChange = (hook: TcpConnectHook): boolean => hook === 'tp_btf' || hook === 'tracepoint';

const MAX_PORTS = 8;
const EVENT_CONNECT = 1;
const EVENT_SPORT = 2;
const TCP_ESTABLISHED = 1;

export interface TcpConnectOptions extends BatchOption {
  /** only this process (TGID) */
  pid?: number;
  uid?: number;
  /** only these destination ports (up to 8) */
  ports?: number[];
  family?: 4 | 6;
  /** only tasks in this cgroup (v2 path) or below it */
  cgroup?: string;
  /** count connects per (saddr, daddr, dport) in the kernel instead of sending events */
  count?: boolean;
  /** hooks to try, in order (default kprobe, fexit, tp_btf, tracepoint) */
  hooks?: TcpConnectHook[];
  /** ms to wait for the source port on the tracepoint hooks; false: report at once with sport 0 */
  waitSourcePort?: number | false;
  signal?: AbortSignal;
}

export interface TcpConnect {
  pid: number;
  tid: number;
  comm: string;
  uid: number;
  af: 4 | 6;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  /** CLOCK_MONOTONIC microseconds (bpf_ktime_get_ns) */
  ts: number;
  /** cgroup v2 id of the task */
  cgroup: bigint;
  /** connect()'s return (0 or -errno) on the kprobe and fexit hooks */
  ret?: number;
  /** tracepoint hooks: how the handshake ended, when it ended within waitSourcePort */
  state?: 'established' | 'closed';
}

export interface FlowCount {
  af: 4 | 6;
  saddr: string;
  daddr: string;
  dport: number;
  count: number;
}

function validate(o: TcpConnectOptions): void {
  const ports = o.ports ?? [];
  if (ports.length > MAX_PORTS) throw new RangeError(`at most ${MAX_PORTS} ports (got ${ports.length})`);
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`invalid port ${p}`);
  if (o.pid !== undefined && (!Number.isInteger(o.pid) || o.pid < 1)) throw new RangeError(`invalid PID ${o.pid}`);
  if (o.uid !== undefined && (!Number.isInteger(o.uid) || o.uid < 0 || o.uid > 0xfffffffe)) throw new RangeError(`invalid UID ${o.uid}`);
}

function constants(o: TcpConnectOptions): LoadConstantsOf<typeof TcpconnectObjects> {
  const ports = o.ports ?? [];
  const filterPorts = new Array<number>(MAX_PORTS).fill(0);
  ports.forEach((p, i) => (filterPorts[i] = p));
  return {
    targ_pid: o.pid,
    targ_uid: o.uid,
    targ_af: o.family,
    do_count: o.count ? true : undefined,
    want_sport: o.waitSourcePort === false ? false : undefined,
    filter_ports_len: ports.length || undefined,
    filter_ports: ports.length ? filterPorts : undefined,
    ...(o.cgroup ? cgroupFilter(o.cgroup) : {}),
  };
}

/** u32 as stored by the kernel (network order in memory) -> its 4 bytes. */
function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** A ring-buffer record: a connect (`e`), or the source port of an earlier one (`kind` EVENT_SPORT). */
interface RawRecord {
  kind: number;
  /** the socket's address, pairing a connect with its source port (0n when not pairing) */
  id: bigint;
  sport: number;
  /** EVENT_SPORT: the TCP state the socket moved to */
  state: number;
  e: TcpConnect | undefined;
}

const FIELDS = ['saddr', 'daddr', 'comm', 'ts_us', 'cgroup_id', 'id', 'pid', 'tid', 'uid', 'ret', 'af', 'sport', 'dport', 'kind', 'state'] as const satisfies readonly (keyof Event)[];

/**
 * Reads `struct event` records in place in the ring (member offsets from the object's BTF): one
 * event object per connect, built once, and the socket id only when the source port is awaited.
 */
export function recordReader(coll: Collection, hook: TcpConnectHook, pairing: boolean): (v: DataView, off: number) => RawRecord {
  const f = memberOffsets(coll, 'event', FIELDS);
  const [saddr, daddr, comm, commLen, ts, cgroup, id, pid, tid, uid, ret, af, sport, dport, kind, state] = [
    f.saddr.offset, f.daddr.offset, f.comm.offset, f.comm.size, f.ts_us.offset, f.cgroup_id.offset, f.id.offset, f.pid.offset,
    f.tid.offset, f.uid.offset, f.ret.offset, f.af.offset, f.sport.offset, f.dport.offset, f.kind.offset, f.state.offset,
  ];
  const withRet = !onStateChange(hook);
  // Consecutive connects mostly share their process, addresses and cgroup: the strings and bigint
  // of the previous record are reused when the bytes are the same (no new garbage per event).
  const commCache = new SameBytes(commLen, (v, off) => cStringAt(v, off, commLen));
  const v4s = new SameBytes(4, (v, off) => `${v.getUint8(off)}.${v.getUint8(off + 1)}.${v.getUint8(off + 2)}.${v.getUint8(off + 3)}`);
  const v4d = new SameBytes(4, (v, off) => `${v.getUint8(off)}.${v.getUint8(off + 1)}.${v.getUint8(off + 2)}.${v.getUint8(off + 3)}`);
  const cgroups = new SameBytes(8, (v, off) => v.getBigUint64(off, true));
  return (v, o) => {
    const k = v.getUint8(o + kind);
    const r: RawRecord = { kind: k, id: pairing ? v.getBigUint64(o + id, true) : 0n, sport: v.getUint16(o + sport, true), state: v.getUint8(o + state), e: undefined };
    if (k !== EVENT_CONNECT) return r;
    const family = v.getUint16(o + af, true);
    const v4 = family === AF_INET;
    const e: TcpConnect = {
      pid: v.getUint32(o + pid, true),
      tid: v.getUint32(o + tid, true),
      comm: commCache.get(v, o + comm),
      uid: v.getUint32(o + uid, true),
      af: v4 ? 4 : 6,
      saddr: v4 ? v4s.get(v, o + saddr) : formatInet(family, bytesAt(v, o + saddr, 16)),
      daddr: v4 ? v4d.get(v, o + daddr) : formatInet(family, bytesAt(v, o + daddr, 16)),
      sport: r.sport,
      dport: v.getUint16(o + dport, true),
      ts: u64At(v, o + ts),
      cgroup: cgroups.get(v, o + cgroup),
    };
    if (withRet) e.ret = v.getInt32(o + ret, true);
    r.e = e;
    return r;
  };
}

/** Hooks found missing in this process (errno that will not change: EPERM, ENOENT, EINVAL, EOPNOTSUPP, ENOTSUPP), not tried again. */
const missingHooks = new Map<TcpConnectHook, string>();
const LASTING_ERRNOS = new Set<number>([Errno.EPERM, Errno.ENOENT, Errno.EINVAL, Errno.EOPNOTSUPP, Errno.ENOTSUPP]);

export class TcpConnectTracer extends EventTracer<TcpConnect, TcpConnectOptions, RawRecord> {
  private constructor(
    coll: Collection,
    readonly hook: TcpConnectHook,
    opts: TcpConnectOptions,
  ) {
    super(coll, opts, opts.count ? undefined : eventRing(coll, recordReader(coll, hook, onStateChange(hook) && opts.waitSourcePort !== false)));
    this.objs = TcpconnectObjects.of(coll);
  }

  /** the object's maps and programs, typed (the collection stays owned by the tracer) */
  private readonly objs: TcpconnectObjects;

  /** Loads and attaches the first hook that works here. Errors of every hook tried are reported together. */
  static async open(opts: TcpConnectOptions = {}): Promise<TcpConnectTracer> {
    validate(opts);
    const batch = wakeupBatch(opts.batch);
    const hooks = opts.hooks ?? ['kprobe', 'fexit', 'tp_btf', 'tracepoint'];
    const failures: string[] = [];
    for (const hook of hooks) {
      const known = missingHooks.get(hook);
      if (known) {
        failures.push(`${hook}: ${known}`);
        continue;
      }
      try {
        return await openTool('tcpconnect', { constants: constants(opts), programs: HOOK_PROGRAMS[hook], batch }, (coll) => new TcpConnectTracer(coll, hook, opts));
      } catch (err) {
        failures.push(`${hook}: ${(err as Error).message}`);
        if (LASTING_ERRNOS.has((err as { errno?: number }).errno ?? -1)) missingHooks.set(hook, (err as Error).message);
      }
    }
    const e = new Error(`tcpconnect: no hook works on this kernel (${failures.join('; ')})`);
    throw e;
  }

  /**
   * Connects yielded without their source port because it had not come within waitSourcePort (a
   * SYN dropped by a full listen queue is sent again after a second) or before the iteration ended.
   */
  lateSourcePorts = 0;

  /** Connects reported without their source port because its update found the ring buffer full. */
  get lostSourcePorts(): number {
    if (!this.ring) return 0;
    let n = 0;
    for (const v of this.objs.maps.sport_drops.getPerCpu(0) ?? []) n += Number(v);
    return n;
  }

  get hookName(): string {
    return HOOK_NAMES[this.hook];
  }

  /** Events are decoded in events(), which pairs connects with their source ports. */
  protected decode(): undefined {
    return undefined;
  }

  /**
   * Connects as they become complete (their source port known, or waited for long enough), those of
   * one drain of the ring as one array. Ends when the signal aborts or the tracer is closed.
   */
  override async *batches(signal: AbortSignal | undefined = this.opts.signal): AsyncGenerator<TcpConnect[]> {
    if (!this.ring) throw new Error('tcpconnect: count mode has no events (read counts())');
    const wait = onStateChange(this.hook) ? (this.opts.waitSourcePort ?? 1000) : false;
    // a drain's records at once: one promise per wakeup in here, not one per record
    const it = this.ring.batches(signal ? { signal } : {});
    // connects waiting for their source port, by socket, oldest first
    const pending = new Map<bigint, { e: TcpConnect; deadline: number }>();
    // one shared tick (not a timer per record) wakes the loop to flush events whose port never came
    let tick: Promise<'tick'> | undefined;
    let tickTimer: NodeJS.Timeout | undefined;
    const TICK_MS = 100;
    let next: Promise<IteratorResult<RawRecord[]>> | undefined;
    try {
      for (;;) {
        next ??= it.next();
        let r: IteratorResult<RawRecord[]> | 'tick';
        if (pending.size && wait !== false) {
          tick ??= new Promise<'tick'>((res) => (tickTimer = setTimeout(() => res('tick'), TICK_MS)));
          r = await Promise.race([next, tick]);
        } else {
          r = await next;
        }
        const out: TcpConnect[] = [];
        if (r === 'tick') {
          tick = undefined;
          const now = Date.now();
          for (const [id, p] of pending) {
            if (p.deadline > now) break;
            pending.delete(id);
            this.lateSourcePorts++;
            out.push(p.e);
          }
          if (out.length) yield out;
          continue;
        }
        next = undefined;
        if (r.done) {
          const left = [...pending.values()];
          pending.clear();
          this.lateSourcePorts += left.length;
          for (const p of left) out.push(p.e);
          if (out.length) yield out;
          break;
        }
        for (const rec of r.value) {
          if (rec.kind === EVENT_SPORT) {
            const p = pending.get(rec.id);
            if (!p) continue; // a socket this tracer did not report (connecting before it started)
            pending.delete(rec.id);
            p.e.sport = rec.sport;
            p.e.state = rec.state === TCP_ESTABLISHED ? 'established' : 'closed';
            out.push(p.e);
            continue;
          }
          const e = rec.e;
          if (!e) continue;
          if (wait === false || e.sport !== 0) {
            out.push(e);
            continue;
          }
          // the same socket connecting again: its earlier connect's port update was lost
          const old = pending.get(rec.id);
          if (old) {
            pending.delete(rec.id);
            out.push(old.e);
          }
          pending.set(rec.id, { e, deadline: Date.now() + wait });
        }
        if (out.length) yield out;
      }
    } finally {
      clearTimeout(tickTimer);
      await it.return?.();
    }
  }

  /** Count mode: connects per flow so far, most first. */
  counts(): FlowCount[] {
    const out: FlowCount[] = [];
    const { ipv4_count, ipv6_count } = this.objs.maps;
    for (const [k, v] of ipv4_count.entries()) {
      out.push({ af: 4, saddr: formatInet(2, u32Bytes(k.saddr)), daddr: formatInet(2, u32Bytes(k.daddr)), dport: k.dport, count: Number(v) });
    }
    for (const [k, v] of ipv6_count.entries()) {
      out.push({ af: 6, saddr: formatInet(10, new Uint8Array(k.saddr)), daddr: formatInet(10, new Uint8Array(k.daddr)), dport: k.dport, count: Number(v) });
    }
    return out.sort((a, b) => b.count - a.count);
  }

}

/** Connects as an async iterator; the tracer is closed when the loop ends. */
export function tcpconnect(opts: TcpConnectOptions = {}): AsyncGenerator<TcpConnect> {
  return tracerEvents(() => TcpConnectTracer.open(opts));
}

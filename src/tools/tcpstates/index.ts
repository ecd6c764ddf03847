// tcpstates: every TCP state change, with the time spent in the previous state.
//
//   for await (const c of tcpstates({ remotePorts: [443] })) console.log(c.oldstate, '->', c.newstate);
import { loadTool, attachAll, kernelIds, type Collection } from '../common/runtime.js';
import type { RingBuffer } from '../../maps/ringbuf.js';
import { portConstants, type TcpPortFilter } from '../tcplife/index.js';
import { inetString, AF_INET } from '../common/inet.js';
import { str, num, big, bytes, s32 } from '../common/decode.js';

export const PROGRAMS = ['tp_inet_sock_set_state'];

/** include/net/tcp_states.h */
export const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV'];

export function stateName(n: number): string {
  return TCP_STATES[n] || `UNKNOWN(${n})`;
}

export interface TcpStateChange {
  skaddr: bigint;
  pid: number;
  comm: string;
  af: 4 | 6;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  oldstate: string;
  newstate: string;
  /** milliseconds spent in oldstate (0 the first time the socket is seen) */
  ms: number;
  ts: number;
  cgroup: bigint;
}

export function changeFromRecord(r: Record<string, unknown>): TcpStateChange {
  const family = num(r.family);
  return {
    skaddr: big(r.skaddr),
    pid: num(r.pid),
    comm: str(r.comm),
    af: family === AF_INET ? 4 : 6,
    saddr: inetString(family, bytes(r.saddr)),
    daddr: inetString(family, bytes(r.daddr)),
    sport: num(r.sport),
    dport: num(r.dport),
    oldstate: stateName(s32(r.oldstate)),
    newstate: stateName(s32(r.newstate)),
    ms: num(r.delta_us) / 1000,
    ts: num(r.ts_us),
    cgroup: big(r.cgroup_id),
  };
}

export class TcpstatesTracer {
  private readonly ring: RingBuffer<Record<string, unknown>>;
  private closed = false;
  readonly hookName = 'tracepoint sock/inet_sock_set_state';

  private constructor(
    private readonly coll: Collection,
    private readonly opts: TcpPortFilter,
  ) {
    this.ring = coll.ringBuffer<Record<string, unknown>>('events', { type: 'struct event', lost: coll.map('drops') });
  }

  static async open(opts: TcpPortFilter = {}): Promise<TcpstatesTracer> {
    const coll = await loadTool('tcpstates', { constants: portConstants(opts), programs: PROGRAMS });
    try {
      attachAll(coll, PROGRAMS);
      return new TcpstatesTracer(coll, opts);
    } catch (err) {
      coll.close();
      throw err;
    }
  }

  get lost(): number {
    return this.ring.lost;
  }

  async *events(signal: AbortSignal | undefined = this.opts.signal): AsyncGenerator<TcpStateChange> {
    for await (const r of this.ring.events(signal ? { signal } : {})) yield changeFromRecord(r);
  }

  [Symbol.asyncIterator](): AsyncIterator<TcpStateChange> {
    return this.events();
  }

  /** Kernel ids of what this tracer loaded (gone after close()). */
  kernelIds(): { programs: number[]; maps: number[] } {
    return kernelIds(this.coll);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring.close();
    this.coll.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export async function* tcpstates(opts: TcpPortFilter = {}): AsyncGenerator<TcpStateChange> {
  const t = await TcpstatesTracer.open(opts);
  try {
    yield* t.events();
  } finally {
    t.close();
  }
}

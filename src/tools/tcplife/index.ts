// tcplife: TCP sessions when they close, with lifetime and bytes sent and received.
//
//   for await (const s of tcplife({ family: 4 })) console.log(s.comm, s.daddr, s.txBytes, s.ms);
import type { Collection } from '../common/runtime.js';
import { EventTracer, eventRing, openTool, tracerEvents, wakeupBatch, type BatchOption } from '../common/tracer.js';
import { cgroupFilter } from '../common/cgroup.js';
import { inetString, AF_INET, AF_INET6 } from '../../output/inet.js';
import { str, num, big, bytes } from '../common/decode.js';
import type { TcplifeConstants, TcplifeProgram } from './tcplife.gen.js';
import type { TcpstatesConstants } from '../tcpstates/tcpstates.gen.js';

export const PROGRAMS: TcplifeProgram[] = ['tp_inet_sock_set_state'];
const MAX_PORTS = 8;

export interface TcpPortFilter extends BatchOption {
  pid?: number;
  family?: 4 | 6;
  /** local ports (up to 8) */
  localPorts?: number[];
  /** remote ports (up to 8) */
  remotePorts?: number[];
  cgroup?: string;
  signal?: AbortSignal;
}

export interface TcpSession {
  pid: number;
  comm: string;
  af: 4 | 6;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  txBytes: number;
  rxBytes: number;
  /** lifetime in milliseconds */
  ms: number;
  ts: number;
  cgroup: bigint;
}

export function portList(name: string, ports: number[] | undefined): number[] | undefined {
  if (!ports?.length) return undefined;
  if (ports.length > MAX_PORTS) throw new RangeError(`at most ${MAX_PORTS} ${name} ports`);
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`invalid port ${p}`);
  const out = new Array<number>(MAX_PORTS).fill(0);
  ports.forEach((p, i) => (out[i] = p));
  return out;
}

/** The filters tcplife and tcpstates share, as .rodata values. */
export function portConstants(o: TcpPortFilter): TcplifeConstants & TcpstatesConstants {
  return {
    targ_pid: o.pid,
    target_family: o.family === 4 ? AF_INET : o.family === 6 ? AF_INET6 : undefined,
    n_sports: o.localPorts?.length || undefined,
    target_sports: portList('local', o.localPorts),
    n_dports: o.remotePorts?.length || undefined,
    target_dports: portList('remote', o.remotePorts),
    ...(o.cgroup ? cgroupFilter(o.cgroup) : {}),
  };
}

/** The task and socket fields tcplife's and tcpstates' records share, in their order. */
export function sockFields(r: Record<string, unknown>): Pick<TcpSession, 'pid' | 'comm' | 'af' | 'saddr' | 'daddr' | 'sport' | 'dport'> {
  const family = num(r.family);
  return {
    pid: num(r.pid),
    comm: str(r.comm),
    af: family === AF_INET ? 4 : 6,
    saddr: inetString(family, bytes(r.saddr)),
    daddr: inetString(family, bytes(r.daddr)),
    sport: num(r.sport),
    dport: num(r.dport),
  };
}

export function sessionFromRecord(r: Record<string, unknown>): TcpSession {
  return {
    ...sockFields(r),
    txBytes: num(r.tx_b),
    rxBytes: num(r.rx_b),
    ms: num(r.span_us) / 1000,
    ts: num(r.ts_us),
    cgroup: big(r.cgroup_id),
  };
}

export class TcplifeTracer extends EventTracer<TcpSession, TcpPortFilter> {
  readonly hookName = 'tracepoint sock/inet_sock_set_state';

  private constructor(coll: Collection, opts: TcpPortFilter) {
    super(coll, opts, eventRing(coll));
  }

  static async open(opts: TcpPortFilter = {}): Promise<TcplifeTracer> {
    return openTool('tcplife', { constants: portConstants(opts), programs: PROGRAMS, batch: wakeupBatch(opts.batch) }, (coll) => new TcplifeTracer(coll, opts));
  }

  protected decode(r: Record<string, unknown>): TcpSession {
    return sessionFromRecord(r);
  }
}

export function tcplife(opts: TcpPortFilter = {}): AsyncGenerator<TcpSession> {
  return tracerEvents(() => TcplifeTracer.open(opts));
}

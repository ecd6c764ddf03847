// What tcplife and tcpstates share: both hook sock:inet_sock_set_state, take the same filters (pid,
// family, up to 8 local and remote ports, a cgroup) as .rodata values, and start their records with
// the same task and socket fields.
import type { Collection } from './runtime.js';
import { EventTracer, eventRing, openTool, wakeupBatch, type BatchOption } from './tracer.js';
import { cgroupFilter } from './cgroup.js';
import { formatInet, AF_INET, AF_INET6 } from '../../output/inet.js';
import { str, num, big, bytes } from './decode.js';

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

/** The task and socket fields of a record, in their order. */
export interface SockFields {
  pid: number;
  comm: string;
  af: 4 | 6;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
}

export function portList(name: string, ports: number[] | undefined): number[] | undefined {
  if (!ports?.length) return undefined;
  if (ports.length > MAX_PORTS) throw new RangeError(`at most ${MAX_PORTS} ${name} ports`);
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`invalid port ${p}`);
  const out = new Array<number>(MAX_PORTS).fill(0);
  ports.forEach((p, i) => (out[i] = p));
  return out;
}

/** The .rodata filters both objects have (SockStateTracer.tool checks each object's generated constants take them). */
export type SockStateConstants = {
  targ_pid?: number;
  target_family?: number;
  n_sports?: number;
  target_sports?: number[];
  n_dports?: number;
  target_dports?: number[];
  targ_cgroup_id?: bigint;
  targ_cgroup_level?: number;
};

/** The filters as .rodata values. */
export function portConstants(o: TcpPortFilter): SockStateConstants {
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

export function sockFields(r: Record<string, unknown>): SockFields {
  const family = num(r.family);
  return {
    pid: num(r.pid),
    comm: str(r.comm),
    af: family === AF_INET ? 4 : 6,
    saddr: formatInet(family, bytes(r.saddr)),
    daddr: formatInet(family, bytes(r.daddr)),
    sport: num(r.sport),
    dport: num(r.dport),
  };
}

/** What tcplife and tcpstates export as `<Tool>Tracer`: open the tracer with the filters. */
export interface SockStateTool<E> {
  open(opts?: TcpPortFilter): Promise<SockStateTracer<E>>;
}

/** A tracer of sock:inet_sock_set_state whose events the tool's `fromRecord` makes. */
export class SockStateTracer<E> extends EventTracer<E, TcpPortFilter> {
  readonly hookName = 'tracepoint sock/inet_sock_set_state';

  /**
   * `tool`'s tracer: its `programs` loaded and attached with the filters as .rodata, each record an
   * event by `fromRecord`. `constants` is portConstants, typed as the tool's generated constants
   * (`C`), so a filter the object does not have does not compile.
   */
  static tool<E, C extends Readonly<Record<string, unknown>>>(tool: string, programs: string[], fromRecord: (r: Record<string, unknown>) => E, constants: (o: TcpPortFilter) => C): SockStateTool<E> {
    return {
      open: (opts = {}) => openTool(tool, { constants: constants(opts), programs, batch: wakeupBatch(opts.batch) }, (coll) => new SockStateTracer(coll, opts, fromRecord)),
    };
  }

  protected constructor(
    coll: Collection,
    opts: TcpPortFilter,
    private readonly fromRecord: (r: Record<string, unknown>) => E,
  ) {
    super(coll, opts, eventRing(coll));
  }

  protected decode(r: Record<string, unknown>): E {
    return this.fromRecord(r);
  }
}

/** The fields that close both tools' events: when, and the task's cgroup. */
export interface SockEventEnd {
  ts: number;
  cgroup: bigint;
}

export function sockEventEnd(r: Record<string, unknown>): SockEventEnd {
  return { ts: num(r.ts_us), cgroup: big(r.cgroup_id) };
}

// tcpstates: every TCP state change, with the time spent in the previous state.
//
//   for await (const c of tcpstates({ remotePorts: [443] })) console.log(c.oldstate, '->', c.newstate);
import type { LoadConstantsOf, ProgramOf } from '../../kernel/typed.js';
import type { TcpstatesObjects } from './tcpstates.gen.js';
import { tracerEvents } from '../common/tracer.js';
import { SockStateTracer, portConstants, sockEventEnd, sockFields, type SockEventEnd, type SockFields, type TcpPortFilter } from '../common/tcp-session.js';
import { num, big, s32 } from '../common/decode.js';

export const PROGRAMS: ProgramOf<typeof TcpstatesObjects>[] = ['tp_inet_sock_set_state'];

/** include/net/tcp_states.h */
export const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV'];

export function stateName(n: number): string {
  return TCP_STATES[n] || `UNKNOWN(${n})`;
}

export interface TcpStateChange extends SockFields, SockEventEnd {
  skaddr: bigint;
  oldstate: string;
  newstate: string;
  /** milliseconds spent in oldstate (0 the first time the socket is seen) */
  ms: number;
}

export function changeFromRecord(r: Record<string, unknown>): TcpStateChange {
  return {
    skaddr: big(r.skaddr),
    ...sockFields(r),
    oldstate: stateName(s32(r.oldstate)),
    newstate: stateName(s32(r.newstate)),
    ms: num(r.delta_us) / 1000,
    ...sockEventEnd(r),
  };
}

export const TcpstatesTracer = SockStateTracer.tool<TcpStateChange, LoadConstantsOf<typeof TcpstatesObjects>>('tcpstates', PROGRAMS, changeFromRecord, portConstants);
export type TcpstatesTracer = SockStateTracer<TcpStateChange>;

export function tcpstates(opts: TcpPortFilter = {}): AsyncGenerator<TcpStateChange> {
  return tracerEvents(() => TcpstatesTracer.open(opts));
}

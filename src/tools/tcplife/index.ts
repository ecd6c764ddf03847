// tcplife: TCP sessions when they close, with lifetime and bytes sent and received.
//
//   for await (const s of tcplife({ family: 4 })) console.log(s.comm, s.daddr, s.txBytes, s.ms);
import { tracerEvents } from '../common/tracer.js';
import { SockStateTracer, portConstants, sockEventEnd, sockFields, type SockEventEnd, type SockFields, type TcpPortFilter } from '../common/tcp-session.js';
import { num, big } from '../common/decode.js';
import type { LoadConstantsOf, ProgramOf } from '../../kernel/typed.js';
import type { TcplifeObjects } from './tcplife.gen.js';

export type { TcpPortFilter };

export const PROGRAMS: ProgramOf<typeof TcplifeObjects>[] = ['tp_inet_sock_set_state'];

export interface TcpSession extends SockFields, SockEventEnd {
  txBytes: number;
  rxBytes: number;
  /** lifetime in milliseconds */
  ms: number;
}

export function sessionFromRecord(r: Record<string, unknown>): TcpSession {
  return {
    ...sockFields(r),
    txBytes: num(r.tx_b),
    rxBytes: num(r.rx_b),
    ms: num(r.span_us) / 1000,
    ...sockEventEnd(r),
  };
}

export const TcplifeTracer = SockStateTracer.tool<TcpSession, LoadConstantsOf<typeof TcplifeObjects>>('tcplife', PROGRAMS, sessionFromRecord, portConstants);
export type TcplifeTracer = SockStateTracer<TcpSession>;

export function tcplife(opts: TcpPortFilter = {}): AsyncGenerator<TcpSession> {
  return tracerEvents(() => TcplifeTracer.open(opts));
}

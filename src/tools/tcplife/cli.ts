// `tsbpf tcplife`: flags and columns of libbpf-tools' tcplife.
import type { Command } from 'commander';
import { TcplifeTracer, type TcpSession } from './index.js';
import { pad, padCut, clockTime } from '../../output/table.js';
import { tcpSessionCommand, type TcpSessionCliOptions } from '../common/tcp-session-cli.js';

export type TcplifeCliOptions = TcpSessionCliOptions;

// Columns as Debian's libbpf-tools tcplife (0.26) prints them: -T's header says TIME(s) but the rows
// carry the wall-clock time, as there.
export function header(o: TcplifeCliOptions): string {
  const w = o.wide ? 26 : 15;
  let s = '';
  if (o.time) s += `${pad('TIME(s)', 8)} `;
  s += `${pad('PID', 7)} ${pad('COMM', 16)} ${pad('LADDR', w)} ${pad('LPORT', 5)} ${pad('RADDR', w)} ${pad('RPORT', 5)} ${pad('TX_KB', 6)} ${pad('RX_KB', 6)} MS`;
  if (o.showCgroup) s += '  CGROUP';
  return s + '\n';
}

export function row(e: TcpSession, o: TcplifeCliOptions, cgroup?: string): string {
  const w = o.wide ? 26 : 15;
  let s = '';
  if (o.time) s += `${pad(clockTime(), 8)} `;
  s += `${pad(e.pid, 7)} ${padCut(e.comm, 16)} ${pad(e.saddr, w)} ${pad(e.sport, 5)} ${pad(e.daddr, w)} ${pad(e.dport, 5)} `;
  s += `${pad((e.txBytes / 1024).toFixed(2), 6)} ${pad((e.rxBytes / 1024).toFixed(2), 6)} ${e.ms.toFixed(2)}`;
  if (cgroup !== undefined) s += `  ${cgroup}`;
  return s + '\n';
}

export function tcplifeCommand(): Command {
  return tcpSessionCommand('tcplife', 'Trace TCP sessions: lifetime and bytes in and out, as libbpf-tools tcplife', 'only this process', { open: (filter) => TcplifeTracer.open(filter), header, row });
}

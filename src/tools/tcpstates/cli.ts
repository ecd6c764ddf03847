// `tsbpf tcpstates`: flags and columns of libbpf-tools' tcpstates.
import type { Command } from 'commander';
import { TcpstatesTracer, type TcpStateChange } from './index.js';
import { pad, padCut, clockTime } from '../../output/table.js';
import { tcpSessionCommand, type TcpSessionCliOptions } from '../common/tcp-session-cli.js';

export type TcpstatesCliOptions = TcpSessionCliOptions;

// Columns as Debian's libbpf-tools tcpstates (0.26) prints them: narrow COMM and no IP column
// unless wide; -T's header says TIME(s), the rows carry the wall-clock time.
export function header(o: TcpstatesCliOptions): string {
  let s = '';
  if (o.time) s += `${pad('TIME(s)', 8)} `;
  s += `${pad('SKADDR', 16)} ${pad('PID', 7)} `;
  s += o.wide ? `${pad('COMM', 16)} ${pad('IP', 2)} ${pad('LADDR', 26)} ${pad('LPORT', 5)} ${pad('RADDR', 26)} ` : `${pad('COMM', 10)} ${pad('LADDR', 15)} ${pad('LPORT', 5)} ${pad('RADDR', 15)} `;
  s += `${pad('RPORT', 5)} ${pad('OLDSTATE', 11)} -> ${pad('NEWSTATE', 11)} MS`;
  if (o.showCgroup) s += '  CGROUP';
  return s + '\n';
}

export function row(e: TcpStateChange, o: TcpstatesCliOptions, cgroup?: string): string {
  let s = '';
  if (o.time) s += `${pad(clockTime(), 8)} `;
  s += `${pad(e.skaddr.toString(16), 16)} ${pad(e.pid, 7)} `;
  s += o.wide
    ? `${padCut(e.comm, 16)} ${pad(e.af, 2)} ${pad(e.saddr, 26)} ${pad(e.sport, 5)} ${pad(e.daddr, 26)} `
    : `${padCut(e.comm, 10)} ${pad(e.saddr, 15)} ${pad(e.sport, 5)} ${pad(e.daddr, 15)} `;
  s += `${pad(e.dport, 5)} ${pad(e.oldstate, 11)} -> ${pad(e.newstate, 11)} ${e.ms.toFixed(3)}`;
  if (cgroup !== undefined) s += `  ${cgroup}`;
  return s + '\n';
}

export function tcpstatesCommand(): Command {
  return tcpSessionCommand('tcpstates', 'Trace TCP state changes with the time spent in each state, as libbpf-tools tcpstates', 'only this process (the task current at the change)', { open: (filter) => TcpstatesTracer.open(filter), header, row });
}

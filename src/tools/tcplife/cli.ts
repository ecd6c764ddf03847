// `tsbpf tcplife`: flags and columns of libbpf-tools' tcplife.
import { Command } from 'commander';
import { TcplifeTracer, type TcpSession, type TcpPortFilter } from './index.js';
import { pad, padCut, clockTime } from '../../output/table.js';
import { commonOptions, parseIntArg, parseIntList, familyOf } from '../common/cli.js';
import { runEventTool, printEvents, type EventCliOptions } from '../common/run.js';

/** The flags tcplife and tcpstates share. */
export interface TcpSessionCliOptions extends EventCliOptions {
  pid?: number;
  ipv4?: boolean;
  ipv6?: boolean;
  localport?: number[];
  remoteport?: number[];
  wide?: boolean;
  time?: boolean;
}

export type TcplifeCliOptions = TcpSessionCliOptions;

/** Adds tcplife's and tcpstates' flags (then the common ones); `pidHelp` says which task -p matches. */
export function tcpSessionCommand(name: string, description: string, pidHelp: string): Command {
  const cmd = new Command(name)
    .description(description)
    .option('-p, --pid <pid>', pidHelp, parseIntArg('PID', 1, 2 ** 31 - 1))
    .option('-4, --ipv4', 'only IPv4')
    .option('-6, --ipv6', 'only IPv6')
    .option('-L, --localport <ports>', 'only these local ports (comma-separated, up to 8)', parseIntList('PORT', 1, 65535, 8))
    .option('-D, --remoteport <ports>', 'only these remote ports (comma-separated, up to 8)', parseIntList('PORT', 1, 65535, 8))
    .option('-w, --wide', 'wide columns (fit IPv6 addresses)')
    .option('-T, --time', 'include a time column (HH:MM:SS)');
  return commonOptions(cmd);
}

/** The in-kernel filters of the flags (throws on -4 with -6). */
export function tcpPortFilter(o: TcpSessionCliOptions): Omit<TcpPortFilter, 'signal'> {
  return { pid: o.pid, family: familyOf(o), localPorts: o.localport, remotePorts: o.remoteport, cgroup: o.cgroup };
}

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

export async function runTcplife(o: TcplifeCliOptions): Promise<void> {
  const filter = tcpPortFilter(o);
  await runEventTool('tcplife', o, (signal) => TcplifeTracer.open({ ...filter, signal }), (tracer, run) =>
    printEvents(tracer.batches(run.signal), o, run, { header: header(o), row: (e, _, cgroup) => row(e, o, cgroup) }),
  );
}

export function tcplifeCommand(): Command {
  const cmd = tcpSessionCommand('tcplife', 'Trace TCP sessions: lifetime and bytes in and out, as libbpf-tools tcplife', 'only this process');
  return cmd.action(async (opts: TcplifeCliOptions) => runTcplife(opts));
}

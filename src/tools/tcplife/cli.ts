// `tsbpf tcplife`: flags and columns of libbpf-tools' tcplife.
import { Command } from 'commander';
import { TcplifeTracer, type TcpSession } from './index.js';
import { pad, padCut, clockTime } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { commonOptions, parseIntArg, parseIntList, stopSignal, LostReporter, CgroupNames, stdoutWriter, io } from '../common/cli.js';

export interface TcplifeCliOptions {
  pid?: number;
  ipv4?: boolean;
  ipv6?: boolean;
  localport?: number[];
  remoteport?: number[];
  wide?: boolean;
  time?: boolean;
  cgroup?: string;
  showCgroup?: boolean;
  json?: boolean;
  verbose?: boolean;
  duration?: number;
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
  if (o.ipv4 && o.ipv6) throw new Error('-4 and -6 exclude each other');
  const stop = stopSignal(o.duration);
  const write = stdoutWriter(stop.abort);
  const tracer = await TcplifeTracer.open({
    pid: o.pid,
    family: o.ipv4 ? 4 : o.ipv6 ? 6 : undefined,
    localPorts: o.localport,
    remotePorts: o.remoteport,
    cgroup: o.cgroup,
    signal: stop.signal,
  });
  const lost = new LostReporter(() => tracer.lost, write, !!o.json);
  const names = o.showCgroup || o.json ? new CgroupNames() : undefined;
  try {
    if (o.verbose) io.err(`tcplife: hook ${tracer.hookName}\n`);
    if (!o.json) write(header(o));
    for await (const e of tracer.events(stop.signal)) {
      if (o.json) write(toJson({ ...e, ...names!.describe(e.cgroup) }) + '\n');
      else write(row(e, o, o.showCgroup ? names!.column(e.cgroup) : undefined));
    }
  } finally {
    lost.stop();
    tracer.close();
    stop.done();
    write.flush();
  }
}

export function tcplifeCommand(): Command {
  const cmd = new Command('tcplife')
    .description('Trace TCP sessions: lifetime and bytes in and out, as libbpf-tools tcplife')
    .option('-p, --pid <pid>', 'only this process', parseIntArg('PID', 1, 2 ** 31 - 1))
    .option('-4, --ipv4', 'only IPv4')
    .option('-6, --ipv6', 'only IPv6')
    .option('-L, --localport <ports>', 'only these local ports (comma-separated, up to 8)', parseIntList('PORT', 1, 65535, 8))
    .option('-D, --remoteport <ports>', 'only these remote ports (comma-separated, up to 8)', parseIntList('PORT', 1, 65535, 8))
    .option('-w, --wide', 'wide columns (fit IPv6 addresses)')
    .option('-T, --time', 'include a time column (HH:MM:SS)');
  commonOptions(cmd);
  return cmd.action(async (opts: TcplifeCliOptions) => runTcplife(opts));
}

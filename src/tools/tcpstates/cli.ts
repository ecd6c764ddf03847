// `tsbpf tcpstates`: flags and columns of libbpf-tools' tcpstates.
import { Command } from 'commander';
import { TcpstatesTracer, type TcpStateChange } from './index.js';
import { pad, padCut, clockTime } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { commonOptions, parseIntArg, parseIntList, stopSignal, LostReporter, CgroupNames, stdoutWriter, io } from '../common/cli.js';

export interface TcpstatesCliOptions {
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

export async function runTcpstates(o: TcpstatesCliOptions): Promise<void> {
  if (o.ipv4 && o.ipv6) throw new Error('-4 and -6 exclude each other');
  const stop = stopSignal(o.duration);
  const write = stdoutWriter(stop.abort);
  const tracer = await TcpstatesTracer.open({
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
    if (o.verbose) io.err(`tcpstates: hook ${tracer.hookName}\n`);
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

export function tcpstatesCommand(): Command {
  const cmd = new Command('tcpstates')
    .description('Trace TCP state changes with the time spent in each state, as libbpf-tools tcpstates')
    .option('-p, --pid <pid>', 'only this process (the task current at the change)', parseIntArg('PID', 1, 2 ** 31 - 1))
    .option('-4, --ipv4', 'only IPv4')
    .option('-6, --ipv6', 'only IPv6')
    .option('-L, --localport <ports>', 'only these local ports (comma-separated, up to 8)', parseIntList('PORT', 1, 65535, 8))
    .option('-D, --remoteport <ports>', 'only these remote ports (comma-separated, up to 8)', parseIntList('PORT', 1, 65535, 8))
    .option('-w, --wide', 'wide columns (fit IPv6 addresses)')
    .option('-T, --time', 'include a time column (HH:MM:SS)');
  commonOptions(cmd);
  return cmd.action(async (opts: TcpstatesCliOptions) => runTcpstates(opts));
}

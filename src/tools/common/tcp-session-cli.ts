// The command line tcplife and tcpstates share: their flags, the in-kernel filters the flags make,
// and the run that prints a header and a row per event.
import { Command } from 'commander';
import { commonOptions, parseIntArg, parseIntList, familyOf } from './cli.js';
import { runEventTool, printEvents, type EventCliOptions } from './run.js';
import type { SockStateTracer, TcpPortFilter } from './tcp-session.js';

export interface TcpSessionCliOptions extends EventCliOptions {
  pid?: number;
  ipv4?: boolean;
  ipv6?: boolean;
  localport?: number[];
  remoteport?: number[];
  wide?: boolean;
  time?: boolean;
}

/** How one of the two tools opens its tracer and prints its events. */
export interface TcpSessionTool<E> {
  open(filter: TcpPortFilter): Promise<SockStateTracer<E>>;
  header(o: TcpSessionCliOptions): string;
  row(e: E, o: TcpSessionCliOptions, cgroup?: string): string;
}

/** The command: the flags (then the common ones), running `tool`; `pidHelp` says which task -p matches. */
export function tcpSessionCommand<E extends { ts: number; cgroup: bigint }>(name: string, description: string, pidHelp: string, tool: TcpSessionTool<E>): Command {
  const cmd = new Command(name)
    .description(description)
    .option('-p, --pid <pid>', pidHelp, parseIntArg('PID', 1, 2 ** 31 - 1))
    .option('-4, --ipv4', 'only IPv4')
    .option('-6, --ipv6', 'only IPv6')
    .option('-L, --localport <ports>', 'only these local ports (comma-separated, up to 8)', parseIntList('PORT', 1, 65535, 8))
    .option('-D, --remoteport <ports>', 'only these remote ports (comma-separated, up to 8)', parseIntList('PORT', 1, 65535, 8))
    .option('-w, --wide', 'wide columns (fit IPv6 addresses)')
    .option('-T, --time', 'include a time column (HH:MM:SS)');
  return commonOptions(cmd).action(async (o: TcpSessionCliOptions) => runTcpSessionTool(name, o, tool));
}

/** The in-kernel filters of the flags (throws on -4 with -6). */
export function tcpPortFilter(o: TcpSessionCliOptions): Omit<TcpPortFilter, 'signal'> {
  return { pid: o.pid, family: familyOf(o), localPorts: o.localport, remotePorts: o.remoteport, cgroup: o.cgroup };
}

/** Runs `tool` until stopped, printing its header once and a row for each event. */
export async function runTcpSessionTool<E extends { ts: number; cgroup: bigint }>(name: string, o: TcpSessionCliOptions, tool: TcpSessionTool<E>): Promise<void> {
  const filter = tcpPortFilter(o);
  const header = tool.header(o);
  await runEventTool(name, o, (signal) => tool.open({ ...filter, signal }), (tracer, run) =>
    printEvents(tracer.batches(run.signal), o, run, { header, row: (e, _, cgroup) => tool.row(e, o, cgroup) }),
  );
}

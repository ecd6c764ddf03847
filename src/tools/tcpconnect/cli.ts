// `tsbpf tcpconnect`: flags and columns of libbpf-tools' tcpconnect.
import { Command, Option } from 'commander';
import { TcpConnectTracer, type TcpConnect, type TcpConnectHook, type FlowCount } from './index.js';
import { pad, padCut } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { commonOptions, parseIntArg, parseIntList, familyOf, io, timeUidCells, timeUidHeader, type TimeUidOptions } from '../common/cli.js';
import { runEventTool, printEvents, untilAborted, type EventCliOptions } from '../common/run.js';

export interface TcpConnectCliOptions extends EventCliOptions, TimeUidOptions {
  pid?: number;
  uid?: number;
  port?: number[];
  count?: boolean;
  sourcePort?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  hook?: TcpConnectHook;
}

export function header(o: TcpConnectCliOptions): string {
  let s = '';
  s += timeUidHeader(o, 9);
  s += `${pad('PID', 6)} ${pad('COMM', 12)} ${pad('IP', 2)} ${pad('SADDR', 16)} ${pad('DADDR', 16)}`;
  if (o.sourcePort) s += ` ${pad('SPORT', 5)}`;
  s += ` ${pad('DPORT', 5)}`;
  if (o.showCgroup) s += ' CGROUP';
  return s + '\n';
}

export function row(e: TcpConnect, o: TcpConnectCliOptions, startTs: number, cgroup?: string): string {
  let s = '';
  s += timeUidCells(o, 9, e, startTs);
  s += `${pad(e.pid, 6)} ${padCut(e.comm, 12)} ${pad(e.af, 2)} ${pad(e.saddr, 16)} ${pad(e.daddr, 16)}`;
  if (o.sourcePort) s += ` ${pad(e.sport, 5)}`;
  s += ` ${pad(e.dport, 5)}`;
  if (cgroup !== undefined) s += ` ${cgroup}`;
  return s + '\n';
}

export function countTable(counts: FlowCount[]): string {
  let s = `\n${pad('LADDR', 25)} ${pad('RADDR', 25)} ${pad('RPORT', 20)} ${pad('CONNECTS', 10)}\n`;
  for (const c of counts) s += `${pad(c.saddr, 25)} ${pad(c.daddr, 25)} ${pad(c.dport, 20)} ${pad(c.count, 10)}\n`;
  return s;
}

export async function runTcpconnect(o: TcpConnectCliOptions): Promise<void> {
  const family = familyOf(o);
  const open = (signal: AbortSignal) =>
    TcpConnectTracer.open({
      pid: o.pid,
      uid: o.uid,
      ports: o.port,
      family,
      cgroup: o.cgroup,
      count: o.count,
      hooks: o.hook ? [o.hook] : undefined,
      waitSourcePort: o.sourcePort || o.json ? 1000 : false,
      signal,
    });
  await runEventTool('tcpconnect', o, open, async (tracer, run) => {
    if (o.count) {
      if (!o.json) io.err('Tracing connects ... Hit Ctrl-C to end\n');
      await untilAborted(run.signal);
      const counts = tracer.counts();
      if (o.json) run.write(toJson({ type: 'aggregation', name: 'connects', data: counts }) + '\n');
      else run.write(countTable(counts));
      return;
    }
    await printEvents(tracer.batches(run.signal), o, run, {
      header: header(o),
      row: (e, startTs, cgroup) => row(e, o, startTs, cgroup),
      // cgroup after the hook's own fields (ret, state)
      json: ({ cgroup, ...rest }) => ({ ...rest, cgroup }),
    });
  });
}

export function tcpconnectCommand(): Command {
  const cmd = new Command('tcpconnect')
    .description('Trace outgoing TCP connects (IPv4 and IPv6), as libbpf-tools tcpconnect')
    .option('-t, --timestamp', 'include a timestamp column (seconds since the first event)')
    .option('-U, --print-uid', 'include the UID column')
    .option('-p, --pid <pid>', 'only this process', parseIntArg('PID', 1, 2 ** 31 - 1))
    .option('-u, --uid <uid>', 'only this UID', parseIntArg('UID', 0, 0xfffffffe))
    .option('-P, --port <ports>', 'only these destination ports (comma-separated, up to 8)', parseIntList('PORT', 1, 65535, 8))
    .option('-c, --count', 'count connects per source, destination and port; print on Ctrl+C')
    .option('-s, --source-port', 'include the source port column')
    .option('-4, --ipv4', 'only IPv4')
    .option('-6, --ipv6', 'only IPv6')
    .addOption(new Option('--hook <hook>', 'force a hook instead of probing').choices(['kprobe', 'fexit', 'tp_btf', 'tracepoint']));
  commonOptions(cmd);
  return cmd.action(async (opts: TcpConnectCliOptions) => runTcpconnect(opts));
}

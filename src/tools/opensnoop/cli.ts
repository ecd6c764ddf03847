// `tsbpf opensnoop`: flags and columns of libbpf-tools' opensnoop.
import { Command } from 'commander';
import { OpensnoopTracer, type Open } from './index.js';
import { pad, clockTime } from '../../output/table.js';
import { commonOptions, parseIntArg } from '../common/cli.js';
import { runEventTool, printEvents, type EventCliOptions } from '../common/run.js';

export interface OpensnoopCliOptions extends EventCliOptions {
  timestamp?: boolean;
  printUid?: boolean;
  extended?: boolean;
  failed?: boolean;
  pid?: number;
  tid?: number;
  uid?: number;
  name?: string;
}

export function header(o: OpensnoopCliOptions): string {
  let s = '';
  if (o.timestamp) s += `${pad('TIME', 8)} `;
  if (o.printUid) s += `${pad('UID', 7)} `;
  s += `${pad('PID', 6)} ${pad('COMM', 16)} ${pad('FD', 3, 'right')} ${pad('ERR', 3, 'right')} `;
  if (o.extended) s += `${pad('FLAGS', 8)} `;
  s += 'PATH';
  if (o.showCgroup) s += '  CGROUP';
  return s + '\n';
}

export function row(e: Open, o: OpensnoopCliOptions, cgroup?: string): string {
  let s = '';
  if (o.timestamp) s += `${pad(clockTime(), 8)} `;
  if (o.printUid) s += `${pad(e.uid, 7)} `;
  s += `${pad(e.pid, 6)} ${pad(e.comm, 16)} ${pad(e.fd, 3, 'right')} ${pad(e.errno, 3, 'right')} `;
  if (o.extended) s += `${e.flags.toString(8).padStart(8, '0')} `;
  s += e.path;
  if (cgroup !== undefined) s += `  ${cgroup}`;
  return s + '\n';
}

export async function runOpensnoop(o: OpensnoopCliOptions): Promise<void> {
  const open = (signal: AbortSignal) => OpensnoopTracer.open({ pid: o.pid, tid: o.tid, uid: o.uid, failed: o.failed, cgroup: o.cgroup, signal });
  await runEventTool('opensnoop', o, open, (tracer, run) =>
    printEvents(tracer.batches(run.signal), o, run, {
      header: header(o),
      row: (e, _, cgroup) => row(e, o, cgroup),
      keep: (e) => !o.name || e.comm.includes(o.name),
    }),
  );
}

export function opensnoopCommand(): Command {
  const cmd = new Command('opensnoop')
    .description('Trace open family syscalls with path, flags and result, as libbpf-tools opensnoop')
    .option('-T, --timestamp', 'include a time column (HH:MM:SS)')
    .option('-U, --print-uid', 'include the UID column')
    .option('-e, --extended', 'include the FLAGS column (octal)')
    .option('-x, --failed', 'only failed opens')
    .option('-p, --pid <pid>', 'only this process', parseIntArg('PID', 1, 2 ** 31 - 1))
    .option('-t, --tid <tid>', 'only this thread', parseIntArg('TID', 1, 2 ** 31 - 1))
    .option('-u, --uid <uid>', 'only this UID', parseIntArg('UID', 0, 0xfffffffe))
    .option('-n, --name <name>', 'only commands whose name contains this');
  commonOptions(cmd);
  return cmd.action(async (opts: OpensnoopCliOptions) => runOpensnoop(opts));
}

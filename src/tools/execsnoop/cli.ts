// `tsbpf execsnoop`: flags and columns of libbpf-tools' execsnoop.
import { Command } from 'commander';
import { ExecsnoopTracer, type Exec, TOTAL_MAX_ARGS } from './index.js';
import { pad, clockTime } from '../../output/table.js';
import { commonOptions, parseIntArg, timeUidCells, timeUidHeader, type TimeUidOptions } from '../common/cli.js';
import { runEventTool, printEvents, type EventCliOptions } from '../common/run.js';

export interface ExecsnoopCliOptions extends EventCliOptions, TimeUidOptions {
  time?: boolean;
  fails?: boolean;
  uid?: number;
  quote?: boolean;
  name?: string;
  line?: string;
  maxArgs?: number;
}

// Widths and spacing as Debian's libbpf-tools execsnoop (0.26) prints them, quirks included: the
// header puts a space after TIME(s) and UID, the rows do not.
export function header(o: ExecsnoopCliOptions): string {
  let s = '';
  if (o.time) s += pad('TIME', 9);
  s += timeUidHeader(o, 8, ' ');
  s += `${pad('PCOMM', 16)} ${pad('PID', 6)} ${pad('PPID', 6)} ${pad('RET', 3, 'right')} ARGS`;
  if (o.showCgroup) s += '  CGROUP';
  return s + '\n';
}

function quoteArg(a: string): string {
  return `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function row(e: Exec, o: ExecsnoopCliOptions, startTs: number, cgroup?: string): string {
  let s = '';
  if (o.time) s += `${pad(clockTime(), 8)} `;
  s += timeUidCells(o, 8, e, startTs);
  s += `${pad(e.comm, 16)} ${pad(e.pid, 6)} ${pad(e.ppid, 6)} ${pad(e.ret, 3, 'right')} `;
  const args = o.quote ? e.args.map(quoteArg) : e.args;
  s += args.map((a) => `${a} `).join('');
  if (e.truncated) s += '...';
  if (cgroup !== undefined) s += ` ${cgroup}`;
  return s + '\n';
}

export async function runExecsnoop(o: ExecsnoopCliOptions): Promise<void> {
  const open = (signal: AbortSignal) => ExecsnoopTracer.open({ uid: o.uid, failed: o.fails, maxArgs: o.maxArgs, cgroup: o.cgroup, signal });
  await runEventTool('execsnoop', o, open, (tracer, run) =>
    printEvents(tracer.batches(run.signal), o, run, {
      header: header(o),
      row: (e, startTs, cgroup) => row(e, o, startTs, cgroup),
      // -n and -l match what the kernel sent, as libbpf-tools does in user space
      keep: (e) => (!o.name || e.comm.includes(o.name)) && (!o.line || e.args.some((a) => a.includes(o.line!))),
    }),
  );
}

export function execsnoopCommand(): Command {
  const cmd = new Command('execsnoop')
    .description('Trace exec() calls with arguments, return code and parent PID, as libbpf-tools execsnoop')
    .option('-T, --time', 'include a time column (HH:MM:SS)')
    .option('-t, --timestamp', 'include a timestamp column (seconds since the first event)')
    .option('-x, --fails', 'include failed exec()s')
    .option('-u, --uid <uid>', 'only this UID', parseIntArg('UID', 0, 0xfffffffe))
    .option('-q, --quote', 'quote the arguments')
    .option('-n, --name <name>', 'only commands whose name contains this')
    .option('-l, --line <text>', 'only commands with an argument containing this')
    .option('-U, --print-uid', 'include the UID column')
    .option('--max-args <n>', `arguments kept (1..${TOTAL_MAX_ARGS}, default 20)`, parseIntArg('max-args', 1, TOTAL_MAX_ARGS));
  commonOptions(cmd);
  return cmd.action(async (opts: ExecsnoopCliOptions) => runExecsnoop(opts));
}

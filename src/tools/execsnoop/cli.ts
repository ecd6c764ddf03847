// `tsbpf execsnoop`: flags and columns of libbpf-tools' execsnoop.
import { Command } from 'commander';
import { ExecsnoopTracer, type Exec, TOTAL_MAX_ARGS } from './index.js';
import { pad, clockTime } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { commonOptions, parseIntArg, stopSignal, LostReporter, CgroupNames, stdoutWriter, io } from '../common/cli.js';

export interface ExecsnoopCliOptions {
  time?: boolean;
  timestamp?: boolean;
  fails?: boolean;
  uid?: number;
  quote?: boolean;
  name?: string;
  line?: string;
  printUid?: boolean;
  maxArgs?: number;
  cgroup?: string;
  showCgroup?: boolean;
  json?: boolean;
  verbose?: boolean;
  duration?: number;
}

// Widths and spacing as Debian's libbpf-tools execsnoop (0.26) prints them, quirks included: the
// header puts a space after TIME(s) and UID, the rows do not.
export function header(o: ExecsnoopCliOptions): string {
  let s = '';
  if (o.time) s += pad('TIME', 9);
  if (o.timestamp) s += `${pad('TIME(s)', 8)} `;
  if (o.printUid) s += `${pad('UID', 6)} `;
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
  if (o.timestamp) s += pad(((e.ts - startTs) / 1e6).toFixed(3), 8);
  if (o.printUid) s += pad(e.uid, 6);
  s += `${pad(e.comm, 16)} ${pad(e.pid, 6)} ${pad(e.ppid, 6)} ${pad(e.ret, 3, 'right')} `;
  const args = o.quote ? e.args.map(quoteArg) : e.args;
  s += args.map((a) => `${a} `).join('');
  if (e.truncated) s += '...';
  if (cgroup !== undefined) s += ` ${cgroup}`;
  return s + '\n';
}

export async function runExecsnoop(o: ExecsnoopCliOptions): Promise<void> {
  const stop = stopSignal(o.duration);
  const write = stdoutWriter(stop.abort);
  const tracer = await ExecsnoopTracer.open({ uid: o.uid, failed: o.fails, maxArgs: o.maxArgs, cgroup: o.cgroup, signal: stop.signal });
  const lost = new LostReporter(() => tracer.lost, write, !!o.json);
  const names = o.showCgroup || o.json ? new CgroupNames() : undefined;
  try {
    if (o.verbose) io.err(`execsnoop: hook ${tracer.hookName}\n`);
    if (!o.json) write(header(o));
    let startTs: number | undefined;
    for await (const e of tracer.events(stop.signal)) {
      startTs ??= e.ts;
      // -n and -l match what the kernel sent, as libbpf-tools does in user space
      if (o.name && !e.comm.includes(o.name)) continue;
      if (o.line && !e.args.some((a) => a.includes(o.line!))) continue;
      if (o.json) write(toJson({ ...e, ...names!.describe(e.cgroup) }) + '\n');
      else write(row(e, o, startTs, o.showCgroup ? names!.column(e.cgroup) : undefined));
    }
  } finally {
    lost.stop();
    tracer.close();
    stop.done();
    write.flush();
  }
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

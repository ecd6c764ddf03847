// `tsbpf runqlat [interval [count]]`: flags and output of libbpf-tools' runqlat.
import { Command, Option } from 'commander';
import { Runqlat } from './index.js';
import { clockTime } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { printHist, type HistLayout } from '../common/histmap.js';
import { commonOptions, parseIntArg, stopSignal, stdoutWriter, io } from '../common/cli.js';
import { histInterval } from '../common/interval.js';

export interface RunqlatCliOptions {
  milliseconds?: boolean;
  pid?: number;
  pids?: boolean;
  tids?: boolean;
  timestamp?: boolean;
  layout?: HistLayout;
  cgroup?: string;
  json?: boolean;
  verbose?: boolean;
  duration?: number;
}

export async function runRunqlat(o: RunqlatCliOptions, interval?: number, count?: number): Promise<void> {
  const stop = stopSignal(o.duration);
  const write = stdoutWriter(stop.abort);
  const r = await Runqlat.open({ pid: o.pid, perProcess: o.pids, perThread: o.tids, milliseconds: o.milliseconds, cgroup: o.cgroup });
  try {
    if (o.verbose) io.err(`runqlat: hook ${r.hookName}\n`);
    if (!o.json) write('Tracing run queue latency... Hit Ctrl-C to end.\n');
    await histInterval(stop.signal, interval, count, (last) => {
      const hists = r.snapshot(!last);
      if (o.json) {
        write(toJson({ type: 'aggregation', name: 'runqlat', time: Date.now(), data: hists }) + '\n');
        return;
      }
      let s = '\n';
      if (o.timestamp) s += `${clockTime()}\n`;
      for (const h of hists) {
        const label = o.pids ? `pid = ${h.key} ${h.comm ?? ''}` : o.tids ? `tid = ${h.key} ${h.comm ?? ''}` : undefined;
        s += printHist(h, label, o.layout ?? 'bcc');
      }
      write(s);
    });
  } finally {
    r.close();
    stop.done();
    write.flush();
  }
}

export function runqlatCommand(): Command {
  const cmd = new Command('runqlat')
    .description('Summarize run queue (scheduler) latency as a histogram, as libbpf-tools runqlat')
    .argument('[interval]', 'print every this many seconds', parseIntArg('interval', 1, 86400))
    .argument('[count]', 'stop after this many intervals', parseIntArg('count', 1, 1e9))
    .option('-m, --milliseconds', 'millisecond histogram')
    .option('-p, --pid <pid>', 'only this process', parseIntArg('PID', 1, 2 ** 31 - 1))
    .option('-P, --pids', 'one histogram per process')
    .option('-L, --tids', 'one histogram per thread')
    .option('-T, --timestamp', 'include a time line (HH:MM:SS) with each output')
    .addOption(new Option('--layout <layout>', 'histogram layout').choices(['bcc', 'bpftrace']).default('bcc'));
  commonOptions(cmd);
  return cmd.action(async (interval: number | undefined, count: number | undefined, opts: RunqlatCliOptions) => runRunqlat(opts, interval, count));
}

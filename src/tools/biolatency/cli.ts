// `tsbpf biolatency [interval [count]]`: flags and output of libbpf-tools' biolatency.
import { Command, Option } from 'commander';
import { Biolatency } from './index.js';
import { clockTime } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { printHist, type HistLayout } from '../common/histmap.js';
import { commonOptions, parseIntArg, stopSignal, stdoutWriter, io } from '../common/cli.js';
import { histInterval } from '../common/interval.js';

export interface BiolatencyCliOptions {
  milliseconds?: boolean;
  queued?: boolean;
  disk?: string;
  disks?: boolean;
  flag?: boolean;
  timestamp?: boolean;
  layout?: HistLayout;
  cgroup?: string;
  json?: boolean;
  verbose?: boolean;
  duration?: number;
}

export async function runBiolatency(o: BiolatencyCliOptions, interval?: number, count?: number): Promise<void> {
  const stop = stopSignal(o.duration);
  const write = stdoutWriter(stop.abort);
  const b = await Biolatency.open({ perDisk: o.disks, perFlag: o.flag, milliseconds: o.milliseconds, queued: o.queued, disk: o.disk, cgroup: o.cgroup });
  try {
    if (o.verbose) io.err(`biolatency: hook ${b.hookName}\n`);
    if (!o.json) write('Tracing block device I/O... Hit Ctrl-C to end.\n');
    await histInterval(stop.signal, interval, count, (last) => {
      const hists = b.snapshot(!last);
      if (o.json) {
        write(toJson({ type: 'aggregation', name: 'biolatency', time: Date.now(), data: hists }) + '\n');
        return;
      }
      let s = '\n';
      if (o.timestamp) s += `${clockTime()}\n`;
      for (const h of hists) {
        // as libbpf-tools: "disk = vda\t" (a tab after the name), then the flags
        let label = o.disks ? `disk = ${h.key.disk}\t` : '';
        if (o.flag) label += `flags = ${h.key.flags}`;
        s += printHist(h, label || undefined, o.layout ?? 'bcc');
      }
      write(s);
    });
  } finally {
    b.close();
    stop.done();
    write.flush();
  }
}

export function biolatencyCommand(): Command {
  const cmd = new Command('biolatency')
    .description('Summarize block device I/O latency as a histogram, as libbpf-tools biolatency')
    .argument('[interval]', 'print every this many seconds', parseIntArg('interval', 1, 86400))
    .argument('[count]', 'stop after this many intervals', parseIntArg('count', 1, 1e9))
    .option('-m, --milliseconds', 'millisecond histogram')
    .option('-Q, --queued', 'include OS queued time in I/O time')
    .option('-D, --disks', 'one histogram per disk')
    .option('-F, --flag', 'one histogram per I/O flags (rwbs)')
    .option('-d, --disk <disk>', 'only this disk (e.g. vda)')
    .option('-T, --timestamp', 'include a time line (HH:MM:SS) with each output')
    .addOption(new Option('--layout <layout>', 'histogram layout').choices(['bcc', 'bpftrace']).default('bcc'));
  commonOptions(cmd);
  return cmd.action(async (interval: number | undefined, count: number | undefined, opts: BiolatencyCliOptions) => runBiolatency(opts, interval, count));
}

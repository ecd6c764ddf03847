// What runqlat's and biolatency's commands share: `[interval [count]]`, -m, -T, --layout, and the
// interval output (histograms with a label line each, or one JSON aggregation line).
import { Command, Option } from 'commander';
import { clockTime } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { printHist, type HistLayout, type LatencyHist } from './histmap.js';
import { commonOptions, parseIntArg } from './cli.js';
import { histInterval } from './interval.js';
import type { ToolCliOptions, ToolRun } from './run.js';

export interface HistCliOptions extends ToolCliOptions {
  milliseconds?: boolean;
  timestamp?: boolean;
  layout?: HistLayout;
}

/** The command: interval and count, -m, the tool's own flags (`addFlags`), then -T, --layout and the common options. */
export function histCommand<O extends HistCliOptions>(
  name: string,
  description: string,
  addFlags: (cmd: Command) => Command,
  run: (o: O, interval?: number, count?: number) => Promise<void>,
): Command {
  const cmd = new Command(name)
    .description(description)
    .argument('[interval]', 'print every this many seconds', parseIntArg('interval', 1, 86400))
    .argument('[count]', 'stop after this many intervals', parseIntArg('count', 1, 1e9))
    .option('-m, --milliseconds', 'millisecond histogram');
  addFlags(cmd)
    .option('-T, --timestamp', 'include a time line (HH:MM:SS) with each output')
    .addOption(new Option('--layout <layout>', 'histogram layout').choices(['bcc', 'bpftrace']).default('bcc'));
  commonOptions(cmd);
  return cmd.action(async (interval: number | undefined, count: number | undefined, opts: O) => run(opts, interval, count));
}

/** Prints `snapshot()` every `interval` seconds (clearing in between), `count` times, or once at the end. */
export async function printHists<H extends LatencyHist<unknown>>(
  name: string,
  o: HistCliOptions,
  run: ToolRun,
  interval: number | undefined,
  count: number | undefined,
  snapshot: (clear: boolean) => H[],
  label: (h: H) => string | undefined,
): Promise<void> {
  await histInterval(run.signal, interval, count, (last) => {
    const hists = snapshot(!last);
    if (o.json) {
      run.write(toJson({ type: 'aggregation', name, time: Date.now(), data: hists }) + '\n');
      return;
    }
    let s = '\n';
    if (o.timestamp) s += `${clockTime()}\n`;
    for (const h of hists) s += printHist(h, label(h), o.layout ?? 'bcc');
    run.write(s);
  });
}

// `tsbpf runqlat [interval [count]]`: flags and output of libbpf-tools' runqlat.
import type { Command } from 'commander';
import { Runqlat } from './index.js';
import { parseIntArg } from '../common/cli.js';
import { runTool } from '../common/run.js';
import { histCommand, printHists, type HistCliOptions } from '../common/hist-cli.js';

export interface RunqlatCliOptions extends HistCliOptions {
  pid?: number;
  pids?: boolean;
  tids?: boolean;
}

export async function runRunqlat(o: RunqlatCliOptions, interval?: number, count?: number): Promise<void> {
  const open = () => Runqlat.open({ pid: o.pid, perProcess: o.pids, perThread: o.tids, milliseconds: o.milliseconds, cgroup: o.cgroup });
  await runTool('runqlat', o, open, async (r, run) => {
    if (!o.json) run.write('Tracing run queue latency... Hit Ctrl-C to end.\n');
    await printHists('runqlat', o, run, interval, count, (clear) => r.snapshot(clear), (h) =>
      o.pids ? `pid = ${h.key} ${h.comm ?? ''}` : o.tids ? `tid = ${h.key} ${h.comm ?? ''}` : undefined,
    );
  });
}

export function runqlatCommand(): Command {
  return histCommand(
    'runqlat',
    'Summarize run queue (scheduler) latency as a histogram, as libbpf-tools runqlat',
    (cmd) =>
      cmd
        .option('-p, --pid <pid>', 'only this process', parseIntArg('PID', 1, 2 ** 31 - 1))
        .option('-P, --pids', 'one histogram per process')
        .option('-L, --tids', 'one histogram per thread'),
    runRunqlat,
  );
}

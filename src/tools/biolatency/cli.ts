// `tsbpf biolatency [interval [count]]`: flags and output of libbpf-tools' biolatency.
import type { Command } from 'commander';
import { Biolatency } from './index.js';
import { runTool } from '../common/run.js';
import { histCommand, printHists, type HistCliOptions } from '../common/hist-cli.js';

export interface BiolatencyCliOptions extends HistCliOptions {
  queued?: boolean;
  disk?: string;
  disks?: boolean;
  flag?: boolean;
}

export async function runBiolatency(o: BiolatencyCliOptions, interval?: number, count?: number): Promise<void> {
  const open = () => Biolatency.open({ perDisk: o.disks, perFlag: o.flag, milliseconds: o.milliseconds, queued: o.queued, disk: o.disk, cgroup: o.cgroup });
  await runTool('biolatency', o, open, async (b, run) => {
    if (!o.json) run.write('Tracing block device I/O... Hit Ctrl-C to end.\n');
    await printHists('biolatency', o, run, interval, count, (clear) => b.snapshot(clear), (h) => {
      // as libbpf-tools: "disk = vda\t" (a tab after the name), then the flags
      let label = o.disks ? `disk = ${h.key.disk}\t` : '';
      if (o.flag) label += `flags = ${h.key.flags}`;
      return label || undefined;
    });
  });
}

export function biolatencyCommand(): Command {
  return histCommand(
    'biolatency',
    'Summarize block device I/O latency as a histogram, as libbpf-tools biolatency',
    (cmd) =>
      cmd
        .option('-Q, --queued', 'include OS queued time in I/O time')
        .option('-D, --disks', 'one histogram per disk')
        .option('-F, --flag', 'one histogram per I/O flags (rwbs)')
        .option('-d, --disk <disk>', 'only this disk (e.g. vda)'),
    runBiolatency,
  );
}

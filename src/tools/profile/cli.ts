// `tsbpf profile`: CPU sampling with stacks, as libbpf-tools profile, plus folded stacks and a
// flame graph SVG drawn by tsbpf.
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { Profile, type StackSample } from './index.js';
import { renderFlameGraph, streamFolded } from '../common/flamegraph.js';
import { toJson } from '../../output/json.js';
import { commonOptions, parseIntArg, io } from '../common/cli.js';
import { runTool, untilAborted, type ToolCliOptions } from '../common/run.js';

export interface ProfileCliOptions extends ToolCliOptions {
  pid?: number;
  tid?: number;
  frequency?: number;
  userStacksOnly?: boolean;
  kernelStacksOnly?: boolean;
  includeIdle?: boolean;
  delimited?: boolean;
  folded?: string | boolean;
  svg?: string;
}

/** libbpf-tools' default output: frames innermost first, then "- comm (pid)", then the count. */
export function stackText(s: StackSample, o: ProfileCliOptions): string {
  let out = '';
  if (!o.userStacksOnly) for (const f of s.kernel) out += `    ${f}\n`;
  if (o.delimited && s.kernel.length && s.user.length) out += '    --\n';
  if (!o.kernelStacksOnly) for (const f of s.user) out += `    ${f}\n`;
  out += `    -                ${s.comm} (${s.pid})\n        ${s.count}\n\n`;
  return out;
}

export async function runProfile(o: ProfileCliOptions, positionalDuration?: number): Promise<void> {
  const open = () =>
    Profile.open({
      pid: o.pid,
      tid: o.tid,
      frequency: o.frequency,
      userOnly: o.userStacksOnly,
      kernelOnly: o.kernelStacksOnly,
      includeIdle: o.includeIdle,
      cgroup: o.cgroup,
    });
  await runTool('profile', { ...o, duration: o.duration ?? positionalDuration }, open, async (p, { signal, write }) => {
    if (!o.json && o.folded !== true) io.err(`Sampling at ${p.frequency} Hertz of all threads by user + kernel stack... Hit Ctrl-C to end.\n`);
    await untilAborted(signal);
    const samples = p.samples();
    const folded = p.folded(samples);
    if (typeof o.folded === 'string') {
      const fd = openSync(o.folded, 'w');
      try {
        streamFolded(folded, (chunk) => writeSync(fd, chunk));
      } finally {
        closeSync(fd);
      }
    }
    if (o.svg) writeFileSync(o.svg, renderFlameGraph(folded, { title: 'CPU profile (tsbpf profile)', countName: 'samples' }));
    if (o.json) write(toJson({ type: 'aggregation', name: 'profile', data: samples }) + '\n');
    else if (o.folded === true) streamFolded(folded, write);
    else if (!o.svg && typeof o.folded !== 'string') write(samples.map((s) => stackText(s, o)).join(''));
  });
}

export function profileCommand(): Command {
  const cmd = new Command('profile')
    .description('Profile CPU usage by sampling stack traces at a timed interval, as libbpf-tools profile')
    .argument('[duration]', 'seconds to sample (default: until Ctrl+C)', parseIntArg('duration', 1, 86400))
    .option('-p, --pid <pid>', 'only this process', parseIntArg('PID', 1, 2 ** 31 - 1))
    .option('-L, --tid <tid>', 'only this thread', parseIntArg('TID', 1, 2 ** 31 - 1))
    .option('-F, --frequency <hz>', 'sample frequency in Hertz (default 49)', parseIntArg('frequency', 1, 100000))
    .option('-U, --user-stacks-only', 'user stacks only')
    .option('-K, --kernel-stacks-only', 'kernel stacks only')
    .option('-I, --include-idle', 'include the idle CPU (pid 0)')
    .option('-d, --delimited', 'insert a delimiter between kernel and user stacks')
    .option('-f, --folded [file]', 'folded stacks (to stdout, or to FILE)')
    .option('--svg <file>', 'write an interactive flame graph SVG');
  commonOptions(cmd);
  return cmd.action(async (duration: number | undefined, opts: ProfileCliOptions) => runProfile(opts, duration));
}

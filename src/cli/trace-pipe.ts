import { Command } from 'commander';
import { ensureTracefs } from '../sys/mounts.js';
import { isParsed, tracePipe } from '../tracefs/pipe.js';
import { out, toJson } from './format.js';

export function tracePipeCommand(): Command {
  return new Command('trace-pipe')
    .description('print the kernel trace pipe (bpf_printk output) until Ctrl+C')
    .option('--json', 'one JSON object per line: comm, pid, cpu, timestamp, event, message')
    .action(async (o: { json?: boolean }) => {
      ensureTracefs();
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      for await (const l of tracePipe({ signal: stop.signal })) {
        if (!o.json) out(l.raw);
        else if (isParsed(l)) out(toJson({ comm: l.comm, pid: l.pid, cpu: l.cpu, flags: l.flags, timestamp: l.timestamp, event: l.event, message: l.message }));
        else out(toJson({ raw: l.raw }));
      }
    });
}

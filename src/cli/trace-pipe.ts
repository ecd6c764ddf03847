import { Command } from 'commander';
import { ensureTracefs } from '../sys/mounts.js';
import { isParsed, tracePipe } from '../tracefs/pipe.js';
import { toJson } from './format.js';
import { startRun } from '../command/lifecycle.js';
import { requirePrivileges, ADMIN } from '../command/privileges.js';
import { stdout } from '../sys/stdout.js';

export function tracePipeCommand(): Command {
  return new Command('trace-pipe')
    .description('print the kernel trace pipe (bpf_printk output) until Ctrl+C')
    .option('--json', 'one JSON object per line: comm, pid, cpu, timestamp, event, message')
    .action(async (o: { json?: boolean }) => {
      requirePrivileges('trace-pipe (reading tracefs)', ADMIN);
      ensureTracefs();
      const run = startRun({ json: o.json });
      const line = (s: string): void => void stdout().record(`${s}\n`);
      try {
        for await (const l of tracePipe({ signal: run.signal })) {
          if (!o.json) line(l.raw);
          else if (isParsed(l)) line(toJson({ comm: l.comm, pid: l.pid, cpu: l.cpu, flags: l.flags, timestamp: l.timestamp, event: l.event, message: l.message }));
          else line(toJson({ raw: l.raw }));
        }
      } finally {
        run.end();
      }
    });
}

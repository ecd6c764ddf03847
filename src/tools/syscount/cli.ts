// `tsbpf syscount`: flags and output of libbpf-tools' syscount.
import { Command } from 'commander';
import { Syscount, type SyscallCount } from './index.js';
import { Errno, type ErrnoName } from '../../sys/errors.js';
import { SYSCALL_NAMES, syscallNumber } from './syscalls.js';
import { pad, clockTime } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { commonOptions, parseIntArg, io } from '../common/cli.js';
import { histInterval } from '../common/interval.js';
import { runTool, type ToolCliOptions } from '../common/run.js';

export interface SyscountCliOptions extends ToolCliOptions {
  pid?: number;
  interval?: number;
  top?: number;
  failures?: boolean;
  errno?: string;
  latency?: boolean;
  milliseconds?: boolean;
  process?: boolean;
  list?: boolean;
}

/** errno by name (EPERM) or number. */
export function parseErrno(v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const name = v.toUpperCase();
  if (!Object.hasOwn(Errno, name)) throw new Error(`unknown errno ${v}`);
  return Errno[name as ErrnoName];
}

export function table(rows: SyscallCount[], o: SyscountCliOptions): string {
  const col = o.process ? 'PID    COMM' : 'SYSCALL';
  const label = (r: SyscallCount) => (o.process ? `${pad(r.key, 6)} ${pad(r.name, 15)}` : r.name);
  if (!o.latency) return `${pad(col, 22)} ${pad('COUNT', 8, 'right')}\n` + rows.map((r) => `${pad(label(r), 22)} ${pad(r.count, 8, 'right')}\n`).join('');
  const div = o.milliseconds ? 1e6 : 1e3;
  return (
    `${pad(col, 22)} ${pad('COUNT', 8, 'right')} ${pad(o.milliseconds ? 'TIME (ms)' : 'TIME (us)', 16, 'right')}\n` +
    rows.map((r) => `${pad(label(r), 22)} ${pad(r.count, 8, 'right')} ${pad((r.totalNs / div).toFixed(3), 16, 'right')}\n`).join('')
  );
}

export async function runSyscount(o: SyscountCliOptions): Promise<void> {
  if (o.list) {
    io.out(SYSCALL_NAMES.map((n, i) => (n ? `${pad(i, 4, 'right')} ${n}\n` : '')).join(''));
    return;
  }
  const open = () =>
    Syscount.open({
      pid: o.pid,
      failed: o.failures,
      errno: o.errno ? parseErrno(o.errno) : undefined,
      latency: o.latency,
      perProcess: o.process,
      cgroup: o.cgroup,
    });
  await runTool('syscount', o, open, async (s, { signal, write }) => {
    const n = o.top ?? 10;
    if (!o.json) write(`Tracing syscalls, printing top ${n}... Ctrl+C to quit.\n`);
    await histInterval(signal, o.interval, undefined, (last) => {
      const rows = s.top(n, !last);
      if (o.json) write(toJson({ type: 'aggregation', name: 'syscount', time: Date.now(), data: rows }) + '\n');
      else write(`[${clockTime()}]\n${table(rows, o)}\n`);
    });
  });
}

export function syscountCommand(): Command {
  const cmd = new Command('syscount')
    .description('Summarize syscall counts and latencies, per syscall or per process, as libbpf-tools syscount')
    .option('-p, --pid <pid>', 'only this process', parseIntArg('PID', 1, 2 ** 31 - 1))
    .option('-i, --interval <seconds>', 'print every this many seconds', parseIntArg('interval', 1, 86400))
    .option('-T, --top <n>', 'print only the top N (default 10)', parseIntArg('top', 1, 100000))
    .option('-x, --failures', 'only failed syscalls')
    .option('-e, --errno <errno>', 'only syscalls failing with this errno (name or number)')
    .option('-L, --latency', 'also measure syscall time')
    .option('-m, --milliseconds', 'time in milliseconds (default microseconds)')
    .option('-P, --process', 'count per process, not per syscall')
    .option('-l, --list', 'list the syscall names and numbers and exit');
  commonOptions(cmd);
  return cmd.action(async (opts: SyscountCliOptions) => runSyscount(opts));
}

export { syscallNumber };

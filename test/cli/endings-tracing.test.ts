// Every tracing tool and `trace`, ended as users end them (test/helpers/endings.ts): Ctrl+C on a
// terminal, `timeout -s INT`, `kill -HUP` print the summary the tool owes and exit 0; `| head -1`
// ends it quietly at once; `kill -KILL` leaves nothing (the kernel's semantics) and the next run
// works; stdout on /dev/full is one line and exit 1; a pipe nobody reads does not stop Ctrl+C from
// detaching everything, and what the tool owes arrives once the pipe is read. Nothing of the
// tool's stays loaded after any of them. The endings of one tool run at once (they share nothing).
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { parseObject } from '../../src/object/load-spec.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';
import { ENDINGS, type Row } from '../helpers/ending-checks.js';

/** Kernel names (15 characters) of a tool object's programs. */
function toolNames(tool: string): RegExp {
  const spec = parseObject(new Uint8Array(readFileSync(repoPath(`src/tools/${tool}/${tool}.bpf.o`))), tool);
  return new RegExp(`^(${spec.programs.map((p) => p.name.slice(0, 15)).join('|')})$`);
}

// on a terminal, the ^C typed is echoed before the summary
const CTRL_C = '(?:\\^C)?';

const ROWS: Row[] = [
  { name: 'tcpconnect', args: ['tcpconnect'], summary: /^PID +COMM +IP SADDR +DADDR +DPORT/m, names: toolNames('tcpconnect') },
  {
    name: 'tcpconnect -c', args: ['tcpconnect', '-c'], writes: ['tcpconnect', '-c', '--duration', '1'], ready: /Tracing connects/,
    summary: /^LADDR +RADDR +RPORT +CONNECTS/m, names: toolNames('tcpconnect'),
  },
  { name: 'execsnoop', args: ['execsnoop'], summary: /^PCOMM +PID +PPID +RET ARGS/m, names: toolNames('execsnoop') },
  { name: 'opensnoop', args: ['opensnoop'], summary: /^PID +COMM +FD ERR PATH/m, names: toolNames('opensnoop') },
  { name: 'tcplife', args: ['tcplife'], summary: /^PID +COMM +LADDR +LPORT RADDR/m, names: toolNames('tcplife') },
  { name: 'tcpstates', args: ['tcpstates'], summary: /^SKADDR +PID +COMM/m, names: toolNames('tcpstates') },
  { name: 'runqlat', args: ['runqlat'], summary: new RegExp(`Hit Ctrl-C to end\\.\\n${CTRL_C}\\n +usecs +: count +distribution\\n`), names: toolNames('runqlat') },
  { name: 'biolatency', args: ['biolatency'], summary: new RegExp(`Hit Ctrl-C to end\\.\\n${CTRL_C}\\n`), names: toolNames('biolatency') },
  { name: 'syscount', args: ['syscount'], summary: new RegExp(`Ctrl\\+C to quit\\.\\n${CTRL_C}\\[\\d\\d:\\d\\d:\\d\\d\\]\\nSYSCALL +COUNT\\n`), names: toolNames('syscount') },
  {
    // kernel stacks only: symbolizing every process's user stacks costs seconds of CPU, and the
    // seven endings run at once
    name: 'profile', args: ['profile', '-K'], writes: ['profile', '-K', '1'], ready: /Sampling at/,
    summary: /^ {4}- {16}\S.* \(\d+\)\n {8}\d+$/m, names: toolNames('profile'),
  },
  {
    name: 'trace', args: ['trace', 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'], ready: /Attaching 1 probe/,
    writes: ['trace', 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); } interval:s:1 { exit(); }'],
    summary: /^@\[[^\]\n]+\]: \d+$/m, names: /^(tracepoint_raw_|interval_s_1)/,
  },
];

for (const row of ROWS) {
  test(`${row.name}: ${Object.keys(ENDINGS).join(', ')}`, { concurrency: Object.keys(ENDINGS).length }, async (t) => {
    if (!needsRoot(t) || !needsCommand(t, 'script')) return;
    await Promise.all(Object.entries(ENDINGS).map(([name, check]) => t.test(name, () => check(row))));
  });
}

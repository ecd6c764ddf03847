// Every tracing tool and `trace`, ended as users end them (test/helpers/endings.ts): Ctrl+C on a
// terminal, `timeout -s INT`, `kill -HUP` print the summary the tool owes and exit 0; `| head -1`
// ends it quietly at once; `kill -KILL` leaves nothing (the kernel's semantics) and the next run
// works; stdout on /dev/full is one line and exit 1; a pipe nobody reads does not stop Ctrl+C from
// detaching everything, and what the tool owes arrives once the pipe is read. Nothing of the
// tool's stays loaded after any of them. The endings of one tool run at once (they share nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseObject } from '../../src/object/load-spec.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';
import { CLI } from '../net-tools/topology.js';
import {
  devFull, headOne, kernelMark, killWith, leftAfter, ptyCtrlC, running, stalledPipe, timeoutInt, type Ended, type Expect,
} from '../helpers/endings.js';

interface Row extends Expect {
  name: string;
  /** runs until told to stop */
  args: string[];
  /** ends by itself (for the endings that need the summary to be written: the tool prints nothing before it) */
  finite?: string[];
}

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
    name: 'tcpconnect -c', args: ['tcpconnect', '-c'], finite: ['tcpconnect', '-c', '--duration', '1'], ready: /Tracing connects/,
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
    name: 'profile', args: ['profile', '-F', '199'], finite: ['profile', '-F', '199', '1'], ready: /Sampling at/,
    summary: /^ {4}- {16}\S.* \(\d+\)\n {8}\d+$/m, names: toolNames('profile'),
  },
  {
    name: 'trace', args: ['trace', 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'], ready: /Attaching 1 probe/,
    finite: ['trace', 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); } interval:s:1 { exit(); }'],
    summary: /^@\[[^\]\n]+\]: \d+$/m, names: /^(tracepoint_raw_|interval_s_1)/,
  },
];

const noStack = (r: Ended): void => assert.doesNotMatch(r.stderr, /\n\s+at |Unhandled|Error:/, `no stack trace:\n${r.stderr}`);

async function nothingLeft(mark: number, row: Row, how: string): Promise<void> {
  assert.deepEqual(await leftAfter(mark, row.names), [], `${row.name} ${how}: programs left in the kernel`);
}

/** The endings, each a check of its own. */
const ENDINGS: Record<string, (row: Row) => Promise<void>> = {
  async 'pty ^C'(row) {
    const mark = kernelMark();
    const r = await ptyCtrlC(row.args, row);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, row.summary);
    noStack({ ...r, stderr: r.stdout });
    await nothingLeft(mark, row, 'after ^C');
  },
  async 'timeout -s INT'(row) {
    const mark = kernelMark();
    const r = await timeoutInt(row.args, 6);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, row.summary);
    noStack(r);
    await nothingLeft(mark, row, 'after SIGINT');
  },
  async 'kill -HUP'(row) {
    const mark = kernelMark();
    const r = await killWith('SIGHUP', row.args, row);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, row.summary);
    noStack(r);
    await nothingLeft(mark, row, 'after SIGHUP');
  },
  async '| head -1'(row) {
    const mark = kernelMark();
    const r = await headOne(row.finite ?? row.args);
    // a reader gone ends it quietly, at once: 141 as for a writer killed by SIGPIPE (0 if it was done)
    assert.ok(r.status === 141 || (row.finite && r.status === 0), `status ${r.status}: ${r.stderr}`);
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    assert.equal(r.stdout.split('\n').length, 2, r.stdout);
    noStack(r);
    await nothingLeft(mark, row, 'after head -1 went away');
  },
  async 'kill -KILL, restart'(row) {
    const mark = kernelMark();
    const r = await killWith('SIGKILL', row.args, row);
    assert.equal(r.signal, 'SIGKILL');
    await nothingLeft(mark, row, 'after SIGKILL');
    const again = spawnSync(process.execPath, [...CLI, ...(row.finite ?? [...row.args, '--duration', '1'])], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, row.summary);
    await nothingLeft(mark, row, 'after the restart');
  },
  async '/dev/full'(row) {
    const mark = kernelMark();
    const r = await devFull(row.finite ?? row.args);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => /cannot write/.test(l));
    assert.deepEqual(lines, ['tsbpf: cannot write to standard output: No space left on device (ENOSPC)'], r.stderr);
    noStack(r);
    await nothingLeft(mark, row, 'after the write error');
  },
  async 'stalled pipe'(row) {
    const mark = kernelMark();
    const r = await stalledPipe(row.args, row, async (pid) => {
      // Ctrl+C detaches at once although the tool cannot write what it owes: it waits for the reader
      // with nothing in the kernel
      assert.deepEqual(await leftAfter(mark, row.names, 8000), [], 'programs left while stalled');
      assert.ok(running(pid), 'waits for the reader to take what it owes');
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, row.summary);
    noStack(r);
    await nothingLeft(mark, row, 'after the stalled pipe was read');
  },
};

for (const row of ROWS) {
  test(`${row.name}: ${Object.keys(ENDINGS).join(', ')}`, { concurrency: Object.keys(ENDINGS).length }, async (t) => {
    if (!needsRoot(t) || !needsCommand(t, 'script')) return;
    await Promise.all(Object.entries(ENDINGS).map(([name, check]) => t.test(name, () => check(row))));
  });
}

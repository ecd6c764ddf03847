// The matrix's checks: for one command (a Row), each way of ending it (test/helpers/endings.ts)
// and what must hold after it — the output the command owes, its exit status, no stack trace, and
// nothing of it left in the kernel (its programs, and what the row adds: XDP, qdiscs, pins).
import assert from 'node:assert/strict';
import {
  devFull, headOne, kernelMark, killWith, leftAfter, ptyCtrlC, runToEnd, running, stalledPipe, timeoutInt, type Ended, type Expect,
} from './endings.js';

export interface Row extends Expect {
  name: string;
  /** runs until told to stop */
  args: string[];
  /**
   * a variant that writes to stdout before it is told to stop, or ends by itself (for `| head -1`
   * and /dev/full, which need something written), and the run after a SIGKILL; default `args`
   */
  writes?: string[];
  /** the run after a SIGKILL (default `writes`, else `args` with --duration 1) */
  restart?: string[];
  /** the summary is on stderr (capture's counts) */
  summaryOnStderr?: boolean;
  /** what else must be gone after each ending (XDP, qdiscs, pins of a network tool) */
  clean?: (how: string) => Promise<void>;
  /** after a SIGKILL, before the restart: what the killed process left, checked */
  afterKill?: () => Promise<void>;
  /** the restart's report of what it found and removed */
  restartReport?: RegExp;
}

const noStack = (r: Ended): void => assert.doesNotMatch(r.stderr, /\n\s+at |Unhandled|Error:/, `no stack trace:\n${r.stderr}`);

async function nothingLeft(mark: number, row: Row, how: string): Promise<void> {
  assert.deepEqual(await leftAfter(mark, row.names), [], `${row.name} ${how}: programs left in the kernel`);
  await row.clean?.(how);
}

const summaryOf = (row: Row, r: Ended): string => (row.summaryOnStderr ? r.stderr : r.stdout);

/** The endings, each a check of its own. */
export const ENDINGS: Record<string, (row: Row) => Promise<void>> = {
  async 'pty ^C'(row) {
    const mark = kernelMark();
    const r = await ptyCtrlC(row.args, row);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, row.summary); // the terminal shows stdout and stderr
    noStack({ ...r, stderr: r.stdout });
    await nothingLeft(mark, row, 'after ^C');
  },
  async 'timeout -s INT'(row) {
    const mark = kernelMark();
    const r = await timeoutInt(row.args, 6);
    assert.equal(r.code, 0, r.stderr);
    assert.match(summaryOf(row, r), row.summary);
    noStack(r);
    await nothingLeft(mark, row, 'after SIGINT');
  },
  async 'kill -HUP'(row) {
    const mark = kernelMark();
    const r = await killWith('SIGHUP', row.args, row);
    assert.equal(r.code, 0, r.stderr);
    assert.match(summaryOf(row, r), row.summary);
    noStack(r);
    await nothingLeft(mark, row, 'after SIGHUP');
  },
  async '| head -1'(row) {
    const mark = kernelMark();
    const r = await headOne(row.writes ?? row.args);
    // a reader gone ends it quietly, at once: 141 as for a writer killed by SIGPIPE (0 if it was done)
    assert.ok(r.status === 141 || (row.writes && r.status === 0), `status ${r.status}: ${r.stderr}`);
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    assert.equal(r.stdout.split('\n').length, 2, r.stdout);
    noStack(r);
    await nothingLeft(mark, row, 'after head -1 went away');
  },
  async 'kill -KILL, restart'(row) {
    const mark = kernelMark();
    const r = await killWith('SIGKILL', row.args, row);
    assert.equal(r.signal, 'SIGKILL');
    await row.afterKill?.();
    if (!row.afterKill) assert.deepEqual(await leftAfter(mark, row.names), [], 'programs left after SIGKILL');
    const again = await runToEnd(row.restart ?? row.writes ?? [...row.args, '--duration', '1']);
    assert.equal(again.code, 0, again.stderr);
    if (row.restartReport) assert.match(again.stderr, row.restartReport);
    noStack(again);
    await nothingLeft(mark, row, 'after the restart');
  },
  async '/dev/full'(row) {
    const mark = kernelMark();
    const r = await devFull(row.writes ?? row.args);
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
      await row.clean?.('while stalled');
      assert.ok(running(pid), 'waits for the reader to take what it owes');
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(summaryOf(row, r), row.summary);
    noStack(r);
    await nothingLeft(mark, row, 'after the stalled pipe was read');
  },
};

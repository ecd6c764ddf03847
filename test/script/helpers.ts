// Running scripts in tests: output captured, a workload started once probes are attached, and the
// kernel objects a run created checked to be gone afterwards.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { runScript, type RunOptions, type RunResult } from '../../src/script/runtime.js';
import { loadedProgramIds } from '../helpers/kernel.js';

/** A predicate for events of this test's own children (other tests run the same commands). */
export const OURS = `curtask->real_parent->tgid == ${process.pid}`;

export interface TraceRun {
  out: string;
  result: RunResult;
  /** pids of the workload's children, in start order */
  pids: number[];
}

/**
 * Run `script`; once attached, run each workload command (bash -c) one after the other, then stop
 * after `settleMs` unless the script exits by itself first.
 */
export async function trace(script: string, workload: string[] = [], o: RunOptions & { settleMs?: number } = {}): Promise<TraceRun> {
  let out = '';
  const pids: number[] = [];
  const ac = new AbortController();
  const result = await runScript(script, {
    ...o,
    signal: ac.signal,
    write: (s) => {
      out += s;
    },
    onAttached: async () => {
      for (const cmd of workload) {
        const c = spawn('/bin/bash', ['-c', cmd], { stdio: 'ignore' });
        pids.push(c.pid!);
        await new Promise((r) => c.on('exit', r));
      }
      setTimeout(() => ac.abort(), o.settleMs ?? 200);
    },
  });
  // The kernel frees programs and their maps after an RCU grace period: give it a moment.
  let progs: number[] = result.programIds;
  for (let i = 0; i < 50 && progs.length; i++) {
    const live = new Set(loadedProgramIds());
    progs = result.programIds.filter((id) => live.has(id));
    if (progs.length) await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(progs, [], 'programs of the script are still loaded');
  let left: number[] = result.mapIds;
  for (let i = 0; i < 50 && left.length; i++) {
    const maps = new Set((JSON.parse(execFileSync('bpftool', ['map', 'list', '--json'], { encoding: 'utf8' })) as { id: number }[]).map((m) => m.id));
    left = result.mapIds.filter((id) => maps.has(id));
    if (left.length) await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(left, [], 'maps of the script are still there');
  assert.ok(result.programIds.length > 0 && result.mapIds.length > 0);
  return { out, result, pids };
}

/** bpftrace's stdout for a script (the reference), or undefined when bpftrace is missing. */
export function bpftrace(script: string): string | undefined {
  const r = spawnSync('bpftrace', ['-e', script], { encoding: 'utf8', timeout: 30000 });
  if (r.error) return undefined;
  return r.stdout;
}

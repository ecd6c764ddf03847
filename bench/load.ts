// load: open + load + attach (+ detach and close) of a multi-program CO-RE object, in process:
// tsbpf's Collection vs libbpf's bpf_object__open_file/load + bpf_program__attach (bench/c/load.c).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Collection } from '../src/kernel/collection.js';
import { vmlinuxBtf } from '../src/kernel/vmlinux.js';
import { buildC, median, report, root } from './report.js';

const RUNS = Number(process.env.RUNS ?? 15);
const object = join(root, 'bench/objects/multi.bpf.o');

/** open + load + attach, timed; detach and close are not (the kernel's RCU waits dominate them, for both). */
function once(): number {
  const t0 = process.hrtime.bigint();
  const c = Collection.load(object);
  c.attach();
  const us = Number(process.hrtime.bigint() - t0) / 1000;
  c.close();
  return us;
}

// tsbpf parses the kernel BTF once per process (libbpf re-reads it on every open): the first load pays it.
vmlinuxBtf();
const first = once();
const ours: number[] = [];
for (let i = 0; i < RUNS; i++) ours.push(once());
const c = buildC('load');
const refRuns: number[] = [];
refRuns.push(Number(execFileSync(c, [object, String(RUNS)], { encoding: 'utf8' }).trim()));
report({
  name: 'load',
  ours: Math.round(median(ours)),
  reference: Math.round(median(refRuns)),
  unit: 'us',
  better: 'lower',
  referenceName: 'libbpf (C)',
  target: 1,
  programs: 6,
  firstLoadUs: Math.round(first),
  runs: RUNS,
});

// load: open + load + attach of a multi-program CO-RE object (bench/objects/multi.bpf.o: six
// programs on tracepoints, a raw tracepoint and a BTF tracepoint), in process: tsbpf's Collection
// against cilium/ebpf (the peer, goal ≤ 1× its time; bench/go/load) and libbpf's
// bpf_object__open_file/load + bpf_program__attach (bench/c/load.c). Detach and close are not
// timed (the kernel's RCU waits dominate them, for every side).
//
// Warm: the median of RUNS loads in a process that has loaded once already (tsbpf and cilium/ebpf
// keep the kernel's BTF parsed per process; libbpf re-reads it on every open, which is libbpf's
// cost). Cold: the first load of a fresh process (tsbpf's CO-RE results cached on disk from earlier
// runs, as a user's second start finds them; cilium/ebpf parses the kernel's BTF). Rounds alternate
// the sides; the ratio (warm, tsbpf / cilium) per round is refused when rounds disagree by > 15 %.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Collection } from '../src/kernel/collection.js';
import { vmlinuxBtf } from '../src/kernel/vmlinux.js';
import { buildC, report, root } from './report.js';
import { buildGo, ciliumVersion } from './lib/go.js';
import { median, spread, waitQuiet } from './lib/rounds.js';

const RUNS = Number(process.env.RUNS ?? 11);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const object = join(root, 'bench/objects/multi.bpf.o');

/** open + load + attach, timed in µs; detach and close are not. */
function once(): number {
  const t0 = process.hrtime.bigint();
  const c = Collection.load(object);
  c.attach();
  const us = Number(process.hrtime.bigint() - t0) / 1000;
  c.close();
  return us;
}

if (process.argv[2] === '--once') {
  // a fresh process's first load (the cold figure)
  process.stdout.write(`${once()}\n`);
  process.exit(0);
}

// cilium/ebpf 0.9.1 finds tracepoints under debugfs (/sys/kernel/debug/tracing) only
if (!existsSync('/sys/kernel/debug/tracing/events')) execFileSync('mount', ['-t', 'debugfs', 'none', '/sys/kernel/debug']);
const go = buildGo('load');
const c = buildC('load');
const loadAvg = await waitQuiet();

// tsbpf parses the kernel BTF once per process (as cilium/ebpf does): the first load pays it
vmlinuxBtf();
once();
const ours: number[] = [];
const cilium: number[] = [];
const libbpf: number[] = [];
const coldOurs: number[] = [];
const coldCilium: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const o: number[] = [];
  for (let i = 0; i < RUNS; i++) o.push(once());
  const g = execFileSync(go, [object, String(RUNS + 1)], { encoding: 'utf8' }).trim().split(' ').map(Number);
  const l = Number(execFileSync(c, [object, String(RUNS)], { encoding: 'utf8' }).trim());
  coldOurs.push(Number(execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--once'], { encoding: 'utf8' }).trim()));
  coldCilium.push(g[0]!);
  ours.push(median(o));
  cilium.push(median(g.slice(1)));
  libbpf.push(l);
  ratios.push(ours.at(-1)! / cilium.at(-1)!);
  console.log(`round ${r + 1}/${ROUNDS}: tsbpf ${Math.round(ours.at(-1)!)} µs, cilium/ebpf ${Math.round(cilium.at(-1)!)} µs, libbpf ${Math.round(l)} µs; ` +
    `cold: tsbpf ${Math.round(coldOurs.at(-1)!)} µs, cilium/ebpf ${Math.round(g[0]!)} µs`);
}
report({
  name: 'load',
  ours: Math.round(median(ours)),
  reference: Math.round(median(cilium)),
  unit: 'µs (warm: median of the runs)',
  better: 'lower',
  referenceName: `cilium/ebpf ${ciliumVersion()} (Go)`,
  target: 1,
  roundRatios: ratios,
  programs: 6,
  runsPerRound: RUNS,
  rounds: ROUNDS,
  loadAverageAtStart: loadAvg,
  warmUs: { tsbpf: spread(ours), cilium: spread(cilium), libbpf: spread(libbpf) },
  coldUs: { tsbpf: spread(coldOurs), cilium: spread(coldCilium) },
  coldRatio: Math.round((median(coldOurs) / median(coldCilium)) * 1000) / 1000,
  vsLibbpf: spread(ours.map((x, i) => x / libbpf[i]!)),
});

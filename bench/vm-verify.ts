// vm-verify: time to verify the largest program of the tools' objects — tsbpf's verifier against the
// kernel's (its own "verification time" from a BPF_LOG_STATS load). Last line: report()'s JSON object.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collection } from '../src/kernel/collection.js';
import { parseObject } from '../src/object/load-spec.js';
import { Vm } from '../src/vm/vm.js';
import { median, report } from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = HERE.includes('/dist/') ? join(HERE, '..', '..') : join(HERE, '..');
const RUNS = Number(process.env.RUNS ?? 50);

function main(): void {
  const tools = join(ROOT, 'src/tools');
  let best: { file: string; prog: string; insns: number } | undefined;
  for (const d of readdirSync(tools)) {
    const dir = join(tools, d);
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue; // a file, not a tool directory
    }
    for (const f of entries.filter((x) => x.endsWith('.bpf.o'))) {
      const spec = parseObject(readFileSync(join(dir, f)), f);
      for (const p of spec.programs) if (!best || p.instructions.length > best.insns) best = { file: join(dir, f), prog: p.name, insns: p.instructions.length };
    }
  }
  if (!best) throw new Error('no tool objects found');
  const bytes = new Uint8Array(readFileSync(best.file));
  const ours: number[] = [];
  let stats;
  for (let k = 0; k < RUNS; k++) {
    const vm = Vm.loadSync(bytes, { verify: false });
    const t0 = process.hrtime.bigint();
    const r = vm.verify(best.prog);
    ours.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!r.ok) throw new Error(`tsbpf rejects ${best.prog}: ${r.messages.join('\n')}`);
    stats = r.stats;
  }
  const kernel: number[] = [];
  let lastLog = '';
  for (let k = 0; k < RUNS; k++) {
    const c = Collection.load(bytes, { programs: [best.prog], logLevel: 4 });
    try {
      const log = c.program(best.prog).verifierLog ?? '';
      lastLog = log;
      const m = /verification time (\d+) usec/.exec(log);
      if (!m) throw new Error(`no verification time in the kernel's log:\n${log.slice(-400)}`);
      kernel.push(Number(m[1]) / 1000);
    } finally {
      c.close();
    }
  }
  // Minimum of the runs: on a shared machine the median mostly measures the scheduler.
  const t = Math.min(...ours);
  const kt = Math.min(...kernel);
  console.log(`${best.prog} (${best.insns} insns, ${best.file.split('/').slice(-2).join('/')}): tsbpf ${t.toFixed(2)} ms, kernel ${kt.toFixed(2)} ms (min of ${RUNS} runs each)`);
  report({
    name: 'vm-verify',
    ours: Math.round(t * 1000) / 1000,
    reference: Math.round(kt * 1000) / 1000,
    unit: 'ms',
    better: 'lower',
    referenceName: "kernel verifier (BPF_LOG_STATS verification time)",
    target: 1,
    program: best.prog,
    insns: best.insns,
    runs: RUNS,
    median_ms: { tsbpf: Math.round(median(ours) * 1000) / 1000, kernel: Math.round(median(kernel) * 1000) / 1000 },
    stats,
    kernelStats: kernelStats(lastLog),
  });
}

/** "processed N insns ... total_states S peak_states P" from the kernel's log, to compare the work done. */
function kernelStats(log: string): Record<string, number> {
  const out: Record<string, number> = {};
  const m = /processed (\d+) insns .*total_states (\d+) peak_states (\d+)/.exec(log);
  if (m) Object.assign(out, { insns: Number(m[1]), totalStates: Number(m[2]), peakStates: Number(m[3]) });
  return out;
}

main();

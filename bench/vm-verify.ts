// vm-verify: time to verify the largest program of the tools' objects — tsbpf's verifier against the
// kernel's (its own "verification time" from a BPF_LOG_STATS load). Last line: one JSON object.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collection } from '../src/kernel/collection.js';
import { parseObject } from '../src/object/load-spec.js';
import { Vm } from '../src/vm/vm.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = HERE.includes('/dist/') ? join(HERE, '..', '..') : join(HERE, '..');
const RUNS = Number(process.env.RUNS ?? 20);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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
    void existsSync;
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
  for (let k = 0; k < RUNS; k++) {
    const c = Collection.load(bytes, { programs: [best.prog], logLevel: 4 });
    try {
      const log = c.program(best.prog).verifierLog ?? '';
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
  void median;
  console.log(`${best.prog} (${best.insns} insns, ${best.file.split('/').slice(-2).join('/')}): tsbpf ${t.toFixed(2)} ms, kernel ${kt.toFixed(2)} ms, ratio ${(t / kt).toFixed(2)}x`);
  console.log(JSON.stringify({ name: 'vm-verify', unit: 'ms', program: best.prog, insns: best.insns, runs: RUNS, results: { tsbpf_ms: Math.round(t * 100) / 100, kernel_ms: Math.round(kt * 100) / 100, stats }, ratios: { tsbpf_vs_kernel: Math.round((t / kt) * 100) / 100 }, target: { tsbpf_vs_kernel: 1 } }));
}

main();

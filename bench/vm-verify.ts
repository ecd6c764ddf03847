// vm-verify: time to verify the largest program of the tools' objects — tsbpf's verifier against the
// kernel's (its own "verification time" from a BPF_LOG_STATS load) — and the next largest ones (TOP,
// default 3) as details. Last line: report()'s JSON object.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collection } from '../src/kernel/collection.js';
import { parseObject } from '../src/object/load-spec.js';
import { Vm } from '../src/vm/vm.js';
import { median, report } from './report.js';
import { Program } from '../src/kernel/program.js';
import { ProgramType } from '../src/uapi/bpf.js';
import { insn, type Instruction } from '../src/isa/instruction.js';
import { BPF_ALU64, BPF_ADD, BPF_AND, BPF_CALL, BPF_EXIT, BPF_JGT, BPF_JMP, BPF_K, BPF_MOV, BPF_MUL, BPF_X, BPF_XOR } from '../src/isa/opcodes.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = HERE.includes('/dist/') ? join(HERE, '..', '..') : join(HERE, '..');
const RUNS = Number(process.env.RUNS ?? 200);
const TOP = Number(process.env.TOP ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 4);

interface Candidate {
  file: string;
  prog: string;
  insns: number;
}

interface Row {
  program: string;
  object: string;
  insns: number;
  tsbpf_ms: number;
  kernel_ms: number;
  ratio: number;
  median_ms: { tsbpf: number; kernel: number };
  /** The first run of each: tsbpf's before V8 has optimised the verifier's code. */
  first_ms: { tsbpf: number; kernel: number };
  stats: unknown;
  kernelStats: Record<string, number>;
  /** tsbpf / kernel of each alternating block's minimum */
  blockRatios: number[];
}

/** The tools' programs, largest first. */
function candidates(): Candidate[] {
  const tools = join(ROOT, 'src/tools');
  const all: Candidate[] = [];
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
      for (const p of spec.programs) all.push({ file: join(dir, f), prog: p.name, insns: p.instructions.length });
    }
  }
  return all.sort((a, b) => b.insns - a.insns);
}

const ms = (x: number): number => Math.round(x * 1000) / 1000;

/** tsbpf's and the kernel's verification of one program: blocks of runs of each, alternating (so a
 *  change in the machine's load hits both; within a block each side runs with its own code warm). */
function measure(c: Candidate): Row {
  const bytes = new Uint8Array(readFileSync(c.file));
  const ours: number[] = [];
  const kernel: number[] = [];
  let stats;
  let lastLog = '';
  const block = Math.max(1, Math.ceil(RUNS / ROUNDS));
  const blockRatios: number[] = [];
  for (let done = 0; done < RUNS; done += block) {
    const n = Math.min(block, RUNS - done);
    const o0 = ours.length;
    const k0 = kernel.length;
    for (let k = 0; k < n; k++) {
      const vm = Vm.loadSync(bytes, { verify: false });
      const t0 = process.hrtime.bigint();
      const r = vm.verify(c.prog);
      ours.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!r.ok) throw new Error(`tsbpf rejects ${c.prog}: ${r.messages.join('\n')}`);
      stats = r.stats;
    }
    for (let k = 0; k < n; k++) {
      const coll = Collection.load(bytes, { programs: [c.prog], logLevel: 4 });
      try {
        const log = coll.program(c.prog).verifierLog ?? '';
        lastLog = log;
        const m = /verification time (\d+) usec/.exec(log);
        if (!m) throw new Error(`no verification time in the kernel's log:\n${log.slice(-400)}`);
        kernel.push(Number(m[1]) / 1000);
      } finally {
        coll.close();
      }
    }
    blockRatios.push(Math.min(...ours.slice(o0)) / Math.min(...kernel.slice(k0)));
  }
  // Minimum of the runs: on a shared machine the median mostly measures the scheduler.
  const t = Math.min(...ours);
  const kt = Math.min(...kernel);
  return {
    program: c.prog,
    object: c.file.split('/').slice(-2).join('/'),
    insns: c.insns,
    tsbpf_ms: ms(t),
    kernel_ms: ms(kt),
    ratio: Math.round((t / kt) * 1000) / 1000,
    median_ms: { tsbpf: ms(median(ours)), kernel: ms(median(kernel)) },
    first_ms: { tsbpf: ms(ours[0]!), kernel: ms(kernel[0]!) },
    stats,
    kernelStats: kernelStats(lastLog),
    blockRatios,
  };
}

/**
 * A generated program of about `n` instructions: an unknown value (bpf_get_prandom_u32) worked on
 * in blocks of 64 instructions, each with a branch on it (both ways feasible; one a block keeps the
 * kernel's pending branches under its 8192), the block's registers dead after it — so the verifier
 * explores and prunes as in real code, in time that grows with n.
 */
export function generated(n: number): Instruction[] {
  const alu = (op: number, dst: number, imm: number, src = 0, x = false): Instruction => insn(BPF_ALU64 | op | (x ? BPF_X : BPF_K), dst, src, 0, imm);
  const out: Instruction[] = [insn(BPF_JMP | BPF_CALL, 0, 0, 0, 7 /* get_prandom_u32 */), alu(BPF_MOV, 6, 0, 0, true)];
  for (let k = 0; out.length + 66 <= n; k++) {
    out.push(
      alu(BPF_MOV, 1, 0, 6, true),
      alu(BPF_AND, 1, 0xff),
      insn(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 2, 100 + (k % 50)),
      alu(BPF_ADD, 1, 5),
      alu(BPF_MUL, 1, 3),
    );
    for (let i = 0; i < 59; i++) out.push(i % 3 === 0 ? alu(BPF_XOR, 1, (k + i) & 0xffff) : i % 3 === 1 ? alu(BPF_MOV, 2, 0, 1, true) : alu(BPF_ADD, 1, 0, 2, true));
  }
  out.push(alu(BPF_MOV, 0, 0), insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return out;
}

/** ms of tsbpf's and the kernel's verifier on `insns` (a socket filter), the minimum of `runs` each. */
function verifyBoth(insns: Instruction[], runs: number): { tsbpf: number; kernel: number; processed: number } {
  const ours: number[] = [];
  const kernel: number[] = [];
  let processed = 0;
  for (let k = 0; k < runs; k++) {
    const vm = Vm.loadSync(insns, { verify: false, type: ProgramType.SOCKET_FILTER, name: 'gen' });
    const t0 = process.hrtime.bigint();
    const r = vm.verify('gen');
    ours.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!r.ok) throw new Error(`tsbpf rejects the generated program of ${insns.length} insns: ${r.messages.slice(0, 3).join('\n')}`);
    const prog = Program.load({ type: ProgramType.SOCKET_FILTER, instructions: insns, license: 'GPL', name: 'gen', logLevel: 4 });
    try {
      const log = prog.verifierLog ?? '';
      const m = /verification time (\d+) usec/.exec(log);
      if (!m) throw new Error(`no verification time in the kernel's log:\n${log.slice(-400)}`);
      kernel.push(Number(m[1]) / 1000);
      processed = kernelStats(log).insns ?? 0;
    } finally {
      prog.close();
    }
  }
  return { tsbpf: Math.min(...ours), kernel: Math.min(...kernel), processed };
}

/** The curve drawn in the report: verification time against program size, tools' programs and generated ones. */
function curve(): unknown {
  const tools: { x: number; program: string; tsbpf: number; kernel: number }[] = [];
  for (const c of candidates()) {
    try {
      Collection.load(readFileSync(c.file), { programs: [c.prog] }).close();
    } catch {
      continue; // a hook this kernel does not load
    }
    const r = measureQuick(c);
    tools.push({ x: c.insns, program: c.prog, ...r });
  }
  const gen = [1000, 4000, 16000, 64000, 100000].map((n) => {
    const insns = generated(n);
    const r = verifyBoth(insns, n > 20000 ? 2 : 4);
    console.log(`generated ${insns.length} insns: tsbpf ${r.tsbpf.toFixed(2)} ms, kernel ${r.kernel.toFixed(2)} ms (processed ${r.processed})`);
    return { x: insns.length, ...r };
  });
  return {
    x: 'instructions',
    y: 'ms to verify (minimum of runs)',
    series: {
      'tsbpf (tools)': tools.map((t) => ({ x: t.x, median: t.tsbpf, label: t.program })),
      'kernel (tools)': tools.map((t) => ({ x: t.x, median: t.kernel, label: t.program })),
      'tsbpf (generated)': gen.map((g) => ({ x: g.x, median: g.tsbpf })),
      'kernel (generated)': gen.map((g) => ({ x: g.x, median: g.kernel })),
    },
  };
}

/** A tool program verified 5 times by each (the curve's points; measure() is the headline's). */
function measureQuick(c: Candidate): { tsbpf: number; kernel: number } {
  const bytes = new Uint8Array(readFileSync(c.file));
  const ours: number[] = [];
  const kernel: number[] = [];
  for (let k = 0; k < 5; k++) {
    const vm = Vm.loadSync(bytes, { verify: false });
    const t0 = process.hrtime.bigint();
    vm.verify(c.prog);
    ours.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const coll = Collection.load(bytes, { programs: [c.prog], logLevel: 4 });
    try {
      const m = /verification time (\d+) usec/.exec(coll.program(c.prog).verifierLog ?? '');
      if (m) kernel.push(Number(m[1]) / 1000);
    } finally {
      coll.close();
    }
  }
  return { tsbpf: ms(Math.min(...ours)), kernel: ms(Math.min(...kernel)) };
}

function main(): void {
  // The largest program is the target; the next ones show it is not a one-program result.
  const rows: Row[] = [];
  for (const c of candidates()) {
    if (rows.length >= TOP) break;
    try {
      Collection.load(readFileSync(c.file), { programs: [c.prog] }).close();
    } catch (e) {
      // Hooks this kernel cannot load (fentry without the permission, kprobes without the config).
      console.log(`${c.prog}: skipped, the kernel here does not load it (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    rows.push(measure(c));
  }
  if (!rows.length) throw new Error('no tool objects found');
  for (const r of rows) {
    console.log(`${r.program.padEnd(24)} ${String(r.insns).padStart(4)} insns (${r.object}): tsbpf ${r.tsbpf_ms.toFixed(2)} ms, kernel ${r.kernel_ms.toFixed(2)} ms, ` +
      `ratio ${r.ratio} (first run: tsbpf ${r.first_ms.tsbpf.toFixed(2)} ms, kernel ${r.first_ms.kernel.toFixed(2)} ms) — processed ${(r.stats as { insns: number }).insns} vs ${r.kernelStats.insns} insns (min of ${RUNS} runs each, in ${ROUNDS} alternating blocks)`);
  }
  const best = rows[0]!;
  const drawn = process.env.CURVE === '0' ? undefined : curve();
  report({
    name: 'vm-verify',
    ours: best.tsbpf_ms,
    reference: best.kernel_ms,
    unit: 'ms',
    better: 'lower',
    referenceName: "kernel verifier (BPF_LOG_STATS verification time)",
    target: 1,
    program: best.program,
    insns: best.insns,
    runs: RUNS,
    rounds: ROUNDS,
    median_ms: best.median_ms,
    first_ms: best.first_ms,
    stats: best.stats,
    kernelStats: best.kernelStats,
    maxRatio: Math.max(...rows.map((r) => r.ratio)),
    programs: rows,
    // the headline program's runs in ROUNDS blocks: tsbpf / kernel of each block's minimum
    roundRatios: best.blockRatios,
    curve: drawn,
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

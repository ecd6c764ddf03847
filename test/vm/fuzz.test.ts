// The differential fuzzer over a fixed set of seeds (4,500 programs, about half a minute):
// socket filters, XDP programs and programs over the VM's own context, generated and mutated, judged
// by tsbpf's verifier and the kernel's; every program tsbpf accepts runs on the interpreter and the
// JIT. Fails on any program tsbpf accepts that the kernel rejects for a reason classify.ts does not
// explain, any accepted program that faults at run time, and any difference between the engines.
// Longer runs: `node scripts/vm-fuzz.js --seconds 600` (or VM_FUZZ_SEEDS=N for this test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInstruction } from '../../src/isa/disasm.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { Fuzzer } from './fuzz/fuzzer.js';
import { TARGETS } from './fuzz/gen.js';

const SEEDS = Number(process.env.VM_FUZZ_SEEDS ?? 1500);

function listing(insns: Parameters<typeof formatInstruction>[0]): string {
  return insns.map((_, pc) => {
    try {
      return `    ${pc}: ${formatInstruction(insns, pc)}`;
    } catch {
      return `    ${pc}: (undecodable)`;
    }
  }).join('\n');
}

test(`differential fuzzing: ${SEEDS * TARGETS.length} programs, tsbpf vs the kernel and interpreter vs JIT`, async (t) => {
  if (!needsRoot(t)) return;
  const f = new Fuzzer({ kernel: true });
  try {
    for (let seed = 1; seed <= SEEDS; seed++) for (const target of TARGETS) f.one(target, seed, seed % 4 !== 0);
  } finally {
    f.close();
  }
  const summary = f.summary();
  console.log(summary);
  t.diagnostic(summary.replace(/\n/g, '; '));
  const c = f.counts;
  const shown = f.findings.slice(0, 5).map((x) => `${x.kind} ${x.target} seed ${x.seed}${x.mutated ? ' (mutated)' : ''}: ${x.detail}\n${listing(x.insns)}`);
  assert.equal(c.findings, 0, `${c.findings} finding(s):\n${shown.join('\n\n')}`);
  // A fuzzer that accepts nothing, or that the kernel always rejects, proves nothing.
  assert.ok(c.tsbpfAccepted > c.programs / 10 && c.kernelAccepted > c.programs / 10, summary);
  assert.ok(c.executed > c.programs / 10 && c.runs >= c.executed * 2, summary);
  await assertGone('prog', f.programIds);
});

// Ad-hoc differential fuzzing of tsbpf's verifier against the kernel's, and of the interpreter against
// the JIT, for as long as you like (the test suite runs a fixed, bounded set of seeds):
//   node scripts/vm-fuzz.js [--seconds N] [--from SEED] [--no-kernel] [--show K]
// Needs `npm run build` first (it runs the compiled fuzzer from dist/test) and root for the kernel.
import { Fuzzer } from '../dist/test/vm/fuzz/fuzzer.js';
import { TARGETS } from '../dist/test/vm/fuzz/gen.js';
import { formatInstruction } from '../dist/src/isa/disasm.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const seconds = Number(opt('--seconds', 60));
const from = Number(opt('--from', 1_000_000));
const show = Number(opt('--show', 5));
const kernel = !args.includes('--no-kernel') && process.getuid?.() === 0;

const f = new Fuzzer({ kernel });
const deadline = Date.now() + seconds * 1000;
let seed = from;
try {
  while (Date.now() < deadline) {
    for (const target of TARGETS) f.one(target, seed, seed % 4 !== 0);
    seed++;
  }
} finally {
  f.close();
}
console.log(`seeds ${from}..${seed - 1} (${seconds} s)`);
console.log(f.summary());
for (const x of f.findings.slice(0, show)) {
  console.log(`\n${x.kind} ${x.target} seed ${x.seed}${x.mutated ? ' (mutated)' : ''}: ${x.detail}`);
  console.log(x.insns.map((_, pc) => `  ${pc}: ${safe(() => formatInstruction(x.insns, pc))}`).join('\n'));
}
const top = [...f.stricter].sort((a, b) => b[1] - a[1]).slice(0, 8);
if (top.length) console.log(`\ntsbpf stricter than the kernel, most common reasons:\n${top.map(([k, n]) => `  ${n}  ${k}`).join('\n')}`);
process.exitCode = f.findings.length ? 1 : 0;

function safe(fn) {
  try {
    return fn();
  } catch (e) {
    return `?? ${e.message}`;
  }
}

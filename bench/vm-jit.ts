// vm-jit: ns per run of compute-heavy XDP programs (a prime sieve, a checksum over 1 KiB, a parser
// with many branches) and of an XDP packet parser: tsbpf's wasm JIT (every memory access checked)
// against the limit — the same C source compiled natively by clang -O2 and run in a process of its
// own, in a loop (bench/c/vm-native.c; the compute programs: goal ≤ 2×) — and against the kernel's
// JIT through BPF_PROG_TEST_RUN with `repeat`; the interpreter beside them. The ratio is the
// geometric mean over the compute programs of JIT / native, per round, refused when the rounds
// disagree by more than 15 %. Last line: report()'s JSON object.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBpf } from '../src/build/clang.js';
import { Program } from '../src/kernel/program.js';
import { parseObject } from '../src/object/load-spec.js';
import { Vm } from '../src/vm/vm.js';
import { jitStats } from '../src/vm/jit/compile.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { report } from './report.js';
import { geomean, spread } from './lib/rounds.js';

const HERE = dirname(fileURLToPath(import.meta.url));
// bench/ under tsx, dist/bench/ when compiled.
const ROOT = HERE.includes('/dist/') ? join(HERE, '..', '..') : join(HERE, '..');
const REPEAT = Number(process.env.REPEAT ?? 20000);

function packet(): Uint8Array {
  const p = new Uint8Array(1100);
  const v = new DataView(p.buffer);
  p.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  v.setUint16(12, 0x0800);
  p[14] = 0x45;
  v.setUint16(16, 1100 - 14);
  p[22] = 64;
  p[23] = 6;
  v.setUint16(14 + 20 + 2, 443);
  for (let i = 60; i < p.length; i++) p[i] = (i * 7) & 0xff;
  return p;
}

const ROUNDS = Number(process.env.ROUNDS ?? 7);

/** Minimum over ROUNDS of the mean ns per run: on a shared machine the minimum is the least disturbed. */
function minOf(round: () => number): number {
  return Math.min(...roundsOf(round));
}

/** The mean ns per run of each of ROUNDS rounds. */
function roundsOf(round: () => number): number[] {
  return Array.from({ length: ROUNDS }, () => round());
}

const COMPUTE = ['sieve', 'csum1k', 'classify'];

/** bench/c/vm-native.c built by clang -O2 into bench/bin (rebuilt when a source is newer). */
function nativeBinary(): string {
  const dir = join(ROOT, 'bench/bin');
  const out = join(dir, 'vm-native');
  const srcs = ['bench/c/vm-native.c', 'bench/c/vm-compute.bpf.c'].map((f) => join(ROOT, f));
  mkdirSync(dir, { recursive: true });
  if (!existsSync(out) || srcs.some((f) => statSync(f).mtimeMs > statSync(out).mtimeMs)) {
    const arch = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
    execFileSync('clang', ['-O2', '-Wall', '-Wno-unused-variable', `-I${arch}`, `-I${join(ROOT, 'bench/c')}`, srcs[0]!, '-o', out], { stdio: 'inherit' });
  }
  return out;
}

/** Native ns per run of each round, per compute program, and its result (r0). */
function native(pkt: Uint8Array): Record<string, { r0: number; rounds: number[] }> {
  const out = execFileSync(nativeBinary(), [String(REPEAT), String(ROUNDS), ...COMPUTE], { input: pkt, encoding: 'utf8' });
  return Object.fromEntries(out.trim().split('\n').map((l) => {
    const [name, r0, ...ns] = l.split(' ');
    return [name!, { r0: Number(r0), rounds: ns.map(Number) }];
  }));
}

/** ns per call of `fn` that itself performs `runs` runs (warm-up first, for V8's tiers). */
function timed(fn: () => void, runs: number): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / runs;
}

const same = (a: Uint8Array, b: Uint8Array | undefined): boolean => !!b && a.length === b.length && a.every((x, i) => x === b[i]);

interface Row {
  native_ns?: number;
  jit_vs_native?: number;
  kernel_ns: number;
  jit_ns: number;
  interp_ns: number;
  jit_single_ns: number;
  kernel_single_ns: number;
  jit_vs_kernel: number;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vmjit-'));
  try {
    const inc = [`/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`];
    const objs = [
      compileBpf(join(ROOT, 'bench/c/vm-compute.bpf.c'), { output: join(dir, 'c.o'), includeDirs: inc }),
      compileBpf(join(ROOT, 'test/vm/fixtures/net.bpf.c'), { output: join(dir, 'n.o'), includeDirs: inc }),
    ];
    const pkt = packet();
    const nat = native(pkt);
    const jitRounds: Record<string, number[]> = {};
    const results: Record<string, Row> = {};
    for (const obj of objs) {
      const bytes = new Uint8Array(readFileSync(obj));
      const spec = parseObject(bytes, 'bench');
      const vm = Vm.loadSync(bytes);
      for (const p of spec.programs) {
        if (!['sieve', 'csum1k', 'classify', 'xdp_parse'].includes(p.name)) continue;
        // Both sides run the program REPEAT times on the same packet inside one call (the kernel's
        // BPF_PROG_TEST_RUN `repeat`, the VM's `repeat` loop inside wasm) and report the mean.
        // The interpreter gets about 50 ms per round (the sieve takes tens of ms per run).
        const once = timed(() => vm.runXdp(p.name, pkt, { engine: 'interp' }), 1);
        const interpRepeat = Math.max(3, Math.min(Math.floor(REPEAT / 200), Math.round(50e6 / once)));
        const prog = Program.load({ type: p.type, instructions: p.instructions, license: 'GPL', name: p.name });
        let kernel: number;
        let kernelSingle: number;
        // One run per call on both sides: what a host pays per packet when it calls runXdp (or
        // BPF_PROG_TEST_RUN) for each, call overhead included.
        const single = Math.min(REPEAT, 5000);
        try {
          const kr = prog.testRun(pkt, { repeat: REPEAT, dataOutSize: pkt.length + 256 });
          const jr = vm.runXdp(p.name, pkt, { engine: 'jit', repeat: REPEAT });
          if (BigInt(kr.retval) !== jr.r0 || !same(kr.data, jr.packet)) throw new Error(`${p.name}: kernel returned ${kr.retval}, JIT ${jr.r0} (or the packets differ)`);
          const ir = vm.runXdp(p.name, pkt, { engine: 'interp', repeat: interpRepeat });
          if (ir.r0 !== jr.r0) throw new Error(`${p.name}: interpreter returned ${ir.r0}, JIT ${jr.r0}`);
          kernel = minOf(() => prog.testRun(pkt, { repeat: REPEAT, dataOutSize: pkt.length + 256 }).duration);
          kernelSingle = minOf(() => timed(() => {
            for (let i = 0; i < single; i++) prog.testRun(pkt, { dataOutSize: pkt.length + 256 });
          }, single));
        } finally {
          prog.close();
        }
        const jr = roundsOf(() => timed(() => vm.runXdp(p.name, pkt, { engine: 'jit', repeat: REPEAT }), REPEAT));
        jitRounds[p.name] = jr;
        const jit = Math.min(...jr);
        const n = nat[p.name];
        if (n && BigInt(n.r0) !== vm.runXdp(p.name, pkt, { engine: 'jit' }).r0) throw new Error(`${p.name}: native returned ${n.r0}, the JIT something else`);
        const interp = minOf(() => timed(() => vm.runXdp(p.name, pkt, { engine: 'interp', repeat: interpRepeat }), interpRepeat));
        const jitSingle = minOf(() => timed(() => {
          for (let i = 0; i < single; i++) vm.runXdp(p.name, pkt, { engine: 'jit' });
        }, single));
        const nativeNs = n ? Math.min(...n.rounds) : undefined;
        const row: Row = {
          ...(nativeNs !== undefined ? { native_ns: round(nativeNs), jit_vs_native: round(jit / nativeNs) } : {}),
          kernel_ns: kernel,
          jit_ns: round(jit),
          interp_ns: Math.round(interp),
          jit_single_ns: Math.round(jitSingle),
          kernel_single_ns: Math.round(kernelSingle),
          jit_vs_kernel: round(jit / Math.max(kernel, 1)),
        };
        results[p.name] = row;
        console.log(`${p.name.padEnd(10)} native ${nativeNs === undefined ? '       -' : nativeNs.toFixed(1).padStart(8)} ns   kernel ${String(kernel).padStart(8)} ns   jit ${String(row.jit_ns).padStart(8)} ns   ` +
          `interp ${String(row.interp_ns).padStart(10)} ns   1 run/call: jit ${String(row.jit_single_ns).padStart(6)} ns, kernel ${String(row.kernel_single_ns).padStart(6)} ns   jit/kernel ${row.jit_vs_kernel}x`);
      }
    }
    const rows = Object.values(results);
    const geo = (xs: number[]): number => Math.exp(xs.reduce((s, x) => s + Math.log(Math.max(x, 0.01)), 0) / xs.length);
    console.log(`wasm functions: ${jitStats.structured} structured, ${jitStats.dispatch} through the dispatch loop; ` +
      `repeat ${REPEAT}, min of ${ROUNDS} rounds`);
    // per round: the geometric mean over the compute programs of JIT / native, round k with round k
    const roundRatios = Array.from({ length: ROUNDS }, (_, k) => geomean(COMPUTE.map((c) => jitRounds[c]![k]! / nat[c]!.rounds[k]!)));
    const compute = COMPUTE.map((c) => results[c]!);
    report({
      name: 'vm-jit',
      ours: round(geo(compute.map((r) => r.jit_ns))),
      reference: round(geo(compute.map((r) => r.native_ns!))),
      unit: 'ns/run (geomean of the compute programs)',
      better: 'lower',
      referenceName: 'the same C compiled natively by clang -O2, in a loop',
      target: 2,
      roundRatios,
      vsKernel: {
        ours: round(geo(rows.map((r) => r.jit_ns))),
        kernel: round(geo(rows.map((r) => Math.max(r.kernel_ns, 1)))),
        ratio: round(geo(rows.map((r) => r.jit_ns)) / geo(rows.map((r) => Math.max(r.kernel_ns, 1)))),
        referenceName: 'kernel JIT via BPF_PROG_TEST_RUN repeat (all four programs)',
        maxRatio: Math.max(...rows.map((r) => r.jit_vs_kernel)),
      },
      perProgramVsNative: Object.fromEntries(COMPUTE.map((c) => [c, spread(jitRounds[c]!.map((x, k) => x / nat[c]!.rounds[k]!))])),
      repeat: REPEAT,
      rounds: ROUNDS,
      jit: jitStats,
      results,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

main();

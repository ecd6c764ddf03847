// vm-jit: ns per run of compute-heavy XDP programs (a prime sieve, a checksum over 1 KiB, a parser
// with many branches) and of an XDP packet parser: tsbpf's wasm JIT and interpreter against the
// kernel's JIT through BPF_PROG_TEST_RUN with `repeat`. Last line: one JSON object.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBpf } from '../src/build/clang.js';
import { Program } from '../src/kernel/program.js';
import { parseObject } from '../src/object/load-spec.js';
import { Vm } from '../src/vm/vm.js';
import { jitStats } from '../src/vm/jit/compile.js';

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

function nsPerRun(fn: () => void, n: number): number {
  for (let i = 0; i < Math.min(1000, n); i++) fn(); // warm up (JIT tiers)
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
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
    const results: Record<string, { kernel_ns: number; jit_ns: number; interp_ns: number; jit_vs_kernel: number }> = {};
    for (const obj of objs) {
      const bytes = new Uint8Array(readFileSync(obj));
      const spec = parseObject(bytes, 'bench');
      const vm = Vm.loadSync(bytes);
      for (const p of spec.programs) {
        if (!['sieve', 'csum1k', 'classify', 'xdp_parse'].includes(p.name)) continue;
        const prog = Program.load({ type: p.type, instructions: p.instructions, license: 'GPL', name: p.name });
        let kernel: number;
        try {
          kernel = prog.testRun(pkt, { repeat: REPEAT, dataOutSize: pkt.length + 256 }).duration;
          const kr = prog.testRun(pkt, { dataOutSize: pkt.length + 256 }).retval;
          const jr = vm.runXdp(p.name, pkt, { engine: 'jit' }).r0;
          if (BigInt(kr) !== jr) throw new Error(`${p.name}: kernel returned ${kr}, JIT ${jr}`);
        } finally {
          prog.close();
        }
        const jit = nsPerRun(() => vm.runXdp(p.name, pkt, { engine: 'jit' }), REPEAT);
        const interp = nsPerRun(() => vm.runXdp(p.name, pkt, { engine: 'interp' }), Math.max(20, Math.floor(REPEAT / 200)));
        results[p.name] = { kernel_ns: kernel, jit_ns: Math.round(jit), interp_ns: Math.round(interp), jit_vs_kernel: Math.round((jit / Math.max(kernel, 1)) * 100) / 100 };
        console.log(`${p.name.padEnd(10)} kernel ${String(kernel).padStart(8)} ns   jit ${String(Math.round(jit)).padStart(8)} ns   interp ${String(Math.round(interp)).padStart(10)} ns   jit/kernel ${results[p.name]!.jit_vs_kernel}x`);
      }
    }
    const ratios = Object.values(results).map((r) => r.jit_vs_kernel);
    const geo = Math.round(Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length) * 100) / 100;
    console.log(`wasm functions: ${jitStats.structured} structured, ${jitStats.dispatch} through the dispatch loop`);
    console.log(JSON.stringify({ name: 'vm-jit', unit: 'ns/run', repeat: REPEAT, jit: jitStats, results, ratios: { geomean: geo, max: Math.max(...ratios) }, target: { max: 2 } }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();

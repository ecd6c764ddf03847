// Interpreter vs JIT on random programs that are valid by construction: same r0, same context bytes,
// same map contents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MapType } from '../../src/uapi/bpf.js';
import { Vm } from '../../src/vm/vm.js';
import { jitStats } from '../../src/vm/jit/compile.js';
import { randomProgram, Rng } from './random-program.js';

const N = Number(process.env.VM_DIFF_N ?? 400);

test(`interpreter and JIT agree on ${N} random programs`, () => {
  let withMap = 0;
  for (let seed = 1; seed <= N; seed++) {
    const p = randomProgram(seed, 20 + (seed % 60));
    const results = (['interp', 'jit'] as const).map((engine) => {
      const vm = Vm.loadSync({ programs: [{ name: 'p', type: 0, insns: p.insns }], maps: [{ name: 'm', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 }] }, { verify: false });
      const g = new Rng(seed * 7 + 1);
      const ctx = Uint8Array.from({ length: p.ctxSize }, () => g.int(256));
      const out = vm.run('p', ctx, { engine });
      const m = vm.maps.get('m')!;
      const vals = [...m.entries()].map(([, v]) => Buffer.from(v).toString('hex')).join(',');
      return { r0: out.r0, mem: Buffer.from(out.mem!).toString('hex'), vals };
    });
    if (p.usesMap) withMap++;
    assert.deepEqual(results[1], results[0], `seed ${seed}`);
  }
  assert.ok(withMap > N / 10, `only ${withMap} programs used a map`);
  // Counted loops and forward branches compile to structured wasm (loop/block), not the dispatch.
  assert.ok(jitStats.structured >= N, JSON.stringify(jitStats));
});

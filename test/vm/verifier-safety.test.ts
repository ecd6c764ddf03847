// "tsbpf never accepts a program that could touch memory outside its regions": random programs,
// valid by construction and then mutated, are verified; every accepted one runs on the checking
// interpreter over many inputs and must never fault, loop forever or misuse a helper. The same
// mutants are judged by the kernel too, and the agreement rate is printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../src/isa/opcodes.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { Program } from '../../src/kernel/program.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { VmError } from '../../src/vm/runtime.js';
import { verify } from '../../src/vm/verifier/verify.js';
import { Vm } from '../../src/vm/vm.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { randomProgram, Rng } from './random-program.js';

function mutate(insns: Instruction[], g: Rng): Instruction[] {
  const out = insns.map((i) => ({ ...i }));
  const n = 1 + g.int(3);
  for (let k = 0; k < n; k++) {
    const pc = g.int(out.length);
    const i = out[pc]!;
    if (pc > 0 && out[pc - 1]!.code === 0x18) continue; // keep lddw's second half
    switch (g.int(6)) {
      case 0: i.off += g.pick([-8, -1, 1, 8, 64, -512, 600]); break;
      case 1: i.dst = g.int(11); break;
      case 2: i.src = g.int(11); break;
      case 3: i.imm = g.imm(); break;
      case 4: i.off = g.int(2) ? -i.off : i.off + 1; break;
      default: out[pc] = { code: O.BPF_ALU64 | O.BPF_MOV | O.BPF_K, dst: g.int(10), src: 0, off: 0, imm: g.imm() };
    }
  }
  return out;
}

const MAP = { name: 'm', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 };

test('every program tsbpf accepts stays inside its memory regions when run', () => {
  const N = Number(process.env.VM_SAFETY_N ?? 400);
  let accepted = 0;
  let acceptedMutants = 0;
  for (let seed = 1; seed <= N; seed++) {
    const g = new Rng(seed * 31 + 7);
    const p = randomProgram(seed, 15 + (seed % 40));
    const insns = seed % 4 === 0 ? p.insns : mutate(p.insns, g);
    let vm: Vm;
    try {
      vm = Vm.loadSync({ programs: [{ name: 'p', type: ProgramType.UNSPEC, insns }], maps: [MAP] }, { verify: false });
    } catch (e) {
      assert.match((e as Error).message, /pc \d+/, `seed ${seed}: a structural rejection without a location`);
      continue;
    }
    let res;
    try {
      res = verify(vm.program('p'), { maps: [vm.maps.get('m')!], ctxSize: p.ctxSize, complexityLimit: 200_000 });
    } catch (e) {
      assert.fail(`seed ${seed}: the verifier crashed: ${(e as Error).stack}`);
    }
    if (!res.ok) {
      assert.ok(res.messages.length > 0 && res.reason, `seed ${seed}: a rejection without a reason`);
      continue;
    }
    accepted++;
    if (seed % 4 !== 0) acceptedMutants++;
    for (let run = 0; run < 10; run++) {
      const ctx = Uint8Array.from({ length: p.ctxSize }, () => g.int(256));
      try {
        vm.run('p', ctx, { engine: 'interp' });
      } catch (e) {
        if (e instanceof VmError) assert.fail(`seed ${seed}: accepted by the verifier, yet at run time: ${e.message}`);
        throw e;
      }
    }
  }
  // Valid-by-construction programs must be accepted, and some mutants too (or the test proves little).
  assert.ok(accepted >= N / 4, `only ${accepted} of ${N} programs accepted`);
  assert.ok(acceptedMutants > N / 20, `only ${acceptedMutants} mutants accepted`);
});

test('verifier agreement with BPF_PROG_LOAD on random programs and their mutants', async (t) => {
  if (!needsRoot(t)) return;
  const N = Number(process.env.VM_AGREE_N ?? 150);
  const ids: number[] = [];
  let agree = 0;
  let unsafeAccepts = 0;
  const disagreements: string[] = [];
  for (let seed = 1; seed <= N; seed++) {
    const g = new Rng(seed * 17 + 3);
    const p = randomProgram(seed + 5000, 15 + (seed % 40), { kernel: true });
    const insns = seed % 3 === 0 ? p.insns : mutate(p.insns, g);
    const ours = verify({ name: 'r', type: ProgramType.SOCKET_FILTER, insns }, { complexityLimit: 200_000 });
    let kernel = true;
    let why = '';
    try {
      const prog = Program.load({ type: ProgramType.SOCKET_FILTER, instructions: insns, license: 'GPL' });
      ids.push(prog.id);
      prog.close();
    } catch (e) {
      kernel = false;
      why = (e as Error).message.split('\n')[0]!.slice(0, 160);
    }
    if (ours.ok === kernel) agree++;
    else {
      if (ours.ok) {
        // tsbpf proved more than the kernel (exact constants where the kernel lost precision): that is
        // only acceptable if the program really is safe, so run it on the checking interpreter.
        const vm = Vm.loadSync(insns, { type: ProgramType.SOCKET_FILTER, verify: false });
        vm.rt.maxSteps = 1_000_000;
        try {
          for (let k = 0; k < 5; k++) vm.run(undefined, Uint8Array.from({ length: 64 }, () => g.int(256)), { engine: 'interp' });
        } catch (e) {
          unsafeAccepts++;
          why += ` — and it fails at run time: ${(e as Error).message}`;
        }
      }
      disagreements.push(`seed ${seed}: tsbpf ${ours.ok ? 'accepts' : `rejects (${ours.reason})`}, kernel ${kernel ? 'accepts' : `rejects (${why})`}`);
    }
  }
  const summary = `verifier agreement on ${N} random programs/mutants: ${agree}/${N} (${((100 * agree) / N).toFixed(1)}%)`;
  console.log([summary, ...disagreements.slice(0, 15)].join('\n'));
  t.diagnostic(summary);
  assert.equal(unsafeAccepts, 0, `tsbpf accepted programs the kernel rejects:\n${disagreements.join('\n')}`);
  assert.ok(agree / N >= 0.9, `${summary}\n${disagreements.join('\n')}`);
  await assertGone('prog', ids);
});

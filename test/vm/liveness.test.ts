// Register liveness for state pruning: which registers a slot's future may read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../src/isa/opcodes.js';
import { liveRegisters } from '../../src/vm/verifier/liveness.js';
import { verify } from '../../src/vm/verifier/verify.js';
import { Vm } from '../../src/vm/vm.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { alu64i, alu64r, call, callLocal, exit, jmpi, lddw, mov64i, mov64r, stx } from './asm.js';

const regs = (mask: number): number[] => [...Array(11).keys()].filter((r) => mask & (1 << r));

test('liveness: reads before writes, through branches, calls and lddw', () => {
  const insns = [
    mov64r(6, 1), // 0: r1 live here
    mov64i(2, 7), // 1
    jmpi(O.BPF_JEQ, 6, 0, 2), // 2: r6 read; r2 live on the fall-through only
    alu64r(O.BPF_ADD, 2, 6), // 3
    ja2(),
    mov64i(0, 1), // 5
    exit(), // 6
    ...lddw(3, 5n), // 7-8: r3 written, not read
    mov64r(0, 2), // 9
    exit(), // 10
  ];
  const live = liveRegisters(insns);
  assert.deepEqual(regs(live[0]!), [1, 10]);
  assert.deepEqual(regs(live[2]!), [2, 6, 10]);
  assert.deepEqual(regs(live[5]!), [10]);
  assert.deepEqual(regs(live[7]!), [2, 10], 'lddw defines r3');
  assert.deepEqual(regs(live[6]!), [0, 10], 'exit reads r0');
  // A helper call reads the arguments of its prototype and clobbers r0-r5: ktime_get_ns (5) has
  // none, map_lookup_elem (1) two, an unknown helper is taken to read all five.
  const h = liveRegisters([call(5), alu64r(O.BPF_ADD, 0, 7), exit()]);
  assert.deepEqual(regs(h[0]!), [7, 10]);
  assert.deepEqual(regs(liveRegisters([call(1), exit()])[0]!), [1, 2, 10]);
  assert.deepEqual(regs(liveRegisters([call(100000), exit()])[0]!), [1, 2, 3, 4, 5, 10]);
  // A local call reads what its callee reads of r1-r5 before writing them (here r3 only).
  const l = liveRegisters([callLocal(2), mov64i(0, 0), exit(), mov64i(1, 0), alu64r(O.BPF_ADD, 1, 3), mov64r(0, 1), exit()]);
  assert.deepEqual(regs(l[0]!), [3, 10]);
  function ja2() {
    return { code: O.BPF_JMP | O.BPF_JA, dst: 0, src: 0, off: 4, imm: 0 };
  }
});

test('pruning ignores dead registers: branches that differ only in a dead register merge', () => {
  // A diamond repeated 12 times: each arm sets r3 to a different constant that nothing reads (the
  // next diamond overwrites it). Without liveness the two values of r3 keep states apart: 418
  // instructions processed; with it, 205.
  const body = [];
  for (let k = 0; k < 12; k++) {
    body.push({ code: O.BPF_LDX | O.BPF_MEM | O.BPF_W, dst: 6, src: 1, off: 0, imm: 0 });
    body.push(jmpi(O.BPF_JGT, 6, 5, 2), mov64i(3, 1), { code: O.BPF_JMP | O.BPF_JA, dst: 0, src: 0, off: 1, imm: 0 }, mov64i(3, 2));
    body.push(alu64i(O.BPF_ADD, 4, 1), mov64i(5, 0), alu64r(O.BPF_ADD, 5, 4), stx(O.BPF_DW, 10, 5, -8));
  }
  const insns = [mov64i(4, 0), ...body, mov64i(0, 0), exit()];
  const vm = Vm.loadSync(insns, { type: ProgramType.UNSPEC, ctxSize: 8, verify: false });
  const r = verify(vm.program(), { maps: [], ctxSize: 8 });
  assert.ok(r.ok, r.messages.join("\n"));
  assert.ok(r.stats.pruned > 0, `pruned ${r.stats.pruned}`);
  assert.ok(r.stats.insns < 300, `processed ${r.stats.insns} instructions`);
  void lddw;
});

// State pruning and pointer ids: two maybe-NULL pointers with the same id are one lookup's result,
// so a NULL check of one proves the other. A remembered state where a register and a spilled copy
// share an id must not cover a state where they do not — even when the spilled copy is the very
// same slot object in both (the stack shared since the branch). Pruning there would let a path
// dereference a pointer it never checked. tsbpf and the kernel must both reject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../src/isa/opcodes.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { Vm } from '../../src/vm/vm.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { alu64i, call, exit, ja, jmpi, ldmap, ldx, mov64i, mov64r, st, stx } from './asm.js';

const MAP = { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 };

/**
 * r0 = lookup(m, 0) (id A); *(fp-8) = r0; r6 = r0; if random == 0 goto BAD;
 * r7 = r6 (id A: checking r7 checks the spilled copy too); ... JOIN: if r7 == 0 goto out;
 * r8 = *(fp-8); r0 = *(u32 *)(r8 + 0) — safe only when r7 and the slot share the id.
 * BAD: r7 = lookup(m, 0) (id B: checking it proves nothing about the slot); goto JOIN.
 * `checked`: dereference r7 itself instead (safe on both paths: the control).
 */
function program(ldMap: () => Instruction[], checked: boolean): Instruction[] {
  const lookup = [...ldMap(), st(O.BPF_W, 10, -16, 0), mov64r(2, 10), alu64i(O.BPF_ADD, 2, -16), call(1)];
  const head = [...lookup, stx(O.BPF_DW, 10, 0, -8), mov64r(6, 0), call(7)];
  // Two calls and enough instructions after the first checkpoint for the join to get one too.
  const fall = [mov64r(7, 6), call(7), call(7), mov64i(8, 1), mov64i(9, 2), mov64i(8, 3), mov64i(9, 4), mov64i(8, 5), mov64i(9, 6)];
  const use = checked ? [mov64r(8, 7), mov64r(8, 7)] : [ldx(O.BPF_DW, 8, 10, -8), mov64i(9, 0)];
  const join = [jmpi(O.BPF_JEQ, 7, 0, 3), ...use, ldx(O.BPF_W, 0, 8, 0), mov64i(0, 2), exit()];
  const bad = [...lookup, mov64r(7, 0)];
  const jmpAt = head.length;
  const joinAt = jmpAt + 1 + fall.length;
  const badAt = joinAt + join.length;
  const insns = [...head, jmpi(O.BPF_JEQ, 0, 0, badAt - jmpAt - 1), ...fall, ...join, ...bad];
  insns.push(ja(joinAt - insns.length - 1));
  return insns;
}

test('pruning: a spilled pointer linked by id in one state but not the other keeps them apart (tsbpf)', () => {
  for (const checked of [false, true]) {
    const vm = Vm.loadSync({ programs: [{ name: 'p', type: ProgramType.XDP, insns: program(() => ldmap(1, 0), checked) }], maps: [{ name: 'm', ...MAP }] }, { verify: false });
    const r = vm.verify('p');
    assert.equal(r.ok, checked, r.messages.join('\n'));
    if (!checked) assert.match(r.reason!, /may be NULL/);
  }
});

test('pruning: the kernel judges the same programs the same way', async (t) => {
  if (!needsRoot(t)) return;
  const m = BpfMap.create(MAP);
  const ids: number[] = [];
  try {
    const ldFd = (): Instruction[] => [{ code: O.BPF_LD | O.BPF_IMM | O.BPF_DW, dst: 1, src: O.BPF_PSEUDO_MAP_FD, off: 0, imm: m.fd }, { code: 0, dst: 0, src: 0, off: 0, imm: 0 }];
    for (const checked of [false, true]) {
      let why = '';
      try {
        const p = Program.load({ type: ProgramType.XDP, instructions: program(ldFd, checked), license: 'GPL', name: 'pruning_ids' });
        ids.push(p.id);
        p.close();
      } catch (e) {
        why = (e as Error).message;
      }
      if (checked) assert.equal(why, '', 'the kernel rejects the control');
      else assert.match(why, /R8 invalid mem access 'map_value_or_null'/);
    }
  } finally {
    m.close();
  }
  await assertGone('prog', ids);
});

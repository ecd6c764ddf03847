// Call frames: a callee may write into its caller's stack through a pointer it was given, but not
// store a pointer to a stack there — the kernel refuses it ("cannot spill pointers to stack into
// stack frame of the caller"), since a callee's frame address would outlive the callee.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../src/isa/opcodes.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { Program } from '../../src/kernel/program.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { verify } from '../../src/vm/verifier/verify.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { alu64i, callLocal, exit, ldx, mov64i, mov64r, st, stx } from './asm.js';

/** main: *(fp-8) = 0; r1 = fp-8; call F; r2 = *(fp-8); r0 = 0; exit. F stores `value` at *r1. */
function program(value: Instruction[]): Instruction[] {
  const main = [st(O.BPF_DW, 10, -8, 0), mov64r(1, 10), alu64i(O.BPF_ADD, 1, -8), callLocal(3), ldx(O.BPF_DW, 2, 10, -8), mov64i(0, 0), exit()];
  return [...main, st(O.BPF_DW, 10, -16, 7), ...value, stx(O.BPF_DW, 1, 2, 0), mov64i(0, 0), exit()];
}

const CASES: [string, Instruction[], boolean][] = [
  // F's own stack address into main's frame.
  ['bad_callee_fp', program([mov64r(2, 10), alu64i(O.BPF_ADD, 2, -16)]), false],
  // The pointer main gave it, stored back: still a stack pointer, still refused.
  ['bad_caller_fp', program([mov64r(2, 1)]), false],
  // A number is fine.
  ['ok_scalar', program([mov64i(2, 42)]), true],
];

test('frames: a stack pointer is never stored into a caller\'s frame (tsbpf and the kernel)', async (t) => {
  const ids: number[] = [];
  for (const [name, insns, ok] of CASES) {
    const r = verify({ name, type: ProgramType.XDP, insns });
    assert.equal(r.ok, ok, `${name}: tsbpf ${r.ok ? 'accepts' : 'rejects'}\n${r.messages.join('\n')}`);
    if (!ok) assert.match(r.messages.join('\n'), /cannot be stored in a caller's stack frame/);
  }
  if (!needsRoot(t)) return;
  for (const [name, insns, ok] of CASES) {
    let kernel = true;
    let why = '';
    try {
      const p = Program.load({ type: ProgramType.XDP, instructions: insns, license: 'GPL', name });
      ids.push(p.id);
      p.close();
    } catch (e) {
      kernel = false;
      why = (e as Error).message;
    }
    assert.equal(kernel, ok, `${name}: the kernel ${kernel ? 'accepts' : 'rejects'} ${why}`);
    if (!ok) assert.match(why, /cannot spill pointers to stack into stack frame of the caller/);
  }
  await assertGone('prog', ids);
});

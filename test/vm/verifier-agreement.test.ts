// Verifier agreement with the kernel: a corpus of safe (ok_*) and deliberately unsafe (bad_*)
// programs — C compiled by clang and hand-written instructions — judged by tsbpf and by BPF_PROG_LOAD.
// tsbpf must reject every unsafe program, and agree with the kernel on the rest; the rate is printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as O from '../../src/isa/opcodes.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { compileBpf } from '../../src/build/clang.js';
import { Collection } from '../../src/kernel/collection.js';
import { Program } from '../../src/kernel/program.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { verify } from '../../src/vm/verifier/verify.js';
import { Vm } from '../../src/vm/vm.js';
import { MULTIARCH_INCLUDE } from './clang-include.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { alu64i, call, exit, ja, jmpi, ldx, mov64i, mov64r, st, stx } from './asm.js';

function fixture(name: string): string {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../../test/vm/fixtures', name) : join(here, 'fixtures', name);
}

/** Hand-written programs for rules C cannot express. [name, type, instructions] */
const ASM: [string, ProgramType, Instruction[]][] = [
  ['ok_asm_min', ProgramType.XDP, [mov64i(0, 2), exit()]],
  ['bad_uninit_r0', ProgramType.XDP, [exit()]],
  ['bad_uninit_reg', ProgramType.XDP, [mov64r(0, 3), exit()]],
  ['bad_uninit_after_call', ProgramType.XDP, [call(5), mov64r(0, 1), exit()]],
  ['bad_stack_oob', ProgramType.XDP, [st(O.BPF_DW, 10, -520, 0), mov64i(0, 0), exit()]],
  ['bad_stack_above_fp', ProgramType.XDP, [st(O.BPF_DW, 10, 0, 0), mov64i(0, 0), exit()]],
  ['bad_div_zero_const', ProgramType.XDP, [mov64i(0, 1), alu64i(O.BPF_DIV, 0, 0), exit()]],
  ['bad_shift_range', ProgramType.XDP, [mov64i(0, 1), alu64i(O.BPF_LSH, 0, 64), exit()]],
  ['bad_infinite_loop', ProgramType.XDP, [mov64i(0, 0), ja(-1), exit()]],
  ['bad_jump_range', ProgramType.XDP, [mov64i(0, 0), ja(5), exit()]],
  ['bad_unreachable', ProgramType.XDP, [mov64i(0, 0), exit(), mov64i(0, 1), exit()]],
  ['bad_write_r10', ProgramType.XDP, [mov64i(10, 0), mov64i(0, 0), exit()]],
  ['bad_scalar_deref', ProgramType.XDP, [mov64i(1, 4096), ldx(O.BPF_W, 0, 1, 0), exit()]],
  ['bad_ptr_partial_spill', ProgramType.XDP, [stx(O.BPF_DW, 10, 1, -8), ldx(O.BPF_W, 0, 10, -8), exit()]],
  ['ok_spill_fill', ProgramType.XDP, [stx(O.BPF_DW, 10, 1, -8), ldx(O.BPF_DW, 2, 10, -8), ldx(O.BPF_W, 0, 2, 16), exit()]],
  ['bad_ctx_modified', ProgramType.XDP, [alu64i(O.BPF_ADD, 1, 4), ldx(O.BPF_W, 0, 1, 0), exit()]],
  ['bad_ptr_mul', ProgramType.XDP, [mov64r(0, 1), alu64i(O.BPF_MUL, 0, 2), mov64i(0, 0), exit()]],
  ['ok_counted_loop', ProgramType.XDP, [mov64i(0, 0), mov64i(1, 100), alu64i(O.BPF_ADD, 0, 3), alu64i(O.BPF_SUB, 1, 1), jmpi(O.BPF_JNE, 1, 0, -3), exit()]],
  ['bad_loop_no_progress', ProgramType.XDP, [mov64i(0, 0), ldx(O.BPF_W, 1, 1, 16), jmpi(O.BPF_JEQ, 1, 0, 1), ja(-2), exit()]],
];

interface Row {
  name: string;
  expectOk: boolean;
  tsbpf: boolean;
  kernel: boolean;
  why: string;
}

function report(rows: Row[]): string {
  const agree = rows.filter((r) => r.tsbpf === r.kernel).length;
  const lines = rows.filter((r) => r.tsbpf !== r.kernel).map((r) => `  disagree ${r.name}: tsbpf ${r.tsbpf ? 'accepts' : 'rejects'}, kernel ${r.kernel ? 'accepts' : 'rejects'} — ${r.why}`);
  return [`verifier agreement with the kernel: ${agree}/${rows.length} (${((100 * agree) / rows.length).toFixed(1)}%)`, ...lines].join('\n');
}

test('verifier agreement: C corpus and hand-written programs vs BPF_PROG_LOAD', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'clang')) return;
  const rows: Row[] = [];
  const ids: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vmv-'));
  try {
    const obj = compileBpf(fixture('corpus.bpf.c'), { output: join(dir, 'corpus.bpf.o'), includeDirs: [MULTIARCH_INCLUDE] });
    const bytes = new Uint8Array(readFileSync(obj));
    const vm = Vm.loadSync(bytes, { verify: false });
    for (const name of vm.programs) {
      const res = vm.verify(name);
      let kernel = true;
      let why = '';
      try {
        const c = Collection.load(bytes, { programs: [name], name: 'corpus' });
        ids.push(c.program(name).id);
        c.close();
      } catch (e) {
        kernel = false;
        why = `kernel: ${(e as Error).message.split('\n')[0]}`;
      }
      rows.push({ name, expectOk: name.startsWith('ok_'), tsbpf: res.ok, kernel, why: res.ok ? why : `tsbpf: ${res.reason}; ${why}` });
      if (!res.ok) {
        // Messages name the instruction, the reason and (from BTF line info) the C line.
        assert.match(res.messages.join('\n'), /rejected at pc \d+/);
        assert.match(res.messages.join('\n'), /source: corpus\.bpf\.c:\d+/, `${name}: no C source line in\n${res.messages.join('\n')}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [name, type, insns] of ASM) {
    const res = verify({ name, type, insns });
    let kernel = true;
    let why = '';
    try {
      const p = Program.load({ type, instructions: insns, license: 'GPL', name: name.slice(0, 15) });
      ids.push(p.id);
      p.close();
    } catch (e) {
      kernel = false;
      why = `kernel: ${(e as Error).message.split('\n')[0]}`;
    }
    rows.push({ name, expectOk: name.startsWith('ok_'), tsbpf: res.ok, kernel, why: res.ok ? why : `tsbpf: ${res.reason}; ${why}` });
  }
  t.diagnostic(report(rows));
  console.log(report(rows));
  for (const r of rows) {
    // The corpus itself must be right: the kernel agrees with each program's label.
    assert.equal(r.kernel, r.expectOk, `corpus label of ${r.name} disagrees with the kernel: ${r.why}`);
    // Safety: tsbpf never accepts a program the kernel rejects.
    assert.ok(!(r.tsbpf && !r.kernel), `tsbpf accepts ${r.name}, which the kernel rejects: ${r.why}`);
  }
  const agree = rows.filter((r) => r.tsbpf === r.kernel).length;
  assert.ok(agree / rows.length >= 0.9, report(rows));
  await assertGone('prog', ids);
});

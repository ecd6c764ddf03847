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
import { alu32i, alu32r, alu64i, alu64r, call, exit, ja, jmpi, jmpr, ldx, mov64i, mov64r, st, stx } from './asm.js';
import { insn } from '../../src/isa/instruction.js';
import { helperId } from '../../src/isa/helpers.js';

const HELPER: Record<string, number> = Object.fromEntries(['xdp_adjust_head', 'xdp_adjust_tail', 'xdp_adjust_meta', 'skb_store_bytes', 'l4_csum_replace'].map((h) => [h, helperId(h)!]));

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
  // Shifts (issue 12): the ISA masks the count (& 31, & 63) and a 32-bit arithmetic shift copies bit 31.
  // Each result indexes the stack from fp-8: only offsets that are really 0 are safe.
  ['bad_arsh32_reg36', ProgramType.XDP, shiftIndex([alu32r(O.BPF_ARSH, 2, 4)], 36)],
  ['bad_lsh32_reg33', ProgramType.XDP, shiftIndex([alu32i(O.BPF_AND, 2, 1), alu32r(O.BPF_LSH, 2, 4)], 33)],
  ['bad_rsh32_reg32', ProgramType.XDP, shiftIndex([alu32r(O.BPF_RSH, 2, 4)], 32)],
  ['bad_rsh64_reg64', ProgramType.XDP, shiftIndex([alu64r(O.BPF_RSH, 2, 4)], 64)],
  ['bad_arsh32_sign', ProgramType.XDP, shiftIndex([alu32i(O.BPF_OR, 2, -0x80000000), alu32i(O.BPF_ARSH, 2, 31)], 0)],
  ['ok_arsh32_reg31', ProgramType.XDP, shiftIndex([alu32i(O.BPF_AND, 2, 0x7fffffff), alu32r(O.BPF_ARSH, 2, 4)], 31)],
  // Packet pointers die when a helper may move the packet (the kernel's bpf_helper_changes_pkt_data).
  ...(['xdp_adjust_head', 'xdp_adjust_tail', 'xdp_adjust_meta'] as const).map((h): [string, ProgramType, Instruction[]] => [`bad_stale_${h.slice(4)}`, ProgramType.XDP, stalePacket(h, false)]),
  ['ok_reload_adjust_head', ProgramType.XDP, stalePacket('xdp_adjust_head', true)],
  ['bad_stale_store_bytes', ProgramType.SCHED_CLS, staleSkb('skb_store_bytes')],
  ['bad_stale_l4_csum', ProgramType.SCHED_CLS, staleSkb('l4_csum_replace')],
  // BPF_END's offset, source register and width are checked as the kernel does.
  ['bad_end_offset', ProgramType.XDP, [mov64i(0, 1), insn(O.BPF_ALU | O.BPF_END | O.BPF_TO_BE, 0, 0, 1, 16), exit()]],
  ['bad_end_src', ProgramType.XDP, [mov64i(0, 1), insn(O.BPF_ALU | O.BPF_END | O.BPF_TO_LE, 0, 3, 0, 32), exit()]],
  ['bad_bswap_offset', ProgramType.XDP, [mov64i(0, 1), insn(O.BPF_ALU64 | O.BPF_END, 0, 0, -1, 64), exit()]],
  ['ok_end', ProgramType.XDP, [mov64i(0, 1), insn(O.BPF_ALU | O.BPF_END | O.BPF_TO_BE, 0, 0, 0, 16), exit()]],
];

/** r2 = a random number, then `ops` (with r4 = count), then r2 & 0xff as a stack offset below fp-8. */
function shiftIndex(ops: Instruction[], count: number): Instruction[] {
  const body = [call(7), mov64r(2, 0), mov64i(4, count), ...ops, alu64i(O.BPF_AND, 2, 0xff), mov64r(1, 10), alu64i(O.BPF_ADD, 1, -8), alu64r(O.BPF_ADD, 1, 2)];
  return [...body, st(O.BPF_B, 1, 0, 0), mov64i(0, 2), exit()];
}

/** XDP: check 14 bytes of packet, call `helper`, then read through the old pointer (or a reloaded one). */
function stalePacket(helper: string, reload: boolean): Instruction[] {
  const check = [ldx(O.BPF_W, 2, 6, 0), ldx(O.BPF_W, 3, 6, 4), mov64r(7, 2), mov64r(4, 2), alu64i(O.BPF_ADD, 4, 14), jmpr(O.BPF_JGT, 4, 3, 0)];
  const out = [mov64r(6, 1), ...check, mov64r(1, 6), mov64i(2, 0), call(HELPER[helper]!), ...(reload ? check : []), ldx(O.BPF_B, 0, 7, 0), mov64i(0, 2), exit()];
  // Each bounds check jumps to the final `r0 = 2; exit` when the packet is too short.
  return out.map((i, pc) => (i.code === (O.BPF_JMP | O.BPF_JGT | O.BPF_X) ? { ...i, off: out.length - 2 - (pc + 1) } : i));
}

/** tc: the same with a helper that rewrites the skb (its arguments: offset 0, a stack buffer or 0). */
function staleSkb(helper: string): Instruction[] {
  const out = [mov64r(6, 1), ldx(O.BPF_W, 2, 6, 76), ldx(O.BPF_W, 3, 6, 80), mov64r(7, 2), mov64r(4, 2), alu64i(O.BPF_ADD, 4, 14), jmpr(O.BPF_JGT, 4, 3, 0), st(O.BPF_DW, 10, -8, 0)];
  out.push(mov64r(1, 6), mov64i(2, 0), mov64r(3, 10), alu64i(O.BPF_ADD, 3, -8), mov64i(4, 2), mov64i(5, 0));
  if (helper === 'l4_csum_replace') out.splice(out.length - 4, 4, mov64i(3, 0), mov64i(4, 0), mov64i(5, 2));
  out.push(call(HELPER[helper]!), ldx(O.BPF_B, 0, 7, 0), mov64i(0, 0), exit());
  return out.map((i, pc) => (i.code === (O.BPF_JMP | O.BPF_JGT | O.BPF_X) ? { ...i, off: out.length - 2 - (pc + 1) } : i));
}

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

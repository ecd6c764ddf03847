// Liveness for state pruning: a remembered state's stack slots and registers that no later path
// reads are ignored when a new state is compared with it. Unsound liveness would prune a path whose
// only difference is a slot (or register) that IS read later — and so hide an unsafe access. Each
// program below has two paths that meet at a join where the first (safe) path leaves a checkpoint;
// the second path differs only in one stack slot, read after the join directly, through a callee,
// by a helper or after a partial write — or in one argument register a callee or helper reads. Both
// tsbpf and (where the kernel judges the same thing) BPF_PROG_LOAD must reject; the control
// programs, whose slot or register is dead, must be accepted — and pruned at the join, which shows
// the comparison really was skipped there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../src/isa/opcodes.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { Program } from '../../src/kernel/program.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { verify, type VerifyOptions } from '../../src/vm/verifier/verify.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { alu64i, call, callLocal, exit, ja, jmpi, ldx, mov64i, mov64r, st, stx } from './asm.js';

const PRANDOM = 7;
const TRACE_PRINTK = 6;
const KTIME_GET_NS = 5;

/**
 * r6 = ctx; r7 = random; `both` (on both paths); if r7 == 0 goto BAD; `fall` (the safe path's slot
 * content) and padding so the join gets a checkpoint; JOIN: three diamonds on fresh random values
 * (checkpoints between the join and the read, which the read mark must cross); `after` (the read);
 * r0 = XDP_PASS; exit. BAD: `bad` (the other slot content); goto JOIN. `tail`: subprograms.
 * Without diamonds (registers r1-r5 must reach a call unchanged) the join is the first of `after`.
 */
function program(both: Instruction[], fall: Instruction[], bad: Instruction[], after: Instruction[], tail: Instruction[] = [], nDiamonds = 3): Instruction[] & { join: number } {
  const head = [mov64r(6, 1), call(PRANDOM), mov64r(7, 0), ...both];
  const pad = [...fall, mov64i(8, 1), mov64i(9, 2), mov64i(8, 3), mov64i(9, 4), mov64i(8, 5), mov64i(9, 6)];
  const diamonds: Instruction[] = [];
  for (let k = 0; k < nDiamonds; k++) diamonds.push(call(PRANDOM), jmpi(O.BPF_JGT, 0, 5, 1), mov64i(8, k), mov64i(9, k));
  const body = [...diamonds, ...after, mov64i(0, 2), exit()];
  // pc of the conditional jump, of BAD, of JOIN
  const jmpAt = head.length;
  const joinAt = jmpAt + 1 + pad.length;
  const badAt = joinAt + body.length;
  const insns = [...head, jmpi(O.BPF_JEQ, 7, 0, badAt - jmpAt - 1), ...pad, ...body];
  insns.push(...bad);
  insns.push(ja(joinAt - (insns.length + 1)));
  insns.push(...tail);
  return Object.assign(insns, { join: joinAt });
}

const spillCtx = stx(O.BPF_DW, 10, 6, -8); // *(u64 *)(fp-8) = ctx
const spillZero = stx(O.BPF_DW, 10, 7, -8); // on BAD r7 == 0: *(u64 *)(fp-8) = 0 (a scalar)
const derefSlot = [ldx(O.BPF_DW, 3, 10, -8), ldx(O.BPF_W, 4, 3, 0)]; // r3 = *(fp-8); r4 = *(u32 *)(r3 + 0)

interface Case {
  name: string;
  insns: Instruction[] & { join: number };
  ok: boolean;
  /** The kernel judges the same rule (privileged: uninitialised stack reads are allowed there). */
  kernel: boolean;
  opts?: Omit<VerifyOptions, 'maps'>;
  /** Why tsbpf and the kernel reject it (not for something else). */
  why?: RegExp;
  kernelWhy?: RegExp;
}

const derefScalar = { why: /number, not a pointer/, kernelWhy: /R\d invalid mem access 'scalar'/ };
const uninit = { why: /never written/ };

// The callee reads the caller's slot through the pointer it is given, and dereferences what it finds.
const callee = [ldx(O.BPF_DW, 3, 1, 0), ldx(O.BPF_W, 4, 3, 0), mov64i(0, 0), exit()];
const callSlot = (rel: number): Instruction[] => [mov64r(1, 10), alu64i(O.BPF_ADD, 1, -8), callLocal(rel)];

function withCallee(both: Instruction[], bad: Instruction[]): Instruction[] & { join: number } {
  // Build once to learn where the callee lands, then point the call at it.
  const probe = program(both, [], bad, callSlot(0));
  const callPc = probe.findIndex((i) => i.code === (O.BPF_JMP | O.BPF_CALL) && i.src === O.BPF_PSEUDO_CALL);
  const insns = program(both, [], bad, callSlot(probe.length - callPc - 1), callee);
  assert.equal(insns.length, probe.length + callee.length);
  return insns;
}

// A helper reads 8 stack bytes as its format string (tsbpf with uninitialised stack reads refused).
const printkSlot = [mov64r(1, 10), alu64i(O.BPF_ADD, 1, -8), mov64i(2, 8), mov64i(3, 0), mov64i(4, 0), mov64i(5, 0), call(TRACE_PRINTK)];
const strict = { allowUninitStack: false };

// Register arguments: the join is right before the call, r3 (or r2) differs between the paths.
const derefR3 = [ldx(O.BPF_W, 0, 3, 0), mov64i(0, 0), exit()];
const calleeReg = (callee: Instruction[]): Instruction[] & { join: number } => {
  const probe = program([mov64r(3, 6)], [], [mov64i(3, 0)], [callLocal(0)], [], 0);
  return program([mov64r(3, 6)], [], [mov64i(3, 0)], [callLocal(probe.length - probe.join - 1)], callee, 0);
};
const printkSize = [st(O.BPF_DW, 10, -8, 0), mov64r(1, 10), alu64i(O.BPF_ADD, 1, -8), mov64i(3, 0), mov64i(4, 0), mov64i(5, 0), call(TRACE_PRINTK)];

const CASES: Case[] = [
  // The slot holds ctx on the safe path, 0 on BAD; dereferenced after the join.
  { name: 'bad_direct_read', insns: program([spillCtx], [], [spillZero], derefSlot), ok: false, kernel: true, ...derefScalar },
  { name: 'ok_direct_dead', insns: program([spillCtx], [], [spillZero], [spillCtx, ...derefSlot]), ok: true, kernel: true },
  { name: 'bad_callee_read', insns: withCallee([spillCtx], [spillZero]), ok: false, kernel: true, ...derefScalar },
  // The slot is written on the safe path only; BAD leaves it uninitialised. A helper reads it.
  { name: 'bad_helper_read', insns: program([], [st(O.BPF_DW, 10, -8, 0)], [], printkSlot), ok: false, kernel: false, opts: strict, ...uninit },
  { name: 'ok_helper_dead', insns: program([], [st(O.BPF_DW, 10, -8, 0)], [], [st(O.BPF_DW, 10, -8, 0), ...printkSlot]), ok: true, kernel: false, opts: strict },
  // fp-8..fp-5 are written after the join, but fp-4..fp-1 keep what the path had: a partial write
  // is not a whole write, the slot stays live.
  { name: 'bad_partial_write', insns: program([], [st(O.BPF_DW, 10, -8, 0)], [], [st(O.BPF_W, 10, -8, 1), ldx(O.BPF_DW, 3, 10, -8)]), ok: false, kernel: false, opts: strict, ...uninit },
  // Register liveness across calls: a callee reads the r1-r5 it reads (here r3, ctx or 0), a helper
  // the arguments of its prototype (trace_printk's size in r2: 8 or 1000 bytes of an 8-byte slot).
  { name: 'bad_callee_reg', insns: calleeReg(derefR3), ok: false, kernel: true, ...derefScalar },
  { name: 'ok_callee_reg_dead', insns: calleeReg([mov64i(0, 0), exit()]), ok: true, kernel: true },
  { name: 'bad_helper_arg', insns: program([mov64i(2, 8)], [], [mov64i(2, 1000)], printkSize, [], 0), ok: false, kernel: true, why: /outside the 512-byte stack frame/, kernelWhy: /invalid (indirect access to|read from) stack/ },
  { name: 'ok_helper_arg_dead', insns: program([mov64r(3, 6)], [], [mov64i(3, 0)], [call(KTIME_GET_NS)], [], 0), ok: true, kernel: true },
];

test('stack liveness: a slot read after the join keeps the states apart (tsbpf)', () => {
  for (const c of CASES) {
    let joins = 0;
    const trace = (pc: number): void => void (pc === c.insns.join && joins++);
    const r = verify({ name: c.name, type: ProgramType.XDP, insns: c.insns }, { ...c.opts, trace });
    assert.equal(r.ok, c.ok, `${c.name}: tsbpf ${r.ok ? 'accepts' : 'rejects'}\n${r.messages.join('\n')}`);
    // Pruned at the join: only the first path goes on from there.
    if (c.ok) assert.equal(joins, 1, `${c.name}: the path that differs only in a dead slot was not pruned at the join (${JSON.stringify(r.stats)})`);
    else assert.match(r.messages.join('\n'), c.why!, `${c.name}:\n${r.messages.join('\n')}`);
  }
});

test('stack liveness: the kernel judges the same programs the same way', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  for (const c of CASES.filter((x) => x.kernel)) {
    let ok = true;
    let why = '';
    try {
      const p = Program.load({ type: ProgramType.XDP, instructions: c.insns, license: 'GPL', name: c.name.slice(0, 15) });
      ids.push(p.id);
      p.close();
    } catch (e) {
      ok = false;
      why = (e as Error).message;
    }
    assert.equal(ok, c.ok, `${c.name}: the kernel ${ok ? 'accepts' : 'rejects'} ${why}`);
    // Rejected for what BAD does differently, not for something else.
    if (!ok) assert.match(why, c.kernelWhy!, `${c.name}: ${why}`);
  }
  await assertGone('prog', ids);
});

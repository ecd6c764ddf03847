// Per-instruction semantics tables (RFC 9669), run on both engines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../src/isa/opcodes.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { Vm } from '../../src/vm/vm.js';
import { alu32i, alu32r, alu64i, alu64r, atomic, bswap, endian, exit, gotol, ja, jmpi, jmpr, lddw, ldx, mov64i, mov64r, st, stx, callLocal } from './asm.js';

const MIN64 = 0x8000000000000000n;
const ENGINES = ['interp', 'jit'] as const;

/** r0 after running `body` (which sets r0) then exit. */
function r0(body: Instruction[], engine: 'interp' | 'jit' = 'interp'): bigint {
  const vm = Vm.loadSync([...body, exit()], { verify: false });
  return vm.run(undefined, undefined, { engine }).r0;
}

const set = (reg: number, v: bigint): Instruction[] => lddw(reg, v);

const cases: [string, Instruction[], bigint][] = [
  ['add64 wraps', [...set(0, 0xffffffffffffffffn), alu64i(O.BPF_ADD, 0, 2)], 1n],
  ['add32 zero-extends', [...set(0, 0x1ffffffffn), alu32i(O.BPF_ADD, 0, 1)], 0n],
  ['sub64 imm sign-extended', [mov64i(0, 0), alu64i(O.BPF_SUB, 0, -1)], 1n],
  ['mul64', [...set(0, 0x100000000n), alu64i(O.BPF_MUL, 0, 0x10)], 0x1000000000n],
  ['mul32 truncates', [...set(0, 0x80000000n), alu32i(O.BPF_MUL, 0, 2)], 0n],
  ['div64 by zero is 0', [mov64i(0, 77), mov64i(1, 0), alu64r(O.BPF_DIV, 0, 1)], 0n],
  ['div32 by zero is 0', [mov64i(0, 77), alu32i(O.BPF_DIV, 0, 0)], 0n],
  ['mod64 by zero leaves dst', [...set(0, 0x1234567890n), mov64i(1, 0), alu64r(O.BPF_MOD, 0, 1)], 0x1234567890n],
  ['mod32 by zero truncates dst', [...set(0, 0x1234567890n), mov64i(1, 0), alu32r(O.BPF_MOD, 0, 1)], 0x34567890n],
  ['div64 unsigned', [mov64i(0, -1), alu64i(O.BPF_DIV, 0, 2)], 0x7fffffffffffffffn],
  ['div64 imm is sign-extended', [mov64i(0, 10), alu64i(O.BPF_DIV, 0, -1)], 0n],
  ['sdiv64', [mov64i(0, -7), alu64i(O.BPF_DIV, 0, 2, 1)], BigInt.asUintN(64, -3n)],
  ['sdiv64 INT_MIN/-1', [...set(0, MIN64), alu64i(O.BPF_DIV, 0, -1, 1)], MIN64],
  ['smod64 INT_MIN%-1', [...set(0, MIN64), alu64i(O.BPF_MOD, 0, -1, 1)], 0n],
  ['smod64 sign follows dividend', [mov64i(0, -7), alu64i(O.BPF_MOD, 0, 3, 1)], BigInt.asUintN(64, -1n)],
  ['sdiv64 by zero', [mov64i(0, -7), alu64i(O.BPF_DIV, 0, 0, 1)], 0n],
  ['smod64 by zero', [mov64i(0, -7), alu64i(O.BPF_MOD, 0, 0, 1)], BigInt.asUintN(64, -7n)],
  ['sdiv32 INT_MIN/-1', [mov64i(0, -0x80000000), alu32i(O.BPF_DIV, 0, -1, 1)], 0x80000000n],
  ['smod32 by zero truncates', [mov64i(0, -7), alu32i(O.BPF_MOD, 0, 0, 1)], 0xfffffff9n],
  ['smod32', [mov64i(0, 7), alu32i(O.BPF_MOD, 0, -3, 1)], 1n],
  ['lsh64 masks shift', [mov64i(0, 1), mov64i(1, 65), alu64r(O.BPF_LSH, 0, 1)], 2n],
  ['lsh32 masks shift', [mov64i(0, 1), mov64i(1, 33), alu32r(O.BPF_LSH, 0, 1)], 2n],
  ['rsh64 logical', [mov64i(0, -1), alu64i(O.BPF_RSH, 0, 60)], 0xfn],
  ['arsh64', [mov64i(0, -16), alu64i(O.BPF_ARSH, 0, 2)], BigInt.asUintN(64, -4n)],
  ['arsh32 zero-extends', [mov64i(0, -16), alu32i(O.BPF_ARSH, 0, 2)], 0xfffffffcn],
  ['neg64', [mov64i(0, 5), alu64i(O.BPF_NEG, 0, 0)], BigInt.asUintN(64, -5n)],
  ['neg32', [mov64i(0, 5), alu32i(O.BPF_NEG, 0, 0)], 0xfffffffbn],
  ['mov32 zero-extends', [mov64i(0, -1), alu32r(O.BPF_MOV, 0, 0)], 0xffffffffn],
  ['mov64 imm sign-extends', [mov64i(0, -2)], 0xfffffffffffffffen],
  ['mov32 imm', [alu32i(O.BPF_MOV, 0, -2)], 0xfffffffen],
  ['movsx64 8', [mov64i(1, 0x80), mov64r(0, 1, 8)], 0xffffffffffffff80n],
  ['movsx64 16', [mov64i(1, 0x7fff), mov64r(0, 1, 16)], 0x7fffn],
  ['movsx64 32', [mov64i(1, -1), alu32r(O.BPF_MOV, 1, 1), mov64r(0, 1, 32)], 0xffffffffffffffffn],
  ['movsx32 8', [mov64i(1, 0x180), alu32r(O.BPF_MOV, 0, 1, 8)], 0xffffff80n],
  ['or/and/xor', [mov64i(0, 0xf0), alu64i(O.BPF_OR, 0, 0x0f), alu64i(O.BPF_AND, 0, 0x3c), alu64i(O.BPF_XOR, 0, 0xff)], 0xc3n],
  ['le16 truncates', [...set(0, 0x1122334455667788n), endian(false, 0, 16)], 0x7788n],
  ['le32 truncates', [...set(0, 0x1122334455667788n), endian(false, 0, 32)], 0x55667788n],
  ['le64 unchanged', [...set(0, 0x1122334455667788n), endian(false, 0, 64)], 0x1122334455667788n],
  ['be16 swaps', [...set(0, 0x1122334455667788n), endian(true, 0, 16)], 0x8877n],
  ['be32 swaps', [...set(0, 0x1122334455667788n), endian(true, 0, 32)], 0x88776655n],
  ['be64 swaps', [...set(0, 0x1122334455667788n), endian(true, 0, 64)], 0x8877665544332211n],
  ['bswap16', [...set(0, 0x1122334455667788n), bswap(0, 16)], 0x8877n],
  ['bswap64', [...set(0, 0x1122334455667788n), bswap(0, 64)], 0x8877665544332211n],
  ['lddw full 64 bits', [...set(0, 0xdeadbeefcafef00dn)], 0xdeadbeefcafef00dn],
  // jumps: r0 = 1 if taken
  ...(
    [
      ['jeq', O.BPF_JEQ, 5n, 5, true],
      ['jgt unsigned', O.BPF_JGT, -1n, 1, true],
      ['jsgt signed', O.BPF_JSGT, -1n, 1, false],
      ['jge', O.BPF_JGE, 1n, 1, true],
      ['jlt', O.BPF_JLT, 0n, 1, true],
      ['jle', O.BPF_JLE, 2n, 1, false],
      ['jset', O.BPF_JSET, 6n, 2, true],
      ['jne', O.BPF_JNE, 6n, 6, false],
      ['jsge', O.BPF_JSGE, -1n, -1, true],
      ['jslt', O.BPF_JSLT, -2n, -1, true],
      ['jsle', O.BPF_JSLE, 0n, -1, false],
    ] as [string, number, bigint, number, boolean][]
  ).map(([name, op, a, b, taken]): [string, Instruction[], bigint] => [name, [...set(1, BigInt.asUintN(64, a)), mov64i(0, 0), jmpi(op, 1, b, 1), ja(1), mov64i(0, 1)], taken ? 1n : 0n]),
  ['jmp32 compares low halves', [...set(1, 0x100000005n), mov64i(0, 0), jmpi(O.BPF_JEQ, 1, 5, 1, O.BPF_JMP32), ja(1), mov64i(0, 1)], 1n],
  ['jmp64 compares all', [...set(1, 0x100000005n), mov64i(0, 0), jmpi(O.BPF_JEQ, 1, 5, 1), ja(1), mov64i(0, 1)], 0n],
  ['jmp32 signed', [...set(1, 0x1ffffffffn), mov64i(0, 0), jmpi(O.BPF_JSLT, 1, 0, 1, O.BPF_JMP32), ja(1), mov64i(0, 1)], 1n],
  ['jmp imm sign-extended', [mov64i(1, -1), mov64i(0, 0), jmpi(O.BPF_JEQ, 1, -1, 1), ja(1), mov64i(0, 1)], 1n],
  ['jmp reg', [mov64i(1, 3), mov64i(2, 3), mov64i(0, 0), jmpr(O.BPF_JEQ, 1, 2, 1), ja(1), mov64i(0, 1)], 1n],
  ['gotol', [mov64i(0, 1), gotol(1), mov64i(0, 2)], 1n],
  ['loop sums 1..10', [mov64i(0, 0), mov64i(1, 10), alu64r(O.BPF_ADD, 0, 1), alu64i(O.BPF_SUB, 1, 1), jmpi(O.BPF_JNE, 1, 0, -3)], 55n],
  // memory on the stack
  ['stx/ldx dw', [...set(1, 0x1122334455667788n), stx(O.BPF_DW, 10, 1, -8), ldx(O.BPF_DW, 0, 10, -8)], 0x1122334455667788n],
  ['ldx b of dw (little-endian)', [...set(1, 0x1122334455667788n), stx(O.BPF_DW, 10, 1, -8), ldx(O.BPF_B, 0, 10, -8)], 0x88n],
  ['ldx h', [...set(1, 0x1122334455667788n), stx(O.BPF_DW, 10, 1, -8), ldx(O.BPF_H, 0, 10, -6)], 0x5566n],
  ['st imm sign-extended in dw', [st(O.BPF_DW, 10, -8, -2), ldx(O.BPF_DW, 0, 10, -8)], 0xfffffffffffffffen],
  ['st w truncates', [st(O.BPF_DW, 10, -8, 0), st(O.BPF_W, 10, -8, -1), ldx(O.BPF_DW, 0, 10, -8)], 0xffffffffn],
  ['ldsx b', [st(O.BPF_B, 10, -1, 0x80), ldx(O.BPF_B, 0, 10, -1, O.BPF_MEMSX)], 0xffffffffffffff80n],
  ['ldsx h', [st(O.BPF_H, 10, -2, 0x8000), ldx(O.BPF_H, 0, 10, -2, O.BPF_MEMSX)], 0xffffffffffff8000n],
  ['ldsx w', [st(O.BPF_W, 10, -4, -5), ldx(O.BPF_W, 0, 10, -4, O.BPF_MEMSX)], BigInt.asUintN(64, -5n)],
  // atomics
  ['atomic add dw', [st(O.BPF_DW, 10, -8, 40), mov64i(1, 2), atomic(O.BPF_DW, O.BPF_ADD, 10, 1, -8), ldx(O.BPF_DW, 0, 10, -8)], 42n],
  ['atomic fetch add returns old', [st(O.BPF_DW, 10, -8, 40), mov64i(1, 2), atomic(O.BPF_DW, O.BPF_ADD | O.BPF_FETCH, 10, 1, -8), mov64r(0, 1)], 40n],
  ['atomic add w wraps in 32 bits', [st(O.BPF_DW, 10, -8, 0), st(O.BPF_W, 10, -8, -1), mov64i(1, 1), atomic(O.BPF_W, O.BPF_ADD, 10, 1, -8), ldx(O.BPF_DW, 0, 10, -8)], 0n],
  ['atomic fetch or w zero-extends', [st(O.BPF_W, 10, -4, -1), mov64i(1, 1), atomic(O.BPF_W, O.BPF_OR | O.BPF_FETCH, 10, 1, -4), mov64r(0, 1)], 0xffffffffn],
  ['atomic and', [st(O.BPF_DW, 10, -8, 0xff), mov64i(1, 0x0f), atomic(O.BPF_DW, O.BPF_AND, 10, 1, -8), ldx(O.BPF_DW, 0, 10, -8)], 0x0fn],
  ['atomic fetch xor', [st(O.BPF_DW, 10, -8, 0xff), mov64i(1, 0x0f), atomic(O.BPF_DW, O.BPF_XOR | O.BPF_FETCH, 10, 1, -8), ldx(O.BPF_DW, 0, 10, -8), alu64i(O.BPF_LSH, 0, 8), alu64r(O.BPF_OR, 0, 1)], 0xf0ffn],
  ['xchg', [st(O.BPF_DW, 10, -8, 7), mov64i(1, 9), atomic(O.BPF_DW, O.BPF_XCHG, 10, 1, -8), ldx(O.BPF_DW, 0, 10, -8), alu64i(O.BPF_LSH, 0, 8), alu64r(O.BPF_OR, 0, 1)], 0x907n],
  ['cmpxchg hit', [st(O.BPF_DW, 10, -8, 7), mov64i(0, 7), mov64i(1, 9), atomic(O.BPF_DW, O.BPF_CMPXCHG, 10, 1, -8), ldx(O.BPF_DW, 2, 10, -8), alu64i(O.BPF_LSH, 0, 8), alu64r(O.BPF_OR, 0, 2)], 0x709n],
  ['cmpxchg miss', [st(O.BPF_DW, 10, -8, 7), mov64i(0, 6), mov64i(1, 9), atomic(O.BPF_DW, O.BPF_CMPXCHG, 10, 1, -8), ldx(O.BPF_DW, 2, 10, -8), alu64i(O.BPF_LSH, 0, 8), alu64r(O.BPF_OR, 0, 2)], 0x707n],
  ['cmpxchg w compares low 32 of r0', [st(O.BPF_W, 10, -4, 7), ...set(0, 0x500000007n), mov64i(1, 9), atomic(O.BPF_W, O.BPF_CMPXCHG, 10, 1, -4), ldx(O.BPF_W, 2, 10, -4), alu64i(O.BPF_LSH, 0, 8), alu64r(O.BPF_OR, 0, 2)], 0x709n],
  // local calls: callee gets its own 512-byte frame, r6-r9 survive
  ['local call', [mov64i(6, 5), mov64i(1, 10), st(O.BPF_DW, 10, -8, 100), callLocal(4), alu64r(O.BPF_ADD, 0, 6), ldx(O.BPF_DW, 1, 10, -8), alu64r(O.BPF_ADD, 0, 1), exit(),
    st(O.BPF_DW, 10, -8, 1), mov64i(6, 99), mov64r(0, 1), alu64i(O.BPF_MUL, 0, 2)], 125n],
];

for (const engine of ENGINES) {
  test(`semantics (${engine})`, async (t) => {
    for (const [name, body, want] of cases) {
      await t.test(name, () => assert.equal(r0(body, engine), want, name));
    }
  });
}

test('the interpreter faults on out-of-region accesses', () => {
  const bad: [string, Instruction[]][] = [
    ['below the stack', [ldx(O.BPF_DW, 0, 10, -4104)]],
    ['above the frame pointer', [ldx(O.BPF_DW, 0, 10, 0)]],
    ['NULL', [mov64i(1, 0), ldx(O.BPF_B, 0, 1, 0)]],
    ['wild', [...lddw(1, 0x7fff0000n), ldx(O.BPF_B, 0, 1, 0)]],
  ];
  for (const [name, body] of bad) {
    const vm = Vm.loadSync([...body, exit()], { verify: false });
    assert.throws(() => vm.run(undefined), /invalid read/, name);
  }
});

test('unverified programs cannot hang or recurse without bound, on either engine', () => {
  const loop = Vm.loadSync([mov64i(0, 0), ja(-1), exit()], { verify: false });
  loop.rt.maxSteps = 100_000;
  assert.throws(() => loop.run(undefined, undefined, { engine: 'interp' }), /instruction limit/);
  assert.throws(() => loop.run(undefined, undefined, { engine: 'jit' }), /backward-jump budget/);
  // f() { return f(); }
  const rec = Vm.loadSync([callLocal(1), exit(), callLocal(-1), exit()], { verify: false });
  for (const engine of ENGINES) assert.throws(() => rec.run(undefined, undefined, { engine }), /call frames/, engine);
});

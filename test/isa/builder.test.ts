// The builder: every emitter against the assembler's reading of the same instruction, label
// resolution both ways, the goto -> gotol relaxation and its limits, relocations and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Builder, BuilderError, imm, FP, R0, R1, R2, R3, R4, R5, R6, R7, R9, R10 } from '../../src/isa/builder.js';
import { assemble } from '../../src/isa/asm.js';
import { disassemble } from '../../src/isa/disasm.js';
import { insnItem, labelItem, LabelError, resolveLabels } from '../../src/isa/code.js';
import { encodeForm } from '../../src/isa/form.js';

const asm = (text: string) => assemble(text).insns;

test('each emitter encodes what its assembly text says', () => {
  const cases: Array<[(b: Builder) => unknown, string]> = [
    [(b) => b.mov64(R1, R2), 'r1 = r2'],
    [(b) => b.mov64(R1, imm(-5)), 'r1 = -5'],
    [(b) => b.mov32(R1, imm(0xffffffff)), 'w1 = -1'],
    [(b) => b.add64(R1, imm(4)), 'r1 += 4'],
    [(b) => b.sub32(R1, R2), 'w1 -= w2'],
    [(b) => b.mul64(R3, R4), 'r3 *= r4'],
    [(b) => b.div32(R3, imm(3)), 'w3 /= 3'],
    [(b) => b.sdiv64(R3, R4), 'r3 s/= r4'],
    [(b) => b.mod64(R3, imm(7)), 'r3 %= 7'],
    [(b) => b.smod32(R3, R4), 'w3 s%= w4'],
    [(b) => b.or64(R1, imm(0x10)), 'r1 |= 0x10'],
    [(b) => b.and32(R1, R2), 'w1 &= w2'],
    [(b) => b.xor64(R1, R2), 'r1 ^= r2'],
    [(b) => b.lsh64(R1, imm(3)), 'r1 <<= 3'],
    [(b) => b.rsh32(R1, R2), 'w1 >>= w2'],
    [(b) => b.arsh64(R1, imm(63)), 'r1 s>>= 63'],
    [(b) => b.neg64(R1), 'r1 = -r1'],
    [(b) => b.neg32(R1), 'w1 = -w1'],
    [(b) => b.movsx64(R1, R2, 32), 'r1 = (s32)r2'],
    [(b) => b.movsx32(R1, R2, 8), 'w1 = (s8)w2'],
    [(b) => b.be(R1, 16), 'r1 = be16 r1'],
    [(b) => b.le(R1, 64), 'r1 = le64 r1'],
    [(b) => b.bswap(R1, 32), 'r1 = bswap32 r1'],
    [(b) => b.ldx('u16', R0, R1, 12), 'r0 = *(u16 *)(r1 + 12)'],
    [(b) => b.ldx('s32', R0, R1, -4), 'r0 = *(s32 *)(r1 - 4)'],
    [(b) => b.stx('u64', FP, R1, -8), '*(u64 *)(r10 - 8) = r1'],
    [(b) => b.st('u8', FP, -1, 0x7f), '*(u8 *)(r10 - 1) = 0x7f'],
    [(b) => b.atomic('u64', 'add', R1, R2, 0), 'lock *(u64 *)(r1 + 0) += r2'],
    [(b) => b.atomic('u32', 'fetch_xor', R1, R2, 4), 'w2 = atomic_fetch_xor((u32 *)(r1 + 4), w2)'],
    [(b) => b.atomic('u64', 'xchg', R1, R2, 0), 'r2 = xchg_64(r1 + 0, r2)'],
    [(b) => b.atomic('u32', 'cmpxchg', R1, R2, 0), 'w0 = cmpxchg32_32(r1 + 0, w0, w2)'],
    [(b) => b.ldAbs('u16', 12), 'r0 = *(u16 *)skb[12]'],
    [(b) => b.ldInd('u8', R1, 14), 'r0 = *(u8 *)skb[r1 + 14]'],
    [(b) => b.lddw(R1, 0x1122334455667788n), 'r1 = 0x1122334455667788 ll'],
    [(b) => b.lddw(R1, -1), 'r1 = -1 ll'],
    [(b) => b.ldMapFd(R1, 5), 'r1 = map[id:5]'],
    [(b) => b.ldBtfId(R1, 77), 'r1 = btf_id[77]'],
    [(b) => b.call('bpf_ktime_get_ns'), 'call 5'],
    [(b) => b.call('get_current_pid_tgid'), 'call bpf_get_current_pid_tgid'],
    [(b) => b.call(6), 'call bpf_trace_printk#6'],
    [(b) => b.callKfunc(4242), 'call kfunc 4242'],
    [(b) => b.exit(), 'exit'],
    [(b) => b.loadAcquire('u32', R1, R2, 4), 'w1 = load_acquire((u32 *)(r2 + 4))'],
    [(b) => b.storeRelease('u64', R1, R2, -8), 'store_release((u64 *)(r1 - 8), r2)'],
    [(b) => b.label('top').mayGoto('top'), 'top: may_goto top'],
  ];
  for (const [emit, text] of cases) {
    const b = new Builder();
    emit(b);
    assert.deepEqual(b.build().insns, asm(text), text);
  }
});

test('labels resolve forward and backward; the program reads as expected', () => {
  const b = new Builder();
  const out = b.newLabel('out');
  const loop = b.newLabel('loop');
  assert.notEqual(out, loop);
  b.mov64(R6, R1)
    .ldMap(R1, 'counts')
    .mov64(R2, imm(0))
    .label(loop)
    .jmp('>=', R2, imm(10), out)
    .add64(R2, imm(1))
    .jmp32('s<', R2, R3, loop)
    .ja(loop)
    .label(out)
    .ldMapValue(R7, '.rodata', 16)
    .callLocal('sub')
    .mov64(R0, imm(0))
    .exit()
    .label('sub')
    .ldFunc(R2, 'sub')
    .gotol(out)
    .exit();
  const { insns, relocations, labels } = b.build();
  assert.deepEqual(relocations, [
    { slot: 1, map: 'counts', kind: 'fd', offset: 0 },
    { slot: 8, map: '.rodata', kind: 'value', offset: 16 },
  ]);
  assert.equal(labels.get('sub'), 13);
  assert.equal(
    disassemble(insns, { style: 'kernel', mapName: (s) => relocations.find((r) => r.slot === s)?.map }),
    [
      '   0: (bf) r6 = r1',
      '   1: (18) r1 = map[counts]',
      '   3: (b7) r2 = 0',
      '   4: (35) if r2 >= 0xa goto pc+3',
      '   5: (07) r2 += 1',
      '   6: (ce) if w2 s< w3 goto pc-3',
      '   7: (05) goto pc-4',
      '   8: (18) r7 = map[.rodata][0]+16',
      '  10: (85) call pc+2',
      '  11: (b7) r0 = 0',
      '  12: (95) exit',
      '  13: (18) r2 = subprog[-1]',
      '  15: (06) gotol pc-8',
      '  16: (95) exit',
      '',
    ].join('\n'),
  );
  // build() does not consume the builder
  b.mov64(R9, R10);
  assert.equal(b.build().insns.length, insns.length + 1);
  assert.equal(insns.length, 17);
});

test('a goto beyond 16 bits becomes gotol; conditionals and longJumps: false refuse', () => {
  const far = (b: Builder, jump: (b: Builder) => unknown, n = 40000): Builder => {
    jump(b);
    for (let i = 0; i < n; i++) b.mov64(R0, imm(0));
    return b.label('far').exit();
  };
  const ok = far(new Builder(), (b) => b.ja('far')).build().insns;
  assert.deepEqual(ok[0], { code: 0x06, dst: 0, src: 0, off: 0, imm: 40000 });
  assert.deepEqual(far(new Builder(), (b) => b.ja('far'), 32767).build().insns[0], { code: 0x05, dst: 0, src: 0, off: 32767, imm: 0 });
  assert.throws(() => far(new Builder({ longJumps: false }), (b) => b.ja('far'), 32768).build(),
    /jump at slot 0 to 'far' spans 32768 slots, beyond a 16-bit offset \(gotol disabled by longJumps: false\)/);
  assert.throws(() => far(new Builder(), (b) => b.jmp('==', R1, imm(0), 'far')).build(),
    /jump at slot 0 to 'far' spans 40000 slots, beyond a 16-bit offset \(invert the condition and use ja\/gotol\)/);
  // backward, just in and just out of range
  const back = (n: number): Builder => {
    const b = new Builder().label('top');
    for (let i = 0; i < n; i++) b.mov64(R0, imm(0));
    return b.ja('top');
  };
  assert.equal(back(32767).build().insns[32767]!.off, -32768);
  assert.deepEqual(back(32768).build().insns[32768], { code: 0x06, dst: 0, src: 0, off: 0, imm: -32769 });
});

test('builder errors', () => {
  assert.throws(() => new Builder().ja('nowhere').exit().build(), /undefined label 'nowhere' \(used at slot 0\)/);
  assert.throws(() => new Builder().label('a').exit().label('a'), /label 'a' is already placed at slot 0/);
  assert.throws(() => new Builder().ja('end').exit().label('end').build(), /label 'end' \(used at slot 0\) is past the last instruction/);
  assert.throws(() => new Builder().call('bpf_no_such_helper' as 'bpf_map_lookup_elem'), /unknown helper 'bpf_no_such_helper'/);
  assert.throws(() => new Builder().mov64(11, R1), /slot 0: register r11 is the kernel's own/);
  assert.throws(() => new Builder().mov64(R1, 12), BuilderError);
  assert.throws(() => new Builder().mov64(R1, imm(2 ** 32)), /slot 0: mov: immediate 4294967296 does not fit in 32 bits/);
  assert.throws(() => new Builder().ldx('u8', R1, R2, 40000), /slot 0: ldx: offset 40000 does not fit in 16 signed bits/);
  assert.throws(() => new Builder().stx('s8' as 'u8', R1, R2, 0), /stores take unsigned types, not 's8'/);
  assert.throws(() => new Builder().jmp('<>' as '==', R1, R2, 'x'), /unknown jump condition '<>'/);
  assert.throws(() => new Builder().lddw(R1, 0.5), /lddw: 0.5 is not an integer/);
  assert.throws(() => new Builder().ldMapValue(R1, 'm', -1), /offset -1 is not an unsigned 32-bit number/);
  assert.throws(() => new Builder().movsx32(R1, R2, 32 as 8), /movsx: 32-bit sign extension needs ALU64/);
  // the failing emitter leaves nothing half-written
  const b = new Builder().mov64(R5, R1);
  assert.throws(() => b.add64(R1, imm(2 ** 40)));
  assert.equal(b.length, 1);
});

test('source spans: each slot carries the span it was emitted under, errors name the line', () => {
  const s1 = { line: 1, col: 3, start: 2, end: 5 };
  const s2 = { line: 2, col: 1, start: 9, end: 12 };
  const r = new Builder().at(s1).mov64(R0, imm(1)).lddw(R1, 1n << 40n).at(s2).exit().at(undefined).exit().build();
  assert.deepEqual(r.spans, [s1, s1, s1, s2, undefined]);
  assert.throws(() => new Builder().at(s2).mov64(R1, imm(2 ** 32)), /slot 0 \(line 2:1\): mov: immediate/);
});

test('movImm: one mov for a 32-bit signed value, lddw beyond', () => {
  const ops = (v: bigint | number): string => disassemble(new Builder().movImm(R1, v).build().insns, { style: 'kernel' }).replace(/^\s*\d+: \([0-9a-f]{2}\) /gm, '').trim();
  assert.equal(ops(-5), 'r1 = -5');
  assert.equal(ops(0x7fffffff), 'r1 = 2147483647');
  assert.equal(ops(0x80000000), 'r1 = 0x80000000'); // kernel syntax: lddw without the ll
  assert.equal(ops(-(2n ** 40n)), 'r1 = 0xffffff0000000000');
});

test('labelled code: a pass may rewrite the items and resolve them itself', () => {
  const b = new Builder().jmp('==', R1, imm(0), 'out').mov64(R0, imm(1)).label('out').exit();
  const items = b.items();
  assert.deepEqual(items.map((it) => (it.label >= 0 ? `L${it.label}` : it.target >= 0 ? `j${it.target}` : 'i')), ['j0', 'i', 'L0', 'i']);
  assert.equal(b.labelCount, 1);
  // drop the mov: the jump still lands on the label
  const { insns } = resolveLabels(items.filter((_, k) => k !== 1));
  assert.deepEqual(insns.map((i) => i.off), [0, 0]);
  // a label after the last instruction: refused, unless the code is not a whole program yet
  const end = [insnItem(encodeForm({ kind: 'ja', off: 0 })[0]!, 0), labelItem(0)];
  assert.throws(() => resolveLabels(end), (e: unknown) => e instanceof LabelError && e.why === 'undefined' && e.slot === 0);
  assert.equal(resolveLabels(end, { labelAtEnd: true }).insns[0]!.off, 0);
});

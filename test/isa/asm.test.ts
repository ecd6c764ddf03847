// The assembler: syntax accepted beyond what the disassembler prints (labels, names, comments,
// relocations), and malformed input: a positioned AsmError, never another exception or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, AsmError } from '../../src/isa/asm.js';
import { encodeForm } from '../../src/isa/form.js';
import { disassemble } from '../../src/isa/disasm.js';
import { allForms } from './forms.js';

test('labels, comments, helper names, relocations', () => {
  const r = assemble(`
    ; count events per cpu   (comment)
    // another comment
    # and a third
  entry:                       # label on its own line
    r1 = map[counts] ll        // map reference
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem   ; by name
    if r0 == 0 goto out
    lock *(u64 *)(r0 + 0) += r6
    r3 = map[.data][0] + 8 ll
    call map_update_elem       ; without the bpf_ prefix
    call helper
  out: r0 = 0
    exit
  helper:
    goto entry
    r0 = 1
    exit
  `);
  assert.deepEqual([...r.labels], [['entry', 0], ['out', 11], ['helper', 13]]);
  assert.deepEqual(r.relocations, [
    { slot: 0, map: 'counts', kind: 'fd', offset: 0 },
    { slot: 7, map: '.data', kind: 'value', offset: 8 },
  ]);
  assert.equal(r.insns[0]!.src, 1); // BPF_PSEUDO_MAP_FD
  assert.equal(r.insns[7]!.src, 2); // BPF_PSEUDO_MAP_VALUE, offset in the second slot
  assert.equal(r.insns[8]!.imm, 8);
  assert.equal(r.insns[4]!.imm, 1);
  assert.equal(r.insns[5]!.off, 11 - 6); // if r0 == 0 goto out
  assert.deepEqual(r.insns[10], { code: 0x85, dst: 0, src: 1, off: 0, imm: 13 - 11 }); // local call
  assert.equal(r.insns[13]!.off, -14); // backward goto entry
  assert.equal(r.insns[9]!.imm, 2); // bpf_map_update_elem
});

test('kernel verifier-log lines assemble, with the opcode checked', () => {
  const log = `
0: (b7) r6 = 0
1: (63) *(u32 *)(r10 -4) = r6
2: (bf) r2 = r10
3: (07) r2 += -4
4: (18) r1 = map[id:42]
6: (85) call bpf_map_lookup_elem#1
7: (15) if r0 == 0x0 goto pc+2
8: (db) r1 = atomic64_fetch_add((u64 *)(r0 +0), r1)
9: (18) r1 = 0x5
11: (95) exit`;
  const r = assemble(log);
  assert.equal(r.insns.length, 12);
  assert.equal(r.insns[9]!.code, 0x18); // (18) makes `r1 = 0x5` an lddw
  const want = log.trim().split('\n').map((l) => l.replace(/^(\d+):/, (_, n: string) => `${n.padStart(4)}:`));
  assert.deepEqual(disassemble(r.insns, { style: 'kernel' }).split('\n').slice(0, -1), want);
  assert.throws(() => assemble('(07) r1 = 5'), /line 1:1: opcode \(07\) does not match the instruction, which encodes as \(b7\)/);
});

test('immediates: hex, decimal, signed and unsigned 32-bit, and lddw promotion', () => {
  const one = (s: string) => assemble(s).insns;
  assert.deepEqual(one('w1 = 0xffffffff'), one('w1 = -1'));
  assert.deepEqual(one('if r1 == 0xffffffff goto +0'), one('if r1 == -1 goto +0'));
  assert.equal(one('r1 = 0x80000000').length, 2); // does not sign-extend as a mov would: lddw
  assert.equal(one('r1 = -0x80000000').length, 1);
  assert.deepEqual(one('r1 = 18446744073709551615 ll'), one('r1 = -1 ll'));
  assert.deepEqual(one('*(u8 *)(r1 +0) = 1'), one('*(u8 *)(r1 + 0x0) = 0x1'));
});

const BAD: Array<[string, RegExp]> = [
  ['r12 = 0', /^line 1:1: no register r12/],
  ['r1 = ', /^line 1:5: expected a value, found end of line/],
  ['if r1 > 2 +3', /^line 1:11: expected 'goto', found '\+'/],
  ['if r1 >> 2 goto +1', /^line 1:8: expected a register or immediate, found '>'/],
  ['if r1 = 2 goto +1', /^line 1:7: expected a comparison/],
  ['goto nowhere', /^line 1:6: undefined label 'nowhere'/],
  ['a:\nexit\na: exit', /^line 3:1: label 'a' is already defined on line 1/],
  ['w1 += r2', /^line 1:7: r2 and w1 differ in width/],
  ['r1 = 0x100000000', /^line 1:1: .*/], // fine: lddw (checked below), placeholder replaced
  ['r1 += 0x100000000', /^line 1:7: immediate 4294967296 does not fit in 32 bits/],
  ['r1 = *(u32 *)(r2 + 40000)', /^line 1:20: offset 40000 does not fit in 16 signed bits/],
  ['r1 = *(u33 *)(r2 + 0)', /^line 1:8: expected a type/],
  ['r2 = -r3', /^line 1:7: negation is in place/],
  ['r2 = be16 r3', /^line 1:11: byte swaps are in place/],
  ['r1 = *(s64 *)(r2 + 0)', /^line 1:8: expected a type/],
  ['w1 = *(u64 *)(r2 + 0)', /^line 1:1: w1: a 64-bit load needs an r register/],
  ['*(s8 *)(r1 + 0) = r2', /^line 1:3: stores take unsigned types/],
  ['r1 = *(u8 *)skb[4]', /^line 1:1: packet loads always load into r0/],
  ['r1 = 0 ll ll', /^line 1:11: expected end of instruction, found 'll'/],
  ['call bpf_map_lookup_elem#2', /^line 1:26: bpf_map_lookup_elem is helper 1, not 2/],
  ['call no_such_thing', /^line 1:6: 'no_such_thing' is neither a helper nor a label/],
  ['lock *(u16 *)(r1 + 0) += r2', /^line 1:8: atomics are 32 or 64-bit/],
  ['lock *(u64 *)(r1 + 0) -= r2', /^line 1:23: expected \+=, \|=, &= or \^=, found '-='/],
  ['r3 = cmpxchg_64(r1 + 0, r0, r2)', /^line 1:1: cmpxchg compares with and returns in r0/],
  ['r3 = xchg_64(r1 + 0, r2)', /^line 1:22: the value register is also the result/],
  ['r1 = map[m][1] ll', /^line 1:13: direct map value access is to element \[0\] only/],
  ['<unknown>', /^line 1:1: expected an instruction, found '<'/],
  ['r1 = 5 @', /^line 1:8: unexpected character '@'/],
  ['w1 = (s32)w2', /^line 1:1: movsx: 32-bit sign extension needs ALU64/],
  ['  \n\n  exit\n  goto +70000', /^line 4:8: jump offset 70000 does not fit in 16 signed bits/],
  ['(18)', /^line 1:1: expected an instruction after the opcode/],
];

test('malformed input: clear errors with line and column', () => {
  for (const [src, want] of BAD) {
    if (src === 'r1 = 0x100000000') {
      assert.equal(assemble(src).insns.length, 2);
      continue;
    }
    assert.throws(() => assemble(src), (e: unknown) => {
      assert.ok(e instanceof AsmError, `${src}: ${String(e)}`);
      assert.match(e.message, want, src);
      return true;
    });
  }
});

test('jump out of 16-bit range to a label asks for gotol', () => {
  const far = ['goto far', ...Array(40000).fill('r0 = 0'), 'far: exit'].join('\n');
  assert.throws(() => assemble(far), /line 1:6: 'far' is 40000 slots away, beyond a 16-bit jump offset \(use gotol\)/);
  const r = assemble(far.replace('goto far', 'gotol far'));
  assert.equal(r.insns[0]!.imm, 40000);
});

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: mutated valid listings and token soup give results or AsmError only', () => {
  const rand = rng(9669);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const lines = disassemble(allForms().flatMap((f) => encodeForm(f)), { style: rand() < 0.5 ? 'llvm' : 'kernel' }).split('\n');
  const kernelLines = disassemble(allForms().flatMap((f) => encodeForm(f)), { style: 'kernel' }).split('\n');
  const pool = [...lines, ...kernelLines].filter((l) => l.trim());
  const junk = ['(', ')', '[', ']', '*', '+', '-', '=', '==', 's>', 'r1', 'w2', 'r10', '0x', '0xffffffffffffffffff', 'goto', 'call', 'll', 'map', 'skb', '#', ':', ';', '<', '>', 'lock', 'u64', 's8', ',', 'pc', '\t', ' ', 'label:', 'if', 'exit', '99999999999999999999'];
  let errors = 0;
  let ok = 0;
  for (let n = 0; n < 4000; n++) {
    let text: string;
    if (rand() < 0.6) {
      const chars = [...pick(pool)];
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (chars.length + 1));
        const r = rand();
        if (r < 0.33) chars.splice(at, 1);
        else if (r < 0.66) chars.splice(at, 0, pick(junk));
        else chars.splice(at, 0, String.fromCharCode(32 + Math.floor(rand() * 95)));
      }
      text = chars.join('');
    } else {
      text = Array.from({ length: 1 + Math.floor(rand() * 10) }, () => pick(junk)).join(rand() < 0.5 ? ' ' : '');
    }
    try {
      assemble(text);
      ok++;
    } catch (e) {
      if (!(e instanceof AsmError)) throw new Error(`input ${JSON.stringify(text)} threw ${String(e)}`);
      assert.ok(e.line >= 1 && e.col >= 1, `${JSON.stringify(text)}: position ${e.line}:${e.col}`);
      errors++;
    }
  }
  assert.ok(errors > 1000 && ok > 100, `errors ${errors}, ok ${ok}`);
});
